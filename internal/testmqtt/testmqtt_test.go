package testmqtt

import (
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
)

const waitLimit = 10 * time.Second

// connect returns the error of a CONNECT to url as user (empty: none).
func connect(t *testing.T, url, id, user, pass string) (paho.Client, error) {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(url).SetClientID(id).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	if user != "" {
		o.SetUsername(user).SetPassword(pass)
	}
	c := paho.NewClient(o)
	err := Wait(c.Connect())
	if err == nil {
		t.Cleanup(func() { c.Disconnect(100) })
	}
	return c, err
}

// TestUsers: a password file admits its users and nobody else.
func TestUsers(t *testing.T) {
	b := Start(t, Options{Users: map[string]string{"plant": "s3cret", "viewer": "look"}})
	cases := []struct {
		name, user, pass string
		ok               bool
	}{
		{"first user", "plant", "s3cret", true},
		{"second user", "viewer", "look", true},
		{"wrong password", "plant", "nope", false},
		{"anonymous", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := connect(t, b.URL(), "users-"+strings.ReplaceAll(c.name, " ", "-"), c.user, c.pass)
			if (err == nil) != c.ok {
				t.Fatalf("connect as %q: err %v, want success %v", c.user, err, c.ok)
			}
		})
	}
}

// TestRestartKeepsRetained: with persistence, a retained message survives
// a SIGKILL once autosave has run, and the broker comes back on its port.
func TestRestartKeepsRetained(t *testing.T) {
	b := Start(t, Options{Persistence: true, Config: []string{"autosave_on_changes true"}})
	port := b.Port()
	pub := Connect(t, b.URL(), "restart-pub", nil)
	Publish(t, pub, "keep/me", 1, true, "hello")
	pub.Disconnect(100)
	// autosave_on_changes with interval 1 saves after one change; wait for
	// the file rather than for a time.
	testkit.Eventually(t, waitLimit, "mosquitto.db written", func() bool { return fileExists(b.dir + "/mosquitto.db") })
	b.Kill()
	if c, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("killed broker still accepts connections")
	}
	b.Restart()
	if b.Port() != port {
		t.Fatalf("port %d after restart, was %d", b.Port(), port)
	}
	if p := Retained(t, b.URL(), "keep/me", waitLimit); string(p) != "hello" {
		t.Fatalf("retained %q after the restart, want hello", p)
	}
}

// TestClients: the paho helpers connect, subscribe, publish, receive and
// read a retained message, or its absence.
func TestClients(t *testing.T) {
	b := Start(t, Options{})
	var lost atomic.Bool
	sub := Connect(t, b.URL(), "clients-sub", func(o *paho.ClientOptions) {
		o.SetConnectionLostHandler(func(paho.Client, error) { lost.Store(true) })
	})
	msgs := Subscribe(t, sub, "plant/+/temp", 1)
	pub := Connect(t, b.URL(), "clients-pub", nil)
	Publish(t, pub, "plant/line1/temp", 1, false, "21.5")
	Publish(t, pub, "plant/line1/humidity", 0, false, "40")
	Publish(t, pub, "plant/line2/temp", 0, true, []byte("19"))
	for _, want := range []string{"plant/line1/temp 21.5", "plant/line2/temp 19"} {
		if m := Receive(t, msgs, waitLimit, want); m.Topic()+" "+string(m.Payload()) != want {
			t.Errorf("received %s %s, want %s", m.Topic(), m.Payload(), want)
		}
	}
	if p := Retained(t, b.URL(), "plant/line2/temp", waitLimit); string(p) != "19" {
		t.Errorf("retained plant/line2/temp = %q, want 19", p)
	}
	if p := Retained(t, b.URL(), "plant/line1/temp", 100*time.Millisecond); p != nil {
		t.Errorf("retained plant/line1/temp = %q, want none", p)
	}
	if lost.Load() {
		t.Error("the subscriber lost its connection")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
