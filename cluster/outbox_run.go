package cluster

// The owner's side of the outbox: one LISTEN connection hears new calls
// and answers, a claim loop takes the calls of the brokers this instance
// owns (on a NOTIFY, after Claimed, and every Sweep without one, so a
// lost notification only delays a call), and bounded workers carry them
// out and answer.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Application names of the outbox's connections (pg_stat_activity).
const (
	poolAppName   = "odoo-iot-mqtt outbox"
	listenAppName = "odoo-iot-mqtt outbox listener"
)

// replyMargin is the most of a call's deadline kept for its answer's
// way back to the caller.
const replyMargin = time.Second

// connectTimeout bounds one connection attempt and the schema creation.
const connectTimeout = 30 * time.Second

// call is one claimed row.
type call struct {
	id, brokerID int64
	kind         string
	body         []byte
	remaining    time.Duration // until the caller's deadline
}

// Run creates the table if needed, listens, claims and carries out the
// calls for the brokers this instance owns (also every Sweep without a
// NOTIFY, and at once after Claimed), and deletes old rows, until ctx
// ends. Then it waits for the calls it is carrying out and the Forwards
// in flight, which give up.
func (o *Outbox) Run(ctx context.Context) error {
	if !o.ran.CompareAndSwap(false, true) {
		return errors.New("cluster: outbox Run called twice")
	}
	var pool *pgxpool.Pool
	defer func() {
		o.mu.Lock()
		o.stopped = true
		o.mu.Unlock()
		close(o.done)
		o.forwards.Wait()
		if pool != nil {
			pool.Close()
		}
	}()
	cfg, err := pgxpool.ParseConfig(o.opts.DSN)
	if err != nil {
		return fmt.Errorf("cluster: outbox DSN: %w", err)
	}
	// The workers, the claim loop and the waiting callers, each a short
	// query at a time.
	cfg.MaxConns = int32(o.opts.Concurrency + 4)
	cfg.ConnConfig.RuntimeParams["application_name"] = poolAppName
	listenCfg := cfg.ConnConfig.Copy()
	listenCfg.RuntimeParams["application_name"] = listenAppName

	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if pool, err = pgxpool.NewWithConfig(cctx, cfg); err != nil {
		return fmt.Errorf("cluster: outbox pool: %w", err)
	}
	// Several instances may start together: the advisory lock keeps their
	// CREATE TABLE IF NOT EXISTS from colliding.
	if _, err := pool.Exec(cctx, outboxSchema); err != nil {
		return fmt.Errorf("cluster: create mqtt_outbox: %w", err)
	}
	o.pool = pool
	close(o.ready)

	var wg, workers sync.WaitGroup
	wg.Go(func() { o.listen(ctx, listenCfg) })
	o.claimLoop(ctx, &workers)
	wg.Wait()
	workers.Wait()
	return nil
}

// listen holds the LISTEN connection: a new call for a broker we own
// triggers a claim, an answer wakes its caller. A lost connection is
// reopened; meanwhile the sweeps and the callers' re-reads carry on, and
// once it is back everything is looked at once.
func (o *Outbox) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := o.listenOnce(ctx, cfg, func() { delay = 100 * time.Millisecond })
		if ctx.Err() != nil {
			return
		}
		o.log.Warn("Outbox notifications lost; reconnecting", slog.Duration("in", delay), slog.Any("error", err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// listenOnce connects, listens and handles notifications until the
// connection fails or ctx ends; connected is called once it listens.
func (o *Outbox) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, connected func()) error {
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err == nil {
		_, err = conn.Exec(cctx, "LISTEN "+outboxChannel+"; LISTEN "+outboxDoneChannel)
	}
	cancel()
	if conn != nil {
		defer func() {
			c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = conn.Close(c)
		}()
	}
	if err != nil {
		return err
	}
	connected()
	// What was notified while not listening: claim, and let every caller
	// read its row.
	o.Claimed()
	o.wake(0)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		id, perr := strconv.ParseInt(n.Payload, 10, 64)
		if perr != nil {
			continue // not ours
		}
		switch n.Channel {
		case outboxChannel:
			if o.opts.Owns(id) {
				o.Claimed()
			}
		case outboxDoneChannel:
			o.wake(id)
		}
	}
}

// claimLoop claims on every kick and sweep, and ends expired and old
// rows on the sweeps, until ctx ends.
func (o *Outbox) claimLoop(ctx context.Context, workers *sync.WaitGroup) {
	tick := time.NewTicker(o.opts.Sweep)
	defer tick.Stop()
	var lastPurge time.Time
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-tick.C:
			if err := o.expire(ctx, &lastPurge); err != nil && ctx.Err() == nil && !failing {
				o.log.Warn("Unable to end the expired outbox calls", slog.Any("error", err))
			}
		}
		err := o.claim(ctx, workers)
		if err != nil && ctx.Err() == nil && !failing {
			o.log.Warn("Unable to claim forwarded calls", slog.Any("error", err))
		}
		// Logged once per failing stretch, not every sweep.
		failing = err != nil
	}
}

// claim takes as many pending calls of the brokers we own as there are
// free workers, and starts them.
func (o *Outbox) claim(ctx context.Context, workers *sync.WaitGroup) error {
	h := o.handlers.Load()
	if h == nil || h.Call == nil {
		return nil // not serving yet: the calls wait for us or another owner
	}
	free := int64(o.opts.Concurrency) - o.active.Load()
	if free <= 0 {
		return nil // a finishing worker kicks
	}
	owned, err := o.pendingOwned(ctx)
	if err != nil || len(owned) == 0 {
		return err
	}
	rows, err := o.pool.Query(ctx, outboxClaim, o.opts.Instance(), owned, free)
	if err != nil {
		return err
	}
	var calls []call
	for rows.Next() {
		var c call
		var ms int64
		if err := rows.Scan(&c.id, &c.brokerID, &c.kind, &c.body, &ms); err != nil {
			rows.Close()
			return err
		}
		c.remaining = time.Duration(ms) * time.Millisecond
		calls = append(calls, c)
	}
	if err := rows.Err(); err != nil {
		// The claim did not commit: the rows are still pending.
		return err
	}
	for _, c := range calls {
		o.active.Add(1)
		workers.Go(func() {
			defer o.Claimed() // a free worker: claim what is left
			defer o.active.Add(-1)
			o.execute(ctx, h.Call, c)
		})
	}
	return nil
}

// pendingOwned lists the brokers with pending calls that we own.
func (o *Outbox) pendingOwned(ctx context.Context) ([]int64, error) {
	rows, err := o.pool.Query(ctx, outboxPendingBrokers)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	owned := ids[:0]
	for _, id := range ids {
		if o.opts.Owns(id) {
			owned = append(owned, id)
		}
	}
	return owned, nil
}

// execute carries out one claimed call within its caller's deadline and
// stores the outcome, which wakes the caller.
func (o *Outbox) execute(ctx context.Context, fn func(context.Context, int64, string, []byte) ([]byte, error), c call) {
	// The owner stops a little before the caller does, so that its own
	// error ("no PUBACK in time") reaches the caller rather than a bare
	// forward timeout.
	cctx, cancel := context.WithTimeout(ctx, c.remaining-min(c.remaining/10, replyMargin))
	answer, err := fn(cctx, c.brokerID, c.kind, c.body)
	cancel()
	if err == nil && len(answer) > 0 {
		switch {
		case len(answer) > maxAnswer:
			err = fmt.Errorf("cluster: the answer to the %s call is %d bytes, more than %d", c.kind, len(answer), maxAnswer)
		case !json.Valid(answer):
			err = fmt.Errorf("cluster: the answer to the %s call is not JSON", c.kind)
		}
	}
	state, ans, text, code := stateDone, any(nil), any(nil), any(nil)
	if err != nil {
		state, text = stateError, err.Error()
		if c := errorCode(err); c != "" {
			code = c
		}
	} else if len(answer) > 0 {
		ans = answer
	}
	// Answered even while shutting down: the caller is waiting for it.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer wcancel()
	if _, werr := o.pool.Exec(wctx, outboxAnswer, c.id, state, ans, text, code, o.opts.Instance()); werr != nil {
		o.log.Warn("Unable to answer a forwarded call", slog.Int64("call_id", c.id), slog.String("kind", c.kind),
			slog.Int64("broker_id", c.brokerID), slog.Any("error", werr))
	}
}

// expire ends the calls nobody carried out in time and, every purgeEvery,
// deletes the finished rows older than the retention.
func (o *Outbox) expire(ctx context.Context, lastPurge *time.Time) error {
	if _, err := o.pool.Exec(ctx, outboxExpire, abandonAfter.Milliseconds()); err != nil {
		return err
	}
	if time.Since(*lastPurge) < purgeEvery {
		return nil
	}
	if _, err := o.pool.Exec(ctx, outboxPurge, o.opts.Retention.Milliseconds()); err != nil {
		return err
	}
	*lastPurge = time.Now()
	return nil
}
