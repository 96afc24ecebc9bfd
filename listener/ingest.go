package listener

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// item is one received message on its way to the database.
type item struct {
	msg                 message
	at                  time.Time // arrival
	broker, sub, signal int64     // 0: none
	sess                *session  // the connection to acknowledge it on
	device              bool      // on one of the broker's device topics
	deviceTooLarge      bool      // a device message over maxDevicePayload: no device update
	refused             bool      // over the broker's largest payload: acknowledged, not stored
	duplicate           bool      // a redelivery of a message stored already: acknowledged, not stored again
	size                int       // its bytes in the byte budget, given back once done
}

// stored reports whether the message goes to the history: any message
// but a refused one, or a device message no user subscription asked for.
func (it *item) stored() bool { return !it.refused && (it.sub != 0 || !it.device) }

// lost reports whether giving up on the message loses it: a QoS 0 message,
// or one of a clean session, is not redelivered by the broker.
func (it *item) lost() bool { return it.msg.qos == 0 || it.sess.d.cfg.CleanSession }

// enqueue puts a message in the ingest queue. When the queue is full it
// blocks: with ordered delivery paho then stops reading that connection,
// so the broker's in-flight window throttles the publishers instead of
// anything being dropped. It gives up only when the message's session has
// ended (the service stopping while the database is stuck).
func (s *Service) enqueue(it item) {
	select {
	case <-it.sess.done: // checked first: late handler calls must not queue
		s.abandon(it)
		return
	default:
	}
	select {
	case s.queue <- it:
	case <-it.sess.done:
		s.abandon(it)
	}
}

func (s *Service) abandon(it item) {
	s.gate.release(it.size)
	if it.lost() && !it.refused {
		s.m.dropped.Inc()
	}
}

// shortBatch: below this many queued messages a batch is committed at
// once. Waiting to fill it would only add latency, and at QoS 1 the
// broker sends no more until these are acknowledged (Mosquitto's default
// in-flight window is 20 messages).
const shortBatch = 64

// writer is the single goroutine that stores received messages.
type writer struct {
	s        *Service
	batch    []item
	rows     []mqttmodel.HistoryRow
	acks     []func()
	failing  bool           // between a failed insert and the next success
	lastErr  error          // why the final drain gave up
	jobOf    map[int64]int  // broker -> its job in the batch, scratch of handDevices and handRules
	watching map[int64]bool // broker -> the rule engine watches it, scratch of handRules
}

// write runs the writer until stop is closed, then commits what is queued
// and returns. ctx ends at the drain deadline (drainTimeout after stop):
// then the final drain gives up if the database keeps failing.
func (s *Service) write(ctx context.Context, stop <-chan struct{}) {
	w := &writer{s: s, jobOf: map[int64]int{}, batch: make([]item, 0, s.opts.BatchSize), rows: make([]mqttmodel.HistoryRow, 0, s.opts.BatchSize)}
	for {
		select {
		case it := <-s.queue:
			w.batch = append(w.batch[:0], it)
			w.fill()
		case <-stop:
			for {
				w.batch = w.batch[:0]
				w.take()
				if len(w.batch) == 0 {
					return
				}
				if !w.commit(ctx) {
					w.giveUp()
					return
				}
			}
		}
		if !w.commit(ctx) {
			w.giveUp()
			return
		}
	}
}

// take appends what is queued, without waiting, up to the batch size.
func (w *writer) take() {
	for len(w.batch) < w.s.opts.BatchSize {
		select {
		case it := <-w.s.queue:
			w.batch = append(w.batch, it)
		default:
			return
		}
	}
}

// fill completes a batch. A short queue is committed at once; a long one
// means messages are streaming in, so the writer waits up to
// FlushInterval to commit a full batch, and stops waiting as soon as
// arrivals pause.
func (w *writer) fill() {
	w.take()
	size := w.s.opts.BatchSize
	if len(w.batch) < shortBatch || len(w.batch) >= size {
		return
	}
	gapInterval := max(w.s.opts.FlushInterval/5, 100*time.Microsecond)
	deadline := time.NewTimer(w.s.opts.FlushInterval)
	defer deadline.Stop()
	gap := time.NewTimer(gapInterval)
	defer gap.Stop()
	for len(w.batch) < size {
		select {
		case it := <-w.s.queue:
			w.batch = append(w.batch, it)
			w.take()
			gap.Reset(gapInterval)
		case <-gap.C:
			return
		case <-deadline.C:
			return
		}
	}
}

// commit stores the batch's history rows in one transaction (see store),
// then finishes the batch (see finish). When shutdown gave up storing, it
// finishes the messages before the first row not stored and keeps the
// rest in w.batch.
func (w *writer) commit(ctx context.Context) bool {
	s := w.s
	w.rows = w.rows[:0]
	for i := range w.batch {
		it := &w.batch[i]
		if !it.stored() {
			continue
		}
		m := &it.msg
		w.rows = append(w.rows, mqttmodel.HistoryRow{
			BrokerID: it.broker, SubscriptionID: it.sub, SignalID: it.signal,
			Topic: m.topic, Payload: m.payload, QoS: m.qos, Retain: m.retained,
			Direction: "receive", Timestamp: it.at, Properties: m.properties(),
			PacketID: it.redeliveryID(), Dup: m.dup, Session: it.sess.clientID,
		})
	}
	start := time.Now()
	stored := w.store(ctx, w.rows)
	if stored < len(w.rows) {
		done := w.storedPrefix(stored)
		w.markDuplicates(w.batch[:done], w.rows[:stored])
		w.finish(ctx, w.batch[:done], w.rows[:stored])
		w.release(w.batch[:done])
		w.batch = append(w.batch[:0], w.batch[done:]...)
		return false
	}
	if w.failing {
		w.failing = false
		s.log.Info("Storing received messages again")
	}
	s.m.commit.Observe(time.Since(start).Seconds())
	s.m.batchSize.Observe(float64(len(w.batch)))
	w.markDuplicates(w.batch, w.rows)
	if s.opts.afterCommit != nil {
		s.opts.afterCommit(w.batch)
	}

	w.finish(ctx, w.batch, w.rows)
	w.release(w.batch)
	clear(w.batch) // let the payloads go
	clear(w.rows)
	return true
}

// finish completes stored messages, in this order: their QoS 1/2
// messages are handed to their sessions to acknowledge (ackStored), the
// bus is told about their rows, their device messages go to the device
// worker (handDevices) and the messages the rules watch to the rules
// worker (handRules), both of which may wait for room. So nothing is
// acknowledged before its row is committed, the bus tells only of rows
// committed and acknowledged, and device updates and rules never hold an
// acknowledgement.
func (w *writer) finish(ctx context.Context, batch []item, rows []mqttmodel.HistoryRow) {
	w.ackStored(batch)
	w.s.store.NotifyHistory(ctx, rows)
	w.handDevices(ctx, batch)
	w.handRules(ctx, batch)
}

// markDuplicates marks the messages whose rows InsertHistory found to be
// redeliveries of messages stored already: they are acknowledged, and
// neither told, nor handed to the device and rules workers again.
func (w *writer) markDuplicates(batch []item, rows []mqttmodel.HistoryRow) {
	j := 0
	for i := range batch {
		it := &batch[i]
		if !it.stored() {
			continue
		}
		if j < len(rows) && rows[j].Duplicate {
			it.duplicate = true
			w.s.m.duplicates.WithLabelValues(strconv.FormatInt(it.broker, 10)).Inc()
			w.s.log.Debug("Dropped a redelivered message stored already",
				slog.Int64("broker_id", it.broker), slog.String("topic", it.msg.topic), slog.Int("packet_id", int(it.msg.packetID)))
		}
		j++
	}
}

// redeliveryID is the packet id the redelivery window keys the message
// on, or 0 when it is not tracked: only QoS 1/2 messages of persistent
// sessions are ever redelivered.
func (it *item) redeliveryID() uint16 {
	if it.msg.qos == 0 || it.sess.d.cfg.CleanSession {
		return 0
	}
	return it.msg.packetID
}

// release gives the byte budget of finished messages back.
func (w *writer) release(batch []item) {
	n := 0
	for i := range batch {
		n += batch[i].size
	}
	w.s.gate.release(n)
}

// storedPrefix is how many leading messages of the batch are done when
// its first n history rows are stored.
func (w *writer) storedPrefix(n int) int {
	for i := range w.batch {
		if w.batch[i].stored() {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return len(w.batch)
}

// ackStored hands stored QoS 1/2 messages to their sessions to
// acknowledge, per session and in arrival order.
func (w *writer) ackStored(batch []item) {
	var cur *session
	for i := range batch {
		it := &batch[i]
		if it.msg.ack == nil { // QoS 0
			continue
		}
		if it.sess != cur {
			w.flushAcks(cur)
			cur = it.sess
		}
		w.acks = append(w.acks, it.msg.ack)
	}
	w.flushAcks(cur)
}

// splitAfter: a batch failing this many times in a row is split in two,
// down to single rows, so that one row the database refuses cannot hold
// back the others forever.
const splitAfter = 3

// store inserts rows, retrying with backoff until they are stored, and
// returns how many leading rows it stored: all of them unless ctx ended
// (shutdown gave up). A single row still refused after splitAfter attempts
// loses the links to records deleted while it waited (a foreign key the
// database refuses); otherwise the database is unavailable, and the row
// is retried until it comes back.
func (w *writer) store(ctx context.Context, rows []mqttmodel.HistoryRow) int {
	s := w.s
	retry := &backoff{initial: 50 * time.Millisecond, factor: 2, max: 5 * time.Second}
	for attempt := 1; ; attempt++ {
		err := s.store.InsertHistory(ctx, rows)
		if err == nil {
			return len(rows)
		}
		if ctx.Err() != nil {
			w.lastErr = err
			return 0
		}
		if !w.failing {
			w.failing = true
			s.log.Warn("Unable to store received messages, retrying; nothing is acknowledged meanwhile",
				slog.Int("messages", len(rows)), slog.Any("error", err))
		}
		if attempt >= splitAfter {
			if len(rows) > 1 {
				half := len(rows) / 2
				if n := w.store(ctx, rows[:half]); n < half {
					return n
				}
				return half + w.store(ctx, rows[half:])
			}
			if w.dropMissingLinks(ctx, &rows[0], err) {
				attempt = 0
				continue
			}
		}
		t := time.NewTimer(retry.next())
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// dropMissingLinks clears the row's links to a subscription, signal or
// broker that no longer exists, and reports whether it cleared any.
func (w *writer) dropMissingLinks(ctx context.Context, r *mqttmodel.HistoryRow, cause error) bool {
	changed := false
	for _, l := range []struct {
		model string
		id    *int64
	}{{"mqtt.subscription", &r.SubscriptionID}, {"mqtt.signal", &r.SignalID}, {"mqtt.broker", &r.BrokerID}} {
		if *l.id == 0 {
			continue
		}
		if ok, err := w.s.recordExists(ctx, l.model, *l.id); err == nil && !ok {
			w.s.log.Warn("Storing a received message without its link to a deleted record",
				slog.String("topic", r.Topic), slog.String("model", l.model), slog.Int64("id", *l.id), slog.Any("error", cause))
			*l.id = 0
			changed = true
		}
	}
	return changed
}

// recordExists asks the models whether a record exists (archived ones
// included).
func (s *Service) recordExists(ctx context.Context, model string, id int64) (bool, error) {
	return s.store.RecordExists(ctx, model, id)
}

func (w *writer) flushAcks(ss *session) {
	if ss != nil && len(w.acks) > 0 {
		ss.ack(w.acks)
	}
	clear(w.acks)
	w.acks = w.acks[:0]
}

// giveUp counts what the shutdown leaves unstored: the current batch and
// whatever is still queued.
func (w *writer) giveUp() {
	n := len(w.batch)
	for i := range w.batch {
		w.s.abandon(w.batch[i])
	}
	for done := false; !done; {
		select {
		case it := <-w.s.queue:
			w.s.abandon(it)
			n++
		default:
			done = true
		}
	}
	w.s.log.Error("Giving up storing received messages at shutdown; the broker redelivers those of persistent sessions",
		slog.Int("messages", n), slog.Any("error", w.lastErr))
}
