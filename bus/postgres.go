package bus

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL mode: Odoo's bus.bus design. The batcher stores notes in
// bus_bus and calls pg_notify('imbus') in the same transaction; each
// instance's listener connection hears it and fetches the rows above the
// last id it fetched, local ones included.
//
// Unlike Odoo, a row holds a whole published batch, packed (packBatch):
// the MQTT path notifies once per stored message, and one row per note
// doubled the database's work per message at full ingest speed. A note's
// id is its row id times noteIDSpan plus its place in the row, so ids stay
// integers that only grow, in commit order.

const (
	pgChannel = "imbus"
	// pgLockKey serialises bus_batch writers (pg_advisory_xact_lock): ids are
	// drawn and committed in the same order, so a reader that sees id N has
	// seen every id below it and "id > last" never skips a slow commit.
	pgLockKey int64 = 0x6f696d627573 // "oimbus"
	// pgFetchLimit bounds the rows (batches) one fetch reads.
	pgFetchLimit = 100
	// pgIdleFetch: with no notification for this long the listener fetches
	// anyway, which also proves the connection is alive.
	pgIdleFetch = 30 * time.Second
	// pgInsertAttempts: a batch that cannot be stored after this many
	// reconnects is dropped (and counted).
	pgInsertAttempts = 3
)

// The packed rows are already compact and are read once by each instance:
// EXTERNAL storage skips TOAST's compression.
var pgSchema = `
SELECT pg_advisory_xact_lock(` + strconv.FormatInt(pgLockKey, 10) + `);
CREATE TABLE IF NOT EXISTS bus_batch (
	id          bigserial PRIMARY KEY,
	notes       bytea     NOT NULL,
	create_date timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
ALTER TABLE bus_batch ALTER COLUMN notes SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS bus_batch_create_date_index ON bus_batch (create_date);`

const pgInsert = `INSERT INTO bus_batch (notes, create_date) VALUES ($1, $2)`

const pgFetch = `SELECT id, notes FROM bus_batch WHERE id > $1 ORDER BY id LIMIT $2`

// Application names of the bus's two connections (pg_stat_activity).
const (
	pgWriterName   = "odoo-iot-mqtt bus writer"
	pgListenerName = "odoo-iot-mqtt bus listener"
)

type pgStore struct {
	b   *Bus
	cfg *pgx.ConnConfig

	conn    *pgx.Conn // the batcher's connection (inserts, GC); owned by the batcher goroutine
	packBuf []byte    // the batcher's reused packing buffer
	last    int64     // newest row id fetched; owned by start, then by the listener goroutine
}

func newPGStore(b *Bus, dsn string) (*pgStore, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("bus: PostgreSQL DSN: %w", err)
	}
	return &pgStore{b: b, cfg: cfg}, nil
}

// start connects, creates bus_batch if needed, and loads the notes still
// within Retention, so that clients resuming across a restart get them.
func (p *pgStore) start(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, p.writerConfig())
	if err != nil {
		return fmt.Errorf("bus: connect to PostgreSQL: %w", err)
	}
	p.conn = conn
	// Several instances may start together: the advisory lock keeps their
	// CREATE TABLE IF NOT EXISTS from colliding.
	if _, err := conn.Exec(cctx, pgSchema); err != nil {
		return fmt.Errorf("bus: create bus_batch: %w", err)
	}
	if err := conn.QueryRow(cctx, `SELECT COALESCE(MAX(id), 0) FROM bus_batch`).Scan(&p.last); err != nil {
		return fmt.Errorf("bus: read bus_batch: %w", err)
	}
	cutoff := time.Now().Add(-p.b.opts.Retention).UTC()
	rows, err := conn.Query(cctx, `SELECT id, notes FROM bus_batch WHERE create_date > $1 ORDER BY id DESC LIMIT $2`,
		cutoff, p.b.opts.MaxBuffered)
	if err != nil {
		return fmt.Errorf("bus: read bus_batch: %w", err)
	}
	batches, err := p.scanBatches(rows)
	if err != nil {
		return fmt.Errorf("bus: read bus_batch: %w", err)
	}
	slices.Reverse(batches)
	var notes []Note
	for _, batch := range batches {
		notes = append(notes, batch...)
	}
	if len(notes) > p.b.opts.MaxBuffered {
		notes = notes[len(notes)-p.b.opts.MaxBuffered:]
	}
	// Subscriptions made before now resumed from 0 (nothing was known, so
	// any last id was from the future): they get the loaded window too.
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.add(notes)
	b.fanOutLocked(notes)
	// The newest note when its row was loaded; else a bound: every id of
	// the newest row is below it and every later row's ids above it, so a
	// client's last id up to it is not from the future.
	b.lastID = lastNoteID(p.last)
	if n := len(notes); n > 0 && notes[n-1].ID/noteIDSpan == p.last {
		b.lastID = notes[n-1].ID
	}
	return nil
}

// close closes the batcher's connection once the batcher is done.
func (p *pgStore) close() {
	if p.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.conn.Close(ctx)
		p.conn = nil
	}
}

// insert stores a batch and notifies every instance, in one round trip
// (a pgx batch runs as one implicit transaction). A broken connection is
// replaced and the batch retried a few times.
func (p *pgStore) insert(ctx context.Context, batch []pending) error {
	packed := packBatch(p.packBuf[:0], batch)
	p.packBuf = packed[:0]
	at := batch[0].at.UTC()
	var err error
	for attempt := 0; attempt < pgInsertAttempts; attempt++ {
		if attempt > 0 && !sleep(ctx, time.Duration(attempt)*250*time.Millisecond) {
			break
		}
		if err = p.connect(ctx); err != nil {
			continue
		}
		q := &pgx.Batch{}
		q.Queue(`SELECT pg_advisory_xact_lock($1)`, pgLockKey)
		q.Queue(pgInsert, packed, at)
		q.Queue(`SELECT pg_notify($1, '')`, pgChannel)
		if err = p.conn.SendBatch(ctx, q).Close(); err == nil {
			return nil
		}
		p.b.log.Warn("Unable to store bus notes; reconnecting", slog.Int("attempt", attempt+1), slog.Any("error", err))
		p.dropConn()
	}
	return err
}

// gc deletes the rows older than Retention (every instance does it; the
// DELETE is idempotent and cheap with the create_date index).
func (p *pgStore) gc(ctx context.Context) {
	if err := p.connect(ctx); err != nil {
		return
	}
	cutoff := time.Now().Add(-p.b.opts.Retention).UTC()
	if _, err := p.conn.Exec(ctx, `DELETE FROM bus_batch WHERE create_date < $1`, cutoff); err != nil {
		p.b.log.Warn("Unable to delete expired bus notes", slog.Any("error", err))
		p.dropConn()
	}
}

func (p *pgStore) connect(ctx context.Context) error {
	if p.conn != nil && !p.conn.IsClosed() {
		return nil
	}
	p.dropConn()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, p.writerConfig())
	if err != nil {
		return fmt.Errorf("bus: connect to PostgreSQL: %w", err)
	}
	p.conn = conn
	return nil
}

// writerConfig is the configuration of the connection that inserts notes.
// Bus rows live 100 s and the bus is best effort: the writer need not wait
// for the WAL flush, which took most of a batch's latency. A crash can lose
// the last notes, never the messages (their own transactions stay
// synchronous). NOTIFY is still delivered at commit.
func (p *pgStore) writerConfig() *pgx.ConnConfig {
	cfg := p.config(pgWriterName)
	cfg.RuntimeParams["synchronous_commit"] = "off"
	return cfg
}

// config is the connection configuration, named for pg_stat_activity.
func (p *pgStore) config(name string) *pgx.ConnConfig {
	cfg := p.cfg.Copy()
	cfg.RuntimeParams["application_name"] = name
	return cfg
}

func (p *pgStore) dropConn() {
	if p.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = p.conn.Close(ctx)
		cancel()
		p.conn = nil
	}
}

// listen keeps one connection on LISTEN imbus and delivers what other
// instances (and this one) store, reconnecting with backoff until ctx ends.
func (p *pgStore) listen(ctx context.Context) {
	const minWait, maxWait = 200 * time.Millisecond, 10 * time.Second
	wait := minWait
	for ctx.Err() == nil {
		began := time.Now()
		err := p.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > time.Minute {
			wait = minWait // it had been working: this is a new outage
		}
		p.b.log.Warn("Bus LISTEN connection lost; reconnecting", slog.Any("error", err), slog.Duration("retry_in", wait))
		if !sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, maxWait)
	}
}

// listenOnce runs one LISTEN connection until it fails or ctx ends. It
// fetches right after LISTEN, so that nothing stored while it was away is
// missed.
func (p *pgStore) listenOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, p.config(pgListenerName))
	cancel()
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, `LISTEN `+pgChannel); err != nil {
		return err
	}
	for {
		if err := p.fetch(ctx, conn); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, pgIdleFetch)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		if err != nil && (ctx.Err() != nil || !pgconn.Timeout(err)) {
			return err
		}
	}
}

// fetch delivers the rows above the last id fetched.
func (p *pgStore) fetch(ctx context.Context, conn *pgx.Conn) error {
	for {
		rows, err := conn.Query(ctx, pgFetch, p.last, pgFetchLimit)
		if err != nil {
			return err
		}
		batches, err := p.scanBatches(rows)
		if err != nil {
			return err
		}
		for _, notes := range batches {
			p.b.deliver(notes)
		}
		if len(batches) < pgFetchLimit {
			return nil
		}
	}
}

// scanBatches reads bus_batch rows into their notes, one slice per row
// (an empty one for a malformed row, which is logged); it moves p.last
// past every row.
func (p *pgStore) scanBatches(rows pgx.Rows) ([][]Note, error) {
	defer rows.Close()
	var out [][]Note
	for rows.Next() {
		var (
			id     int64
			packed []byte
		)
		if err := rows.Scan(&id, &packed); err != nil {
			return nil, err
		}
		p.last = max(p.last, id)
		notes, err := unpackBatch(id, packed)
		if err != nil {
			p.b.log.Warn("Skipped a malformed bus batch", slog.Int64("row", id), slog.Any("error", err))
		}
		out = append(out, notes)
	}
	return out, rows.Err()
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
