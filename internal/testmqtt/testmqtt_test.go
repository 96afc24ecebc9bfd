package testmqtt

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
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
	tok := c.Connect()
	if !tok.WaitTimeout(waitLimit) {
		t.Fatalf("connect %s: no answer", url)
	}
	if tok.Error() == nil {
		t.Cleanup(func() { c.Disconnect(100) })
	}
	return c, tok.Error()
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
	pub, err := connect(t, b.URL(), "restart-pub", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok := pub.Publish("keep/me", 1, true, "hello"); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	pub.Disconnect(100)
	// autosave_on_changes with interval 1 saves after one change; wait for
	// the file rather than for a time.
	deadline := time.Now().Add(waitLimit)
	for !fileExists(b.dir + "/mosquitto.db") {
		if time.Now().After(deadline) {
			t.Fatal("mosquitto.db never written")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Kill()
	if c, err := net.DialTimeout("tcp", b.Addr(), time.Second); err == nil {
		c.Close()
		t.Fatal("killed broker still accepts connections")
	}
	b.Restart()
	if b.Port() != port {
		t.Fatalf("port %d after restart, was %d", b.Port(), port)
	}
	sub, err := connect(t, b.URL(), "restart-sub", "", "")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	if tok := sub.Subscribe("keep/me", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) }); !tok.WaitTimeout(waitLimit) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	select {
	case p := <-got:
		if p != "hello" {
			t.Fatalf("retained %q, want hello", p)
		}
	case <-time.After(waitLimit):
		t.Fatal("retained message lost across restart")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
