package bus

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/origin"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// Bus is the notification bus; see the package documentation. Create it
// with New, give it to models.New as the registry's Notifier, serve
// Routes, and keep Run running.
type Bus struct {
	opts     Options
	log      *slog.Logger
	origins  origin.Policy
	pg       *pgStore // nil in memory mode
	metrics  *metrics
	upgrader *websocket.Upgrader

	queue      chan pending
	queued     atomic.Int64 // bytes (pending.size) in queue
	dropped    atomic.Int64
	warnedFull atomic.Bool
	nextID     int64 // memory mode: last id handed out; owned by the batcher
	started    atomic.Bool

	mu      sync.Mutex // guards everything below
	buf     ring
	lastID  int64
	subs    map[*Subscription]struct{}
	stopped bool

	// sockets are the open /websocket connections, which watchAccess
	// re-checks on accessKick (an access note) and every
	// AccessCheckInterval.
	sockMu     sync.Mutex
	sockets    map[*socket]struct{}
	accessKick chan struct{}

	// stopCtx is cancelled when Run ends; sockets then close with 1001.
	// conns counts the live sockets, which Run waits for.
	stopCtx context.Context
	stop    context.CancelFunc
	conns   sync.WaitGroup
}

var _ models.Notifier = (*Bus)(nil)

// New returns a bus. Nothing runs until Run.
func New(opts Options) (*Bus, error) {
	opts = opts.withDefaults()
	b := &Bus{
		opts:    opts,
		log:     opts.Logger.With(slog.String("component", "bus")),
		origins: origin.New(opts.AllowedOrigins),
		queue:   make(chan pending, opts.QueueSize),
		buf:     ring{max: opts.MaxBuffered, maxBytes: opts.MaxBufferedBytes},
		subs:    map[*Subscription]struct{}{},

		sockets:    map[*socket]struct{}{},
		accessKick: make(chan struct{}, 1),
	}
	if opts.PostgresDSN != "" {
		pg, err := newPGStore(b, opts.PostgresDSN)
		if err != nil {
			return nil, err
		}
		b.pg = pg
	}
	b.stopCtx, b.stop = context.WithCancel(context.Background())
	b.metrics = newMetrics(b, opts.Metrics)
	b.upgrader = b.newUpgrader()
	return b, nil
}

// Notify queues notes for publication and returns at once. A note whose
// payload does not encode, or that finds the queue full, is dropped and
// counted (Dropped): the bus is best effort, the database stays the record.
func (b *Bus) Notify(_ context.Context, notes ...models.Notification) {
	now := time.Now()
	for _, n := range notes {
		p, err := encodePending(n, now)
		if err != nil {
			b.dropped.Add(1)
			b.log.Error("Notification dropped", slog.String("channel", n.Channel), slog.String("type", n.Type), slog.Any("error", err))
			continue
		}
		// One note larger than the whole bound still passes an empty queue.
		size := p.size()
		if q := b.queued.Add(size); q <= b.opts.QueueBytes || q == size {
			select {
			case b.queue <- p:
				continue
			default:
			}
		}
		b.queued.Add(-size)
		b.dropped.Add(1)
		if b.warnedFull.CompareAndSwap(false, true) {
			// Once per bus: a full queue under load repeats for every note.
			b.log.Warn("Bus queue full: notifications dropped (see Dropped)",
				slog.Int("queue_size", cap(b.queue)), slog.Int64("queue_bytes", b.opts.QueueBytes))
		}
	}
}

// dequeued gives back the queue bytes of p, taken from the queue.
func (b *Bus) dequeued(p pending) pending {
	b.queued.Add(-p.size())
	return p
}

// Dropped counts the notifications Notify could not queue.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// LastID is the id of the newest note this instance has published.
func (b *Bus) LastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastID
}

// Run publishes queued notes (and, in PostgreSQL mode, listens for other
// instances' notes) until ctx is cancelled. Then it closes every
// subscription (ErrStopped) and every socket (1001), and returns once they
// are gone. It returns an error at once if the database cannot be set up;
// later database outages are logged and retried. A bus runs once.
func (b *Bus) Run(ctx context.Context) error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("bus: Run called twice")
	}
	defer b.shutdown()
	var wg sync.WaitGroup
	if b.pg != nil {
		defer b.pg.close()
		if err := b.pg.start(ctx); err != nil {
			return err
		}
		wg.Go(func() { b.pg.listen(ctx) })
	}
	wg.Go(func() { b.batch(ctx) })
	wg.Go(func() { b.watchAccess(ctx) })
	wg.Wait()
	return nil
}

// shutdown refuses new subscriptions and sockets, ends the existing ones
// and waits for the sockets.
func (b *Bus) shutdown() {
	b.mu.Lock()
	b.stopped = true
	for s := range b.subs {
		b.endLocked(s, ErrStopped)
	}
	b.mu.Unlock()
	b.stop()
	b.conns.Wait()
}

// batch is the publishing loop: it takes whatever is queued (up to
// MaxBatch, without waiting for more) and publishes it, and drops expired
// notes. On cancel it publishes what is still queued, briefly.
func (b *Bus) batch(ctx context.Context) {
	gc := time.NewTicker(b.opts.gcInterval())
	defer gc.Stop()
	batch := make([]pending, 0, b.opts.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			b.flush(ctx)
			return
		case p := <-b.queue:
			batch = b.take(append(batch[:0], b.dequeued(p)))
			b.publish(ctx, batch)
			clear(batch) // release the payloads
		case <-gc.C:
			b.expire(ctx)
		}
	}
}

// take fills batch with what is queued, without waiting.
func (b *Bus) take(batch []pending) []pending {
	for len(batch) < b.opts.MaxBatch {
		select {
		case p := <-b.queue:
			batch = append(batch, b.dequeued(p))
		default:
			return batch
		}
	}
	return batch
}

// flush publishes what is queued when Run ends, so that a note notified
// just before shutdown still reaches the database and the other instances.
func (b *Bus) flush(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for fctx.Err() == nil {
		batch := b.take(nil)
		if len(batch) == 0 {
			return
		}
		b.publish(fctx, batch)
	}
}

// publish numbers and delivers a batch (memory mode) or stores it for
// every instance's listener to deliver (PostgreSQL mode).
func (b *Bus) publish(ctx context.Context, batch []pending) {
	if b.pg != nil {
		if err := b.pg.insert(ctx, batch); err != nil {
			b.dropped.Add(int64(len(batch)))
			b.log.Error("Notifications dropped: cannot store them", slog.Int("count", len(batch)), slog.Any("error", err))
		}
		return
	}
	notes := make([]Note, len(batch))
	for i, p := range batch {
		b.nextID++
		notes[i] = newNote(b.nextID, p)
	}
	b.deliver(notes)
}

// expire drops the notes older than Retention from memory and, in
// PostgreSQL mode, from bus_batch.
func (b *Bus) expire(ctx context.Context) {
	b.mu.Lock()
	b.buf.expire(time.Now().Add(-b.opts.Retention))
	b.mu.Unlock()
	if b.pg != nil {
		b.pg.gc(ctx)
	}
}

// deliver records notes (in id order, above every note seen) in the ring
// and fans them out. Subscribe holds the same lock while it replays, which
// is what makes replay-then-live free of gaps and duplicates.
func (b *Bus) deliver(notes []Note) {
	notes, access := withoutAccessNotes(notes)
	if access {
		b.kickAccess()
	}
	if len(notes) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.add(notes)
	b.lastID = notes[len(notes)-1].ID
	b.fanOutLocked(notes)
	b.metrics.published.Add(float64(len(notes)))
}

// fanOutLocked hands each subscriber its part of notes. A subscriber that
// listens to every channel in the batch (the usual case) shares the batch
// instead of getting its own copy, which keeps a fan-out to a thousand
// sockets cheap.
func (b *Bus) fanOutLocked(notes []Note) {
	if len(b.subs) == 0 {
		return
	}
	notes = slices.Clip(notes)
	size := notesSize(notes)
	var chans []string
	for _, n := range notes {
		if !slices.Contains(chans, n.Channel) {
			chans = append(chans, n.Channel)
		}
	}
	for s := range b.subs {
		part, partSize := notes, size
		switch s.matchCount(chans) {
		case 0:
			continue
		case len(chans):
		default:
			part = s.filter(notes)
			partSize = notesSize(part)
		}
		if !s.push(part, partSize, b.opts.SubscriberBuffer, b.opts.SubscriberBufferBytes) {
			b.metrics.slow.Inc()
			b.endLocked(s, ErrTooSlow)
		}
	}
}

// Subscribe registers a live subscription to channels. Buffered notes with
// ID > last on those channels come first (replay), then live ones, in id
// order, without duplicates or gaps, unless the subscriber is too slow:
// then its channel is closed and Err reports ErrTooSlow. As in Odoo, a last
// greater than the newest id (a client from before a restart) counts as 0:
// the whole buffered window is replayed. After the bus stopped, the
// subscription comes back closed (ErrStopped).
func (b *Bus) Subscribe(channels []string, last int64) *Subscription {
	s := &Subscription{b: b, channels: make(map[string]bool, len(channels)), ch: make(chan []Note, 1)}
	for _, c := range channels {
		if !s.channels[c] {
			s.channels[c] = true
			s.list = append(s.list, c)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		s.err, s.closed = ErrStopped, true
		close(s.ch)
		return s
	}
	if replay := b.buf.since(s.channels, b.resumeFrom(last)); len(replay) > 0 {
		s.ch <- replay
		s.unread = notesSize(replay)
	}
	b.subs[s] = struct{}{}
	return s
}

// Since returns the buffered notes with ID > last on channels (last
// greater than the newest id counts as 0, as for Subscribe).
func (b *Bus) Since(channels []string, last int64) []Note {
	set := make(map[string]bool, len(channels))
	for _, c := range channels {
		set[c] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.since(set, b.resumeFrom(last))
}

// resumeFrom applies Odoo's rule: an id from the future is from before a
// restart, and means "everything you still have".
func (b *Bus) resumeFrom(last int64) int64 {
	if last > b.lastID || last < 0 {
		return 0
	}
	return last
}

// endLocked closes s's feed with err, once. b.mu is held.
func (b *Bus) endLocked(s *Subscription, err error) {
	if s.closed {
		return
	}
	s.closed, s.err = true, err
	delete(b.subs, s)
	close(s.ch)
}
