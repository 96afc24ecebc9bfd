package topic

import (
	"strings"
	"testing"
)

func TestValidateFilter(t *testing.T) {
	cases := []struct {
		filter string
		err    string // "" when valid
	}{
		{"a/b", ""},
		{"#", ""},
		{"+", ""},
		{"a/+/c", ""},
		{"a/#", ""},
		{"+/+/#", ""},
		{"/", ""}, // empty levels are levels
		{"a//b", ""},
		{"$SYS/#", ""},
		{"$share/g1/sensors/#", ""},
		{"$share/g1/+", ""},
		{"$queue/jobs/+", ""}, // EMQX's prefix is an ordinary first level here
		{"a b/ü", ""},
		{strings.Repeat("a", MaxLen), ""},
		{"", "a topic filter must not be empty"},
		{strings.Repeat("a", MaxLen+1), "is not a valid topic filter"},
		{"a/\x00", `'a/\x00' is not a valid topic filter`},
		{"a/#/b", `'a/#/b': '#' must be the whole last level`},
		{"a#", `'a#': '#' must be the whole last level`},
		{"#/", `'#/': '#' must be the whole last level`},
		{"a/b+", `'a/b+': '+' must be a whole level`},
		{"++", `'++': '+' must be a whole level`},
		{"$share/g1", `'$share/g1': a shared subscription is $share/<group>/<filter>`},
		{"$share/g1/", `'$share/g1/': a shared subscription is $share/<group>/<filter>`},
		{"$share//a", `'$share//a': a shared subscription is $share/<group>/<filter>`},
		{"$share/g+/a", `'$share/g+/a': a shared subscription is $share/<group>/<filter>`},
		{"$share/#/a", `'$share/#/a': a shared subscription is $share/<group>/<filter>`},
		{"$share/g/a/#/b", `'a/#/b': '#' must be the whole last level`}, // the filter part is named
		{"$share/g/a+", `'a+': '+' must be a whole level`},
	}
	for _, c := range cases {
		err := ValidateFilter(c.filter)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("ValidateFilter(%.40q) = %v, want nil", c.filter, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ValidateFilter(%.40q) = %v, want %q", c.filter, err, c.err)
		}
	}
}

func TestValidateName(t *testing.T) {
	cases := []struct {
		name string
		err  string // "" when valid
	}{
		{"a/b", ""},
		{"/", ""},
		{"$SYS/x", ""},
		{"$queue/jobs", ""},
		{"$share", ""}, // no "/": not a shared subscription
		{"", "a topic filter must not be empty"},
		{"a/+", `'a/+': wildcards are not allowed in a topic to publish on`},
		{"#", `'#': wildcards are not allowed in a topic to publish on`},
		{"a#b", `'a#b': wildcards are not allowed in a topic to publish on`},
		{"$share/g/a", `'$share/g/a': cannot publish on a shared subscription`},
		{"$share/g+/a", `'$share/g+/a': wildcards are not allowed in a topic to publish on`},
		{"a\x00", `'a\x00' is not a valid topic filter`},
		{strings.Repeat("a", MaxLen+1), "is not a valid topic filter"},
	}
	for _, c := range cases {
		err := ValidateName(c.name)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("ValidateName(%.40q) = %v, want nil", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ValidateName(%.40q) = %v, want %q", c.name, err, c.err)
		}
	}
}

func TestSplitShared(t *testing.T) {
	cases := []struct {
		in, group, filter string
		shared            bool
	}{
		{"$share/g1/a/b", "g1", "a/b", true},
		{"$share/g1/", "g1", "", true},
		{"$share/g1", "g1", "", true},
		{"$share/", "", "", true},
		{"$share", "", "", false},
		{"$queue/a", "", "", false},
		{"a/b", "", "", false},
	}
	for _, c := range cases {
		g, f, s := SplitShared(c.in)
		if g != c.group || f != c.filter || s != c.shared {
			t.Errorf("SplitShared(%q) = %q, %q, %v; want %q, %q, %v", c.in, g, f, s, c.group, c.filter, c.shared)
		}
	}
}

func TestFilter(t *testing.T) {
	cases := map[string]string{
		"a/+":              "a/+",
		"$share/g/a/+":     "a/+",
		"$share/g":         "",
		"$queue/jobs/#":    "jobs/#",
		"$SYS/#":           "$SYS/#",
		"$share/g/$SYS/#":  "$SYS/#",
		"$queue/$share/g/": "$share/g/",
	}
	for in, want := range cases {
		if got := Filter(in); got != want {
			t.Errorf("Filter(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		filter, topic string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a/", true}, // an empty level is a level
		{"a/+/c", "a/b/c", true},
		{"a/+/c", "a/b/d", false},
		{"+/+", "/x", true},
		{"+", "a", true},
		{"+", "a/b", false},
		{"a/#", "a", true}, // "#" includes the parent level
		{"a/#", "a/b/c", true},
		{"a/#", "ab", false},
		{"#", "a/b/c", true},
		{"#", "/", true},
		{"sport/tennis/#", "sport/tennis/player1/ranking", true},
		{"sport/tennis/+", "sport/tennis", false},
		{"+/tennis/#", "sport/tennis", true},
		// $-topics are not matched by a leading wildcard [MQTT-4.7.2-1].
		{"#", "$SYS/broker/uptime", false},
		{"+/monitor/Clients", "$SYS/monitor/Clients", false},
		{"$SYS/#", "$SYS/broker/uptime", true},
		{"$SYS/monitor/+", "$SYS/monitor/Clients", true},
		{"a/+", "a/$x", true}, // only the first level is special
		// Shared subscriptions match as their filter does.
		{"$share/g1/sensors/#", "sensors/t1/temp", true},
		{"$share/g1/sensors/+", "sensors/t1/temp", false},
		{"$share/g1/#", "$SYS/x", false},
		{"$share/g1", "g1", false},
		{"$share/g1/", "g1", false},
		{"$queue/jobs/+", "jobs/1", true},
		// Case matters and nothing is trimmed.
		{"A/b", "a/b", false},
		{"a /b", "a/b", false},
		{"", "a", false},
		{"a", "", false},
	}
	for _, c := range cases {
		if got := Match(c.filter, c.topic); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.filter, c.topic, got, c.want)
		}
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		f, d  string
		cover bool
	}{
		{"#", "device/+/info", true},
		{"device/#", "device/+/telemetry/+", true},
		{"device/+/telemetry/#", "device/+/telemetry/+", true},
		{"device/+/info", "device/+/info", true},
		{"+/+/info", "device/+/info", true},
		{"device/#", "device", true},
		{"device/lamp-1/#", "device/+/info", false},
		{"device/+/info", "device/lamp-1/info", true},
		{"device/lamp-1/info", "device/+/info", false},
		{"device/+/telemetry/+", "device/+/telemetry/#", false},
		{"device/+", "device/+/info", false},
		{"device/+/info/x", "device/+/info", false},
		{"#", "$SYS/+/info", false},
		{"$SYS/#", "$SYS/+/info", true},
		{"$share/g/#", "device/+/info", false},
		{"$queue/#", "device/+/info", false},
		{"/homecontrol/#", "/homecontrol/device/data/+", true},
		{"homecontrol/#", "/homecontrol/device/data/+", false},
		{"", "a", false},
		{"a", "", false},
	}
	for _, c := range cases {
		if got := Covers(c.f, c.d); got != c.cover {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.f, c.d, got, c.cover)
		}
	}
}

func TestOverlap(t *testing.T) {
	cases := []struct {
		a, b    string
		overlap bool
	}{
		{"device/lamp-1/#", "device/+/info", true},
		{"device/+/info", "device/lamp-1/info", true},
		{"device/+/info", "device/+/event", false},
		{"device/+", "device/+/info", false},
		{"device/+/#", "device/x", true},
		{"a/b", "a/b", true},
		{"$share/g/device/#", "device/+/info", true},
		{"$queue/device/#", "device/+/info", true},
		{"other/#", "device/+/info", false},
		{"", "#", false},
	}
	for _, c := range cases {
		if got := Overlap(c.a, c.b); got != c.overlap {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.a, c.b, got, c.overlap)
		}
		if got := Overlap(c.b, c.a); got != c.overlap {
			t.Errorf("Overlap(%q, %q) = %v, want %v", c.b, c.a, got, c.overlap)
		}
	}
}

// FuzzMatch checks what the grammar promises for any filters a, b and
// topic name n: a valid name matches itself as a filter, "#" matches it
// unless it is a $ topic, a filter that matches it overlaps it, and a
// filter a that covers b matches every name b matches.
func FuzzMatch(f *testing.F) {
	f.Add("a/+/#", "a/+", "a/b/c")
	f.Add("$share/g/#", "#", "$x")
	f.Add("#", "$SYS/+", "$SYS/broker")
	f.Add("+/+", "a/#", "a")
	f.Add("$queue/a/#", "a/b", "a/b")
	f.Add("/homecontrol/#", "/homecontrol/device/data/+", "/homecontrol/device/data/x")
	f.Fuzz(func(t *testing.T, a, b, n string) {
		validA, validB, validN := ValidateFilter(a) == nil, ValidateFilter(b) == nil, ValidateName(n) == nil
		if validN && ValidateFilter(n) != nil {
			t.Fatalf("%q is a valid name but not a valid filter", n)
		}
		matchA := Match(a, n) // neither side is validated: it must not panic
		Covers(a, b)
		Overlap(a, b)
		if !validN {
			return
		}
		if !strings.HasPrefix(n, QueuePrefix) && !Match(n, n) {
			t.Errorf("the name %q does not match itself", n)
		}
		if got, want := Match("#", n), n[0] != '$'; got != want {
			t.Errorf(`Match("#", %q) = %v, want %v`, n, got, want)
		}
		if validA && matchA && !Overlap(a, n) {
			t.Errorf("%q matches %q but they do not overlap", a, n)
		}
		if validA && validB && Covers(a, b) && Match(b, n) && !Match(a, n) {
			t.Errorf("%q covers %q, which matches %q, but %q does not", a, b, n, a)
		}
	})
}
