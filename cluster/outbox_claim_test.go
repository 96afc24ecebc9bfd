package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/testkit"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestTwoOwnersClaimOnce: two instances that both believe they own the
// broker (an ownership handover) claim its calls at the same time; SKIP
// LOCKED gives each call to one of them: every call is carried out
// exactly once and answered to its caller.
func TestTwoOwnersClaimOnce(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	h1, h2 := &recorder{}, &recorder{}
	small := func(o *OutboxOptions) { o.Concurrency = 3 }
	runOutbox(t, dsn, 1, owns(7), h1, small)
	runOutbox(t, dsn, 2, owns(7), h2, small)
	caller := runOutbox(t, dsn, 3, owns(), nil)

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			ans, err := caller.Forward(ctx, 7, "publish", fmt.Appendf(nil, `{"n":%d}`, i))
			if err != nil {
				errs <- err
				return
			}
			var got struct {
				Body struct{ N int } `json:"body"`
			}
			if err := json.Unmarshal(ans, &got); err != nil || got.Body.N != i {
				errs <- fmt.Errorf("call %d answered %s (%v)", i, ans, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	counts := map[string]int{}
	s1, s2 := h1.seen(), h2.seen()
	for _, c := range append(s1, s2...) {
		counts[c]++
	}
	for c, k := range counts {
		if k != 1 {
			t.Errorf("%s carried out %d times", c, k)
		}
	}
	if len(counts) != n {
		t.Errorf("%d distinct calls carried out, want %d", len(counts), n)
	}
	t.Logf("instance 1 carried out %d, instance 2 %d", len(s1), len(s2))
}

// TestSweepWithoutNotify: a call whose NOTIFY was lost (here, inserted
// without one) is still claimed by the owner's sweep; and a caller whose
// answer's NOTIFY was lost still reads it by its re-check.
func TestSweepWithoutNotify(t *testing.T) {
	modelstest.CheckLeaks(t)
	dsn := pgDSN(t)
	conn := db(t, dsn)
	ctx := context.Background()

	t.Run("owner", func(t *testing.T) {
		h := &recorder{}
		runOutbox(t, dsn, 1, owns(7), h)
		var id int64
		if err := conn.QueryRow(ctx, `INSERT INTO mqtt_outbox (broker_id, kind, body, caller, deadline)
			VALUES (7, 'check_connection', '{}', 3, now() + interval '1 minute') RETURNING id`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 20*time.Second, "the sweep to carry the call out", func() bool { return readRow(t, conn, id).state == stateDone })
		if s := h.seen(); len(s) != 1 || s[0] != "check_connection:{}" {
			t.Fatalf("carried out %q", s)
		}
	})

	t.Run("caller", func(t *testing.T) {
		b := runOutbox(t, dsn, 2, owns(), nil)
		type result struct {
			ans []byte
			err error
		}
		res := make(chan result, 1)
		go func() {
			ans, err := forward(t, b, 8, "publish", `{"n":1}`)
			res <- result{ans, err}
		}()
		// The test is the owner, answering without a NOTIFY.
		testkit.Eventually(t, 10*time.Second, "the forwarded row", func() bool {
			tag, err := conn.Exec(ctx, `UPDATE mqtt_outbox SET state = 'running', claimed_by = 9 WHERE broker_id = 8 AND state = 'pending'`)
			return err == nil && tag.RowsAffected() == 1
		})
		if _, err := conn.Exec(ctx, `UPDATE mqtt_outbox SET state = 'done', answer = '{"ok":true}', finished = now() WHERE broker_id = 8`); err != nil {
			t.Fatal(err)
		}
		r := <-res
		if r.err != nil || string(r.ans) != `{"ok": true}` {
			t.Fatalf("answer %s, error %v", r.ans, r.err)
		}
	})
}
