// Package topic is the MQTT topic grammar of the project, in one place:
// which topic filters and topic names are valid (MQTT 3.1.1 §4.7, with
// shared subscriptions), whether a filter matches a topic, and how two
// filters relate (one covers the other, or they overlap).
//
// A shared subscription "$share/<group>/<filter>" (and EMQX's
// "$queue/<filter>") matches as its filter does; a topic beginning with
// "$" is not matched by a filter beginning with a wildcard
// [MQTT-4.7.2-1].
package topic

import (
	"fmt"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/py"
)

// MaxLen is the longest topic or filter MQTT can carry, in bytes.
const MaxLen = 65535

// The prefixes of shared subscriptions: MQTT 5's (also Mosquitto's and
// EMQX's under 3.1.1) and EMQX's group-less one.
const (
	SharePrefix = "$share/"
	QueuePrefix = "$queue/"
)

// ValidateFilter checks an MQTT topic filter (MQTT 3.1.1 §4.7): not
// empty, "#" only as the last level, "+" and "#" alone in their level, no
// NUL, at most 65535 bytes, and "$share/<group>/<filter>" with a group
// name free of wildcards.
func ValidateFilter(filter string) error {
	if filter == "" {
		return fmt.Errorf("a topic filter must not be empty")
	}
	if len(filter) > MaxLen || strings.ContainsRune(filter, 0) {
		return fmt.Errorf("%s is not a valid topic filter", py.Repr(filter))
	}
	if group, f, shared := SplitShared(filter); shared {
		if group == "" || strings.ContainsAny(group, "+#") || f == "" {
			return fmt.Errorf("%s: a shared subscription is $share/<group>/<filter>", py.Repr(filter))
		}
		filter = f
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return fmt.Errorf("%s: '#' must be the whole last level", py.Repr(filter))
		}
		if strings.Contains(l, "+") && l != "+" {
			return fmt.Errorf("%s: '+' must be a whole level", py.Repr(filter))
		}
	}
	return nil
}

// ValidateName checks a topic to publish on: a valid filter without
// wildcards.
func ValidateName(topic string) error {
	if strings.ContainsAny(topic, "+#") {
		return fmt.Errorf("%s: wildcards are not allowed in a topic to publish on", py.Repr(topic))
	}
	if strings.HasPrefix(topic, SharePrefix) {
		return fmt.Errorf("%s: cannot publish on a shared subscription", py.Repr(topic))
	}
	return ValidateFilter(topic)
}

// SplitShared splits a shared subscription "$share/<group>/<filter>"
// into its group and filter; shared is false for any other filter. Without
// a "/" after the group, filter is "".
func SplitShared(s string) (group, filter string, shared bool) {
	rest, shared := strings.CutPrefix(s, SharePrefix)
	if !shared {
		return "", "", false
	}
	group, filter, _ = strings.Cut(rest, "/")
	return group, filter, true
}

// Filter is the filter part of a topic filter, without a shared
// subscription prefix ($share/<group>/ or $queue/): what a client routes
// received messages by, and what an exact topic equals.
func Filter(filter string) string {
	if _, f, shared := SplitShared(filter); shared {
		return f
	}
	if rest, ok := strings.CutPrefix(filter, QueuePrefix); ok {
		return rest
	}
	return filter
}

// Match reports whether a message's topic matches a subscription's topic
// filter (MQTT 3.1.1 §4.7): "+" matches one whole level, "#" the rest
// including the parent level ("a/#" matches "a"), a shared subscription
// matches as its filter does, and a topic beginning with "$" is not
// matched by a filter beginning with a wildcard [MQTT-4.7.2-1]. Neither
// side is validated: an empty filter or topic matches nothing.
func Match(filter, topic string) bool {
	filter = Filter(filter)
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

// Covers reports whether every topic filter d matches is matched by
// filter f. A shared subscription f covers nothing: its messages go to
// one member of its group, not necessarily this client. d is taken as
// written (not a shared subscription).
func Covers(f, d string) bool {
	if strings.HasPrefix(f, SharePrefix) || strings.HasPrefix(f, QueuePrefix) {
		return false
	}
	if f == "" || d == "" {
		return false
	}
	if (f[0] == '+' || f[0] == '#') && d[0] == '$' {
		return false // wildcards do not match $ topics [MQTT-4.7.2-1]
	}
	for {
		fl, frest, fmore := strings.Cut(f, "/")
		if fl == "#" {
			return true
		}
		dl, drest, dmore := strings.Cut(d, "/")
		if dl == "#" || fl != "+" && (dl == "+" || fl != dl) {
			return false
		}
		switch {
		case !fmore && !dmore:
			return true
		case fmore && !dmore:
			return frest == "#" // "a/#" also matches "a"
		case !fmore:
			return false
		}
		f, d = frest, drest
	}
}

// Overlap reports whether some topic may match both filters, shared
// subscriptions taken by their filter. It errs towards yes: the rule that
// leading wildcards skip "$" topics is not applied.
func Overlap(a, b string) bool {
	a, b = Filter(a), Filter(b)
	if a == "" || b == "" {
		return false
	}
	for {
		al, arest, amore := strings.Cut(a, "/")
		bl, brest, bmore := strings.Cut(b, "/")
		if al == "#" || bl == "#" {
			return true
		}
		if al != "+" && bl != "+" && al != bl {
			return false
		}
		switch {
		case !amore && !bmore:
			return true
		case amore && !bmore:
			return arest == "#"
		case !amore && bmore:
			return brest == "#"
		}
		a, b = arest, brest
	}
}
