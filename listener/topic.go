package listener

import "strings"

// matchTopic reports whether a message's topic matches a subscription's
// topic filter (MQTT 3.1.1 §4.7): "+" matches one whole level, "#" the
// rest including the parent level ("a/#" matches "a"), a shared
// subscription "$share/<group>/<filter>" (and EMQX's "$queue/<filter>")
// matches as its filter does, and a topic beginning with "$" is not
// matched by a filter beginning with a wildcard [MQTT-4.7.2-1].
func matchTopic(filter, topic string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, found := strings.Cut(rest, "/")
		if !found {
			return false
		}
		filter = f
	} else if rest, ok := strings.CutPrefix(filter, "$queue/"); ok {
		filter = rest
	}
	if filter == "" || topic == "" {
		return false
	}
	if topic[0] == '$' && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		switch {
		case !fmore:
			return !tmore
		case !tmore:
			return frest == "#" // "a/#" also matches "a"
		}
		filter, topic = frest, trest
	}
}

// filterTopic is the filter part of a topic filter, without a shared
// subscription prefix: what paho routes by and what an exact topic equals.
func filterTopic(filter string) string {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		_, f, _ := strings.Cut(rest, "/")
		return f
	}
	if rest, ok := strings.CutPrefix(filter, "$queue/"); ok {
		return rest
	}
	return filter
}
