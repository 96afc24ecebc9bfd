package rules

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
)

// Action templates (action_topic, action_payload, params) take
// placeholders: {topic}, {payload}, {value}, {device}, {rule} and {1},
// {2}, ... the levels of the trigger topic, counted from 1. Anything
// else between braces is left as written, so JSON payloads need no
// escaping.
var placeholder = regexp.MustCompile(`\{(topic|payload|value|device|rule|[1-9][0-9]*)\}`)

// vars are the values of one firing's placeholders.
type vars struct {
	topic   string
	payload string
	value   string
	device  string
	rule    string // the rule's name
}

// lookup is the value of a placeholder's name.
func (v vars) lookup(name string) string {
	switch name {
	case "topic":
		return v.topic
	case "payload":
		return v.payload
	case "value":
		return v.value
	case "device":
		return v.device
	case "rule":
		return v.rule
	}
	n, _ := strconv.Atoi(name)
	levels := strings.Split(v.topic, "/")
	if v.topic == "" || n < 1 || n > len(levels) {
		return ""
	}
	return levels[n-1]
}

// render fills a template's placeholders.
func render(tmpl string, v vars) string {
	return placeholder.ReplaceAllStringFunc(tmpl, func(m string) string { return v.lookup(m[1 : len(m)-1]) })
}

// renderJSON fills a JSON template, each value escaped as inside a JSON
// string (so "{payload}" stays one string, and {value} unquoted a
// number when it is one), and decodes it; "" is {}.
func renderJSON(tmpl string, v vars) (map[string]any, error) {
	if strings.TrimSpace(tmpl) == "" {
		return map[string]any{}, nil
	}
	s := placeholder.ReplaceAllStringFunc(tmpl, func(m string) string {
		b, _ := json.Marshal(v.lookup(m[1 : len(m)-1])) // a string always marshals
		return string(b[1 : len(b)-1])
	})
	var out map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// asFilter turns a topic template into the filter of every topic it can
// render: a level holding a single-level placeholder ({1}, {device},
// {rule}) matches any level, "+"; one holding {topic}, {payload} or
// {value}, which may contain "/", matches anything from there, "#".
func asFilter(tmpl string) string {
	levels := strings.Split(tmpl, "/")
	for i, l := range levels {
		names := placeholder.FindAllStringSubmatch(l, -1)
		if len(names) == 0 {
			continue
		}
		levels[i] = "+"
		for _, n := range names {
			if n[1] == "topic" || n[1] == "payload" || n[1] == "value" {
				return strings.Join(append(levels[:i], "#"), "/")
			}
		}
	}
	return strings.Join(levels, "/")
}
