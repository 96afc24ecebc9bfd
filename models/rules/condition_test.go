package rules_test

import (
	"strings"
	"testing"
)

// TestConditions runs payload sequences through one rule each and counts
// the firings, with what the last one published ({value} as payload).
func TestConditions(t *testing.T) {
	cases := []struct {
		name     string
		vals     map[string]any
		payloads []string
		fires    int
		last     string // the last published payload
	}{
		{"> 28 with hysteresis 2 fires once", map[string]any{"operator": ">", "value": "28", "hysteresis": 2.0},
			[]string{"25", "29", "30", "27", "25.5"}, 1, "29"},
		{"> 28 re-arms below 26 and fires again", map[string]any{"operator": ">", "value": "28", "hysteresis": 2.0},
			[]string{"25", "29", "25.5", "28.5"}, 2, "28.5"},
		{"> 28 without hysteresis re-arms at 28", map[string]any{"operator": ">", "value": "28"},
			[]string{"25", "29", "28", "29"}, 2, "29"},
		{"< 26 mirror fires once", map[string]any{"operator": "<", "value": "26"},
			[]string{"25", "29", "30", "27", "25.5"}, 1, "25.5"},
		{"< 26 with hysteresis 2 re-arms above 28", map[string]any{"operator": "<", "value": "26", "hysteresis": 2.0},
			[]string{"27", "25", "27", "24", "29", "25"}, 2, "25"},
		{">= and <= include the threshold", map[string]any{"operator": ">=", "value": "28"},
			[]string{"27", "28"}, 1, "28"},
		{"a first value past the threshold does not fire", map[string]any{"operator": ">", "value": "28"},
			[]string{"30", "31"}, 0, ""},
		{"text is not a number for a threshold", map[string]any{"operator": ">", "value": "28"},
			[]string{"1", "hot", "29"}, 1, "29"},
		{"changed fires on each new value", map[string]any{"operator": "changed"},
			[]string{"on", "on", "off", "off", "on"}, 2, "on"},
		{"regex", map[string]any{"operator": "regex", "value": `^err(or)?\b`},
			[]string{"ok", "error 5", "err", "terror"}, 2, "err"},
		{"contains", map[string]any{"operator": "contains", "value": "alarm"},
			[]string{"fire alarm", "quiet", "alarm!"}, 2, "alarm!"},
		{"= compares numbers when both are", map[string]any{"operator": "=", "value": "1"},
			[]string{"1.0", "2", "01"}, 2, "01"},
		{"!= text", map[string]any{"operator": "!=", "value": "idle"},
			[]string{"idle", "busy"}, 1, "busy"},
		{"any fires on every message", map[string]any{"operator": "any"},
			[]string{"a", "b", "c"}, 3, "c"},
		{"JSON path into an array", map[string]any{"operator": ">", "value": "28", "json_path": "sensors[1].value"},
			[]string{`{"sensors":[{"value":99},{"value":20}]}`, `{"sensors":[{"value":0},{"value":29.5}]}`, `not json`}, 1, "29.5"},
		{"$-rooted JSON path", map[string]any{"operator": "=", "value": "on", "json_path": "$.state.power"},
			[]string{`{"state":{"power":"off"}}`, `{"state":{"power":"on"}}`, `{"state":{}}`}, 1, "on"},
		{"JSON path to a string holding a number", map[string]any{"operator": "<", "value": "10", "json_path": "$.t"},
			[]string{`{"t":"12"}`, `{"t":"9.5"}`}, 1, "9.5"},
		{"$ is the whole JSON document", map[string]any{"operator": "changed", "json_path": "$"},
			[]string{`{"a":1}`, ` {"a":1}`, `[1,2]`}, 1, "[1,2]"},
	}
	forEachDB(t, func(t *testing.T, a *app) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				topic := "sensor/c" + strings.Repeat("x", i) + "/temp"
				id := a.rule(c.vals)
				a.values(topic, c.payloads...)
				// Firings are told on the bus within Evaluate: their count
				// is exact at once; the actions' log rows follow.
				rows := []map[string]any{}
				if c.fires > 0 {
					rows = a.waitLogs(id, c.fires)
				}
				if got := len(a.fired(id)); got != c.fires {
					t.Fatalf("%d firings, want %d", got, c.fires)
				}
				if len(rows) != c.fires {
					t.Fatalf("%d log rows, want %d: %v", len(rows), c.fires, rows)
				}
				if c.fires > 0 {
					if act := rows[len(rows)-1]["action"].(string); !strings.HasSuffix(act, ": "+c.last) {
						t.Errorf("last action %q, want the payload %q", act, c.last)
					}
				}
				// Archive it: the next cases' messages must not fire it.
				a.exec("mqtt.rule", "write", []any{[]any{id}, map[string]any{"active": false}}, nil)
			})
		}
	})
}
