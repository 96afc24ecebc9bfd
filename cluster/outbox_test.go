package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// pgDSN returns a fresh PostgreSQL database; modelstest skips without
// one, and fails under CI=true.
func pgDSN(t *testing.T) string {
	t.Helper()
	return modelstest.DSN(t, "postgres")
}

// owns is a static ownership: the brokers listed.
func owns(ids ...int64) func(int64) bool {
	return func(id int64) bool { return slices.Contains(ids, id) }
}

// recorder is a Call handler that records what it carried out and
// answers with fn (an echo without one).
type recorder struct {
	mu    sync.Mutex
	calls []string // kind:body
	fn    func(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error)
}

func (r *recorder) call(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error) {
	r.mu.Lock()
	r.calls = append(r.calls, kind+":"+string(body))
	r.mu.Unlock()
	if r.fn != nil {
		return r.fn(ctx, brokerID, kind, body)
	}
	return json.Marshal(map[string]any{"broker": brokerID, "kind": kind, "body": json.RawMessage(body)})
}

func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// runOutbox runs an Outbox of instance id on dsn owning the brokers owned
// says, serving h when not nil, until the test ends.
func runOutbox(t *testing.T, dsn string, instance int64, owned func(int64) bool, h *recorder, tweak ...func(*OutboxOptions)) *Outbox {
	t.Helper()
	opts := OutboxOptions{DSN: dsn, Instance: func() int64 { return instance }, Owns: owned, Logger: modelstest.Logger(t), Sweep: 200 * time.Millisecond}
	for _, f := range tweak {
		f(&opts)
	}
	o := NewOutbox(opts)
	if h != nil {
		o.Serve(listener.ClusterHandlers{Call: h.call})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("outbox %d Run: %v", instance, err)
		}
	})
	select {
	case <-o.ready:
	case err := <-done:
		t.Fatalf("outbox %d Run: %v", instance, err)
	}
	return o
}

// db opens a connection of the test's own on dsn.
func db(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// row is an mqtt_outbox row as the tests look at it.
type row struct {
	state, kind       string
	errText, errCode  *string
	caller, claimedBy *int64
}

func readRow(t *testing.T, conn *pgx.Conn, id int64) row {
	t.Helper()
	var r row
	err := conn.QueryRow(context.Background(), `SELECT state, kind, error, error_code, caller, claimed_by FROM mqtt_outbox WHERE id = $1`, id).
		Scan(&r.state, &r.kind, &r.errText, &r.errCode, &r.caller, &r.claimedBy)
	if err != nil {
		t.Fatalf("row %d: %v", id, err)
	}
	return r
}

func forward(t *testing.T, o *Outbox, broker int64, kind, body string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return o.Forward(ctx, broker, kind, []byte(body))
}

// TestForwardAnswered: a call made on B for a broker A owns is carried
// out by A, once, and B gets A's answer; the row records both instances.
func TestForwardAnswered(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	ha := &recorder{}
	runOutbox(t, dsn, 1, owns(7), ha)
	b := runOutbox(t, dsn, 2, owns(), &recorder{})

	ans, err := forward(t, b, 7, "publish", `{"topic":"a/b","qos":1}`)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Broker int64           `json:"broker"`
		Kind   string          `json:"kind"`
		Body   json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(ans, &got); err != nil {
		t.Fatalf("answer %s: %v", ans, err)
	}
	var body map[string]any
	if err := json.Unmarshal(got.Body, &body); err != nil || got.Broker != 7 || got.Kind != "publish" || body["topic"] != "a/b" {
		t.Fatalf("answer %s", ans)
	}
	if s := ha.seen(); len(s) != 1 {
		t.Fatalf("A carried out %v", s)
	}
	var id int64
	conn := db(t, dsn)
	if err := conn.QueryRow(context.Background(), `SELECT max(id) FROM mqtt_outbox`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	r := readRow(t, conn, id)
	if r.state != stateDone || *r.caller != 2 || r.claimedBy == nil || *r.claimedBy != 1 {
		t.Fatalf("row %+v", r)
	}
}

// TestForwardError: the owner's error comes back with its text, and
// with the sentinel it wrapped when it is one the models check.
func TestForwardError(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	errs := map[string]error{
		"plain":     errors.New(`publish on "x" at QoS 1: not authorized (0x87)`),
		"daemon":    fmt.Errorf("broker 7: %w", mqttmodel.ErrDaemonNotRunning),
		"deadline":  fmt.Errorf("wait for PUBACK: %w", context.DeadlineExceeded),
		"not owner": listener.ErrNoOwner,
	}
	ha := &recorder{fn: func(_ context.Context, _ int64, kind string, _ []byte) ([]byte, error) { return nil, errs[kind] }}
	runOutbox(t, dsn, 1, owns(7), ha)
	b := runOutbox(t, dsn, 2, owns(), nil)

	cases := []struct {
		kind string
		is   error // nil: none
	}{
		{"plain", nil},
		{"daemon", mqttmodel.ErrDaemonNotRunning},
		{"deadline", context.DeadlineExceeded},
		{"not owner", listener.ErrNoOwner},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			_, err := forward(t, b, 7, c.kind, `{}`)
			var re *RemoteError
			if !errors.As(err, &re) {
				t.Fatalf("error %v (%T), want a RemoteError", err, err)
			}
			if err.Error() != errs[c.kind].Error() {
				t.Fatalf("text %q, want %q", err.Error(), errs[c.kind].Error())
			}
			for _, s := range []error{mqttmodel.ErrDaemonNotRunning, context.DeadlineExceeded, listener.ErrNoOwner, listener.ErrForwardTimeout} {
				if errors.Is(err, s) != (s == c.is) {
					t.Fatalf("errors.Is(%v, %v) = %v", err, s, errors.Is(err, s))
				}
			}
		})
	}
}

// TestForwardRefusals: no live owner, and calls that cannot be
// forwarded, fail at once without a row.
func TestForwardRefusals(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	b := runOutbox(t, dsn, 2, owns(), nil, func(o *OutboxOptions) {
		o.HasOwner = func(id int64) bool { return id != 9 }
		o.MaxBody = 64
	})
	cases := []struct {
		name   string
		broker int64
		body   string
		is     error
	}{
		{"no owner", 9, `{}`, listener.ErrNoOwner},
		{"too big", 7, `{"payload":"` + string(make([]byte, 80)) + `"}`, nil},
		{"not JSON", 7, `{"payload":`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := forward(t, b, c.broker, "publish", c.body)
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) {
				t.Fatalf("error %v, want %v", err, c.is)
			}
		})
	}
	var n int
	if err := db(t, dsn).QueryRow(context.Background(), `SELECT count(*) FROM mqtt_outbox`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows (%v)", n, err)
	}
}

// TestForwardTimeoutCancels: nobody claims in time, the caller gets
// ErrForwardTimeout and the row is cancelled; an owner starting later
// skips it (it carries out only the call made after it).
func TestForwardTimeoutCancels(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	b := runOutbox(t, dsn, 2, owns(), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	_, err := b.Forward(ctx, 7, "publish", []byte(`{"n":1}`))
	cancel()
	if !errors.Is(err, listener.ErrForwardTimeout) {
		t.Fatalf("error %v, want ErrForwardTimeout", err)
	}
	conn := db(t, dsn)
	if r := readRow(t, conn, 1); r.state != stateCancelled {
		t.Fatalf("row %+v, want cancelled", r)
	}

	late := &recorder{}
	runOutbox(t, dsn, 1, owns(7), late)
	if _, err := forward(t, b, 7, "publish", `{"n":2}`); err != nil {
		t.Fatal(err)
	}
	// Claims go oldest first: had the first call been claimable, it
	// would have been carried out no later than the second.
	if s := late.seen(); !slices.Equal(s, []string{`publish:{"n": 2}`}) {
		t.Fatalf("the late owner carried out %q", s)
	}
}

// TestExpiry: a pending call past its deadline (its caller died) ends as
// an error "expired" and is never carried out; old finished rows go.
func TestExpiry(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	h := &recorder{}
	o := runOutbox(t, dsn, 1, owns(7), h)
	conn := db(t, dsn)
	ctx := context.Background()
	var expired, old int64
	if err := conn.QueryRow(ctx, `INSERT INTO mqtt_outbox (broker_id, kind, body, caller, deadline)
		VALUES (7, 'publish', '{}', 3, now() - interval '1 second') RETURNING id`).Scan(&expired); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO mqtt_outbox (broker_id, kind, body, caller, deadline, state, finished)
		VALUES (7, 'publish', '{}', 3, now() - interval '3 hours', 'done', now() - interval '3 hours') RETURNING id`).Scan(&old); err != nil {
		t.Fatal(err)
	}
	o.Claimed()
	testkit.Eventually(t, 10*time.Second, "the expiry", func() bool { return readRow(t, conn, expired).state != statePending })
	if r := readRow(t, conn, expired); r.state != stateError || *r.errText != "expired" || *r.errCode != codeExpired || r.claimedBy != nil {
		t.Fatalf("expired row %+v", r)
	}
	testkit.Eventually(t, 10*time.Second, "the retention delete", func() bool {
		var n int
		return conn.QueryRow(ctx, `SELECT count(*) FROM mqtt_outbox WHERE id = $1`, old).Scan(&n) == nil && n == 0
	})
	if s := h.seen(); len(s) != 0 {
		t.Fatalf("carried out %v", s)
	}
}
