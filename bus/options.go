package bus

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Bus. Zero values take the defaults documented on each
// field.
type Options struct {
	Logger *slog.Logger // default slog.Default()

	// PostgresDSN, when set, makes the bus share notifications with every
	// other instance on the same database through the table bus_batch and
	// LISTEN/NOTIFY. Empty: a single instance, in memory.
	PostgresDSN string

	// AllowedOrigins are foreign browser origins ("https://erp.example.com")
	// allowed to open the WebSocket or peek with a session cookie, besides
	// the server's own host.
	AllowedOrigins []string

	Retention   time.Duration // how long notes stay available for resuming; default 100 s (Odoo's GC)
	MaxBuffered int           // notes kept in memory for resuming, at most; default 10,000

	// MaxBufferedBytes bounds the notes kept for resuming in bytes too
	// (channel, type and encoded note, plus a per-note overhead); the
	// oldest go first. Default 16 MiB.
	MaxBufferedBytes int64

	QueueSize int // notifications waiting to be published before Notify drops; default 16,384
	// QueueBytes bounds the waiting notifications in bytes too (channel,
	// type and encoded message, plus a per-note overhead); over it Notify
	// drops. Default 16 MiB.
	QueueBytes int64
	MaxBatch   int // notes published per insert or fan-out, at most; default 1,000

	// SubscriberBuffer is how many notes a subscriber may leave unread
	// before it is cut off as too slow (ErrTooSlow); default 4,096.
	SubscriberBuffer int
	// SubscriberBufferBytes bounds a subscriber's unread notes in bytes
	// too (as MaxBufferedBytes counts them); over it, ErrTooSlow as well.
	// Default 16 MiB.
	SubscriberBufferBytes int64

	PingInterval         time.Duration // ping on every socket this often; default 30 s
	PongTimeout          time.Duration // close 4002 when nothing arrived for PingInterval+PongTimeout; default 20 s
	WriteTimeout         time.Duration // a frame that cannot be written this fast ends the socket; default 10 s
	SessionCheckInterval time.Duration // re-validate the session of a socket this often (close 4001); default 60 s
	MaxFrameBytes        int64         // largest client frame; default 64 KiB (larger: close 1009)
	MaxRequestBytes      int64         // largest POST body; default 1 MiB

	// AccessCheckInterval: every open socket's session and channels are
	// re-checked this often, besides on every access note (access.go), in
	// two queries for all of them; default 5 s.
	AccessCheckInterval time.Duration

	// FloodFrames client frames per FloodWindow are allowed on one socket,
	// with bursts up to FloodFrames; more closes it with 1013 (try again
	// later). Defaults: 100 frames per 10 s.
	FloodFrames int
	FloodWindow time.Duration

	// Metrics, when set, registers the bus's Prometheus collectors.
	Metrics prometheus.Registerer
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.Retention, 100*time.Second)
	setDefault(&o.MaxBuffered, 10_000)
	setDefault(&o.MaxBufferedBytes, 16<<20)
	setDefault(&o.QueueSize, 16_384)
	setDefault(&o.QueueBytes, 16<<20)
	setDefault(&o.MaxBatch, 1_000)
	o.MaxBatch = min(o.MaxBatch, noteIDSpan) // a PostgreSQL row holds at most noteIDSpan notes
	setDefault(&o.SubscriberBuffer, 4_096)
	setDefault(&o.SubscriberBufferBytes, 16<<20)
	setDefault(&o.PingInterval, 30*time.Second)
	setDefault(&o.PongTimeout, 20*time.Second)
	setDefault(&o.WriteTimeout, 10*time.Second)
	setDefault(&o.SessionCheckInterval, 60*time.Second)
	setDefault(&o.AccessCheckInterval, 5*time.Second)
	setDefault(&o.MaxFrameBytes, 64<<10)
	setDefault(&o.MaxRequestBytes, 1<<20)
	setDefault(&o.FloodFrames, 100)
	setDefault(&o.FloodWindow, 10*time.Second)
	return o
}

// gcInterval is how often expired notes are dropped: often enough that a
// note outlives Retention by at most half of it, never busier than once a
// second nor lazier than once a minute.
func (o Options) gcInterval() time.Duration {
	return min(max(o.Retention/2, time.Second), time.Minute)
}

func setDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}
