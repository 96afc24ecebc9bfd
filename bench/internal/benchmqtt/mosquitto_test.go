package benchmqtt

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/bench/internal/benchproc"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testmqtt"
)

// A broker started on a free port takes a client, counts its connection
// from the log, and reports its own death once stopped.
func TestMosquitto(t *testing.T) {
	m, err := StartMosquitto(context.Background(), testmqtt.Bin(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	c, err := Connect(m.URL(), "bench-test-a-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := Wait(c.Publish("t", 1, false, "x"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := c.LostErr(); err != nil {
		t.Errorf("LostErr after a clean close = %v", err)
	}
	// The log line is read on another goroutine: wait for it.
	testkit.Poll(5*time.Second, func() bool { return m.ConnectsOf("bench-test-a") == 1 })
	tests := []struct {
		id   string
		want int
	}{
		{"bench-test-a-1", 1}, // the id itself
		{"bench-test-a", 1},   // the id and a "-" suffix
		{"bench-test", 1},     // the same: "-a-1" is a "-" suffix
		{"bench-test-a-", 0},  // a prefix, but not followed by "-"
		{"bench-test-b", 0},
	}
	for _, tt := range tests {
		if got := m.ConnectsOf(tt.id); got != tt.want {
			t.Errorf("ConnectsOf(%q) = %d, want %d", tt.id, got, tt.want)
		}
	}
	if m.DroppedFor("bench-test-a") {
		t.Error("DroppedFor: nothing was dropped")
	}
	if err := m.Alive(); err != nil {
		t.Fatalf("Alive = %v", err)
	}
	m.Stop()
	if err := m.Alive(); !errors.Is(err, benchproc.ErrFunctional) {
		t.Errorf("Alive after Stop = %v, want a functional failure", err)
	}
}
