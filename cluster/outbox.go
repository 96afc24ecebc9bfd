package cluster

// The outbox: calls an instance cannot carry out itself (the broker's
// daemon runs elsewhere) are rows of mqtt_outbox, claimed by the owner
// with FOR UPDATE SKIP LOCKED, woken by NOTIFY, answered in the row and
// by a NOTIFY back to the caller. The Coordinator of coordinator.go
// composes an *Outbox and delegates listener.Cluster's Forward and Serve
// to it. The caller's side is here, the owner's in outbox_run.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/listener"
)

// Defaults of OutboxOptions.
const (
	defaultRetention   = time.Hour
	defaultMaxBody     = 8 << 20 // a publish's payload, base64 in JSON, plus its topic and properties
	defaultConcurrency = 16
	defaultSweep       = time.Second
	defaultForwardWait = time.Minute

	// maxAnswer bounds an owner's answer: answers are acknowledgements.
	maxAnswer = 1 << 20
	// writeTimeout bounds the outbox's own short writes (an answer, a
	// cancellation), which run even when the call's context has ended.
	writeTimeout = 10 * time.Second
	// abandonAfter: a running call this long past its deadline has lost
	// its claimer (it died before answering) and is ended.
	abandonAfter = time.Minute
	// purgeEvery spaces the retention deletes.
	purgeEvery = time.Minute
)

// errStopped is Forward's error once Run has ended (or never started).
var errStopped = errors.New("cluster: the outbox is not running")

// OutboxOptions configure an Outbox.
type OutboxOptions struct {
	// DSN of the PostgreSQL database (the server's --db); the outbox
	// opens its own connections (one LISTEN connection, a small pool).
	DSN string
	// Instance is this instance's id (mqtt_instance.id), recorded on the
	// rows it claims and the calls it makes.
	Instance func() int64
	// Owns reports whether this instance owns a broker now: it claims
	// only the calls for those. Nil: it owns none.
	Owns func(brokerID int64) bool
	// HasOwner reports whether a live instance owns the broker: Forward
	// fails at once with listener.ErrNoOwner when none does. Nil: always.
	HasOwner func(brokerID int64) bool
	// Retention: answered rows older than this are deleted; default 1h.
	Retention time.Duration

	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// MaxBody bounds a forwarded call's arguments in bytes; default 8 MiB.
	MaxBody int
	// Concurrency bounds the claimed calls carried out at once; default 16.
	Concurrency int
	// Sweep is how often the owner looks for calls without a NOTIFY (one
	// lost with a dropped connection), and a caller re-reads its row;
	// default 1s.
	Sweep time.Duration
	// ForwardWait bounds a Forward whose context has no deadline;
	// default 1 min.
	ForwardWait time.Duration
}

// Outbox carries calls between instances.
type Outbox struct {
	opts OutboxOptions
	log  *slog.Logger

	handlers atomic.Pointer[listener.ClusterHandlers]
	kick     chan struct{} // capacity 1: claim now
	active   atomic.Int64  // claimed calls being carried out

	ran   atomic.Bool
	ready chan struct{} // closed once Run has the table and pool
	done  chan struct{} // closed when Run ends
	pool  *pgxpool.Pool // set before ready is closed

	mu       sync.Mutex
	stopped  bool
	forwards sync.WaitGroup          // Forwards using the pool
	waiters  map[int64]chan struct{} // row id -> its caller, woken by mqtt_outbox_done
}

// NewOutbox returns an Outbox; nothing runs until Run.
func NewOutbox(opts OutboxOptions) *Outbox {
	if opts.Retention <= 0 {
		opts.Retention = defaultRetention
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = defaultMaxBody
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = defaultConcurrency
	}
	if opts.Sweep <= 0 {
		opts.Sweep = defaultSweep
	}
	if opts.ForwardWait <= 0 {
		opts.ForwardWait = defaultForwardWait
	}
	if opts.Instance == nil {
		opts.Instance = func() int64 { return 0 }
	}
	if opts.Owns == nil {
		opts.Owns = func(int64) bool { return false }
	}
	if opts.HasOwner == nil {
		opts.HasOwner = func(int64) bool { return true }
	}
	return &Outbox{opts: opts, log: opts.Logger.With(slog.String("component", "outbox")), kick: make(chan struct{}, 1),
		ready: make(chan struct{}), done: make(chan struct{}), waiters: map[int64]chan struct{}{}}
}

// Serve sets the handler of the calls this instance claims. Nothing is
// claimed before it is set, so it may come before or after Run starts.
func (o *Outbox) Serve(h listener.ClusterHandlers) {
	o.handlers.Store(&h)
	o.Claimed()
}

// Claimed tells the outbox this instance just gained brokers: their
// pending calls are claimed now rather than at the next sweep.
func (o *Outbox) Claimed() { signal(o.kick) }

// Forward inserts the call, notifies, and waits for the owner's answer
// until ctx ends (listener.ErrForwardTimeout; the row is then cancelled
// so that a late owner does not carry it out). A context without a
// deadline waits ForwardWait. The owner's error comes back as a
// *RemoteError with the owner's text.
func (o *Outbox) Forward(ctx context.Context, brokerID int64, kind string, body []byte) ([]byte, error) {
	if !o.opts.HasOwner(brokerID) {
		return nil, listener.ErrNoOwner
	}
	if len(body) > o.opts.MaxBody {
		return nil, fmt.Errorf("cluster: the %s call is %d bytes, more than the %d bytes an instance forwards", kind, len(body), o.opts.MaxBody)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("cluster: the arguments of the %s call are not JSON", kind)
	}
	select {
	case <-o.ready:
	case <-o.done:
		return nil, errStopped
	case <-ctx.Done():
		return nil, timeout(ctx)
	}
	if !o.enter() {
		return nil, errStopped
	}
	defer o.forwards.Done()

	wait := o.opts.ForwardWait
	if dl, ok := ctx.Deadline(); ok {
		wait = time.Until(dl)
	} else {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	if wait <= 0 {
		return nil, timeout(ctx)
	}
	var id int64
	if err := o.pool.QueryRow(ctx, outboxInsert, brokerID, kind, body, o.opts.Instance(), wait.Milliseconds()).Scan(&id, nil); err != nil {
		if ctx.Err() != nil {
			return nil, timeout(ctx)
		}
		return nil, fmt.Errorf("cluster: forward the %s call: %w", kind, err)
	}
	woken := o.wait(id)
	defer o.unwait(id)
	tick := time.NewTicker(o.opts.Sweep)
	defer tick.Stop()
	for {
		// Read first: the answer may have come before the waiter was set.
		if ans, ok, err := o.outcome(ctx, id); ok {
			return ans, err
		}
		select {
		case <-woken:
		case <-tick.C:
		case <-ctx.Done():
			return o.giveUp(ctx, id)
		case <-o.done:
			return o.giveUp(ctx, id)
		}
	}
}

// enter counts a Forward that will use the pool, unless Run is ending.
func (o *Outbox) enter() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return false
	}
	o.forwards.Add(1)
	return true
}

// outcome reads the call's row: ok once it is finished, with the answer
// or the owner's error. A failed read is not an outcome: the caller
// reads again on the next wake-up, until its context ends.
func (o *Outbox) outcome(ctx context.Context, id int64) (answer []byte, ok bool, err error) {
	var (
		state      string
		errText    *string
		errCodeTxt *string
	)
	if rerr := o.pool.QueryRow(ctx, outboxRead, id).Scan(&state, &answer, &errText, &errCodeTxt); rerr != nil {
		if ctx.Err() == nil {
			o.log.Warn("Unable to read a forwarded call", slog.Int64("call_id", id), slog.Any("error", rerr))
		}
		return nil, false, nil
	}
	switch state {
	case stateDone:
		return answer, true, nil
	case stateError:
		e := &RemoteError{}
		if errText != nil {
			e.Text = *errText
		}
		if errCodeTxt != nil {
			e.Code = *errCodeTxt
		}
		return nil, true, e
	case stateCancelled:
		return nil, true, timeout(ctx)
	}
	return nil, false, nil
}

// giveUp cancels the call if its owner has not claimed it yet, so that a
// late owner skips it; a call answered meanwhile returns its answer.
func (o *Outbox) giveUp(ctx context.Context, id int64) ([]byte, error) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	tag, err := o.pool.Exec(wctx, outboxCancel, id)
	if err != nil {
		o.log.Warn("Unable to cancel a forwarded call", slog.Int64("call_id", id), slog.Any("error", err))
	} else if tag.RowsAffected() == 0 {
		if ans, ok, err := o.outcome(wctx, id); ok {
			return ans, err
		}
	}
	return nil, timeout(ctx)
}

// timeout is ErrForwardTimeout, wrapping why ctx ended.
func timeout(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w (%w)", listener.ErrForwardTimeout, err)
	}
	return listener.ErrForwardTimeout
}

// wait registers the caller of row id, woken by its mqtt_outbox_done.
func (o *Outbox) wait(id int64) <-chan struct{} {
	ch := make(chan struct{}, 1)
	o.mu.Lock()
	o.waiters[id] = ch
	o.mu.Unlock()
	return ch
}

func (o *Outbox) unwait(id int64) {
	o.mu.Lock()
	delete(o.waiters, id)
	o.mu.Unlock()
}

// wake wakes the caller of row id, if it is one of ours; id 0 wakes every
// caller (after the LISTEN connection was lost, they read their rows).
func (o *Outbox) wake(id int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if id != 0 {
		if ch, ok := o.waiters[id]; ok {
			signal(ch)
		}
		return
	}
	for _, ch := range o.waiters {
		signal(ch)
	}
}

// signal sends on a channel of capacity 1 without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
