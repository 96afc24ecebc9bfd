package iot

import "testing"

func TestParseAvailability(t *testing.T) {
	tests := []struct {
		payload    string
		online, ok bool
	}{
		{"online", true, true},
		{"Online", true, true},
		{" OFFLINE\n", false, true},
		{"true", true, true},
		{"false", false, true},
		{"1", true, true},
		{"0", false, true},
		{"connected", true, true},
		{"Disconnected", false, true},
		{`"online"`, true, true},
		{`{"state":"online"}`, true, true},
		{`{"status":"OFFLINE"}`, false, true},
		{`{"online":true}`, true, true},
		{`{"connected":0}`, false, true},
		{`{"state":{"state":"online"}}`, false, false},
		{`{"other":"online"}`, false, false},
		{"2", false, false},
		{"maybe", false, false},
		{"", false, false},
		{"[true]", false, false},
	}
	for _, tc := range tests {
		online, ok := ParseAvailability([]byte(tc.payload))
		if online != tc.online || ok != tc.ok {
			t.Errorf("ParseAvailability(%q) = %v, %v; want %v, %v", tc.payload, online, ok, tc.online, tc.ok)
		}
	}
}

func TestAvailabilityMessages(t *testing.T) {
	p := DefaultPatterns()
	on, err := OnlineMessage(p, "lamp-1")
	if err != nil || on.Topic != "device/lamp-1/availability" || string(on.Payload) != "online" || !on.Retain || on.QoS != 1 {
		t.Errorf("OnlineMessage = %+v, %v", on, err)
	}
	will, err := WillMessage(p, "lamp-1")
	if err != nil || will.Topic != on.Topic || string(will.Payload) != "offline" || !will.Retain {
		t.Errorf("WillMessage = %+v, %v", will, err)
	}
	// What is published reads back as what it means.
	for _, m := range []Publish{on, will} {
		online, ok := ParseAvailability(m.Payload)
		if !ok || online != (string(m.Payload) == PayloadOnline) {
			t.Errorf("%s reads back as %v, %v", m.Payload, online, ok)
		}
		if mt, ok := p.Match(m.Topic); !ok || mt.Kind != Availability || mt.DeviceID != "lamp-1" {
			t.Errorf("%s matches as %+v, %v", m.Topic, mt, ok)
		}
	}
	if _, err := WillMessage(Patterns{}, "x"); err == nil {
		t.Errorf("WillMessage without an availability topic: no error")
	}
}
