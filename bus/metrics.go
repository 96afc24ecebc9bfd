package bus

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bus's Prometheus collectors. They always exist, so the
// code never checks for nil; they are registered only when Options.Metrics
// is set.
type metrics struct {
	published prometheus.Counter
	slow      prometheus.Counter
	sockets   prometheus.Gauge
}

func newMetrics(b *Bus, reg prometheus.Registerer) *metrics {
	const ns, sub = "odoo_iot_mqtt", "bus"
	m := &metrics{
		published: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "notes_published_total",
			Help: "Notes this instance delivered to its subscribers (every instance's notes in PostgreSQL mode)."}),
		slow: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "slow_subscribers_total",
			Help: "Subscriptions cut off because their reader fell too far behind."}),
		sockets: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "websockets",
			Help: "Open /websocket connections."}),
	}
	if reg == nil {
		return m
	}
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "notes_dropped_total",
		Help: "Notifications dropped: queue full, payload not encodable, or not storable."}, func() float64 { return float64(b.Dropped()) })
	queued := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "queue_depth",
		Help: "Notifications waiting to be published."}, func() float64 { return float64(len(b.queue)) })
	for _, c := range []prometheus.Collector{m.published, m.slow, m.sockets, dropped, queued} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				// A second bus on one registry (tests) keeps the first's.
				continue
			}
			b.log.Warn("Unable to register a bus metric", slog.Any("error", err))
		}
	}
	return m
}
