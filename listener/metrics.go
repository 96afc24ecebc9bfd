package listener

import (
	"errors"
	"log/slog"
	"strconv"

	mqttmodel "github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Service's Prometheus collectors. They always exist, so
// the code never checks for nil; they are registered only when
// Options.Metrics is set.
type metrics struct {
	state      *prometheus.GaugeVec
	reconnects *prometheus.CounterVec
	received   *prometheus.CounterVec
	sent       *prometheus.CounterVec
	batchSize  prometheus.Histogram
	commit     prometheus.Histogram
	dropped    prometheus.Counter
	duplicates *prometheus.CounterVec
	depth      prometheus.GaugeFunc
	queueBytes prometheus.GaugeFunc
	oversized  *prometheus.CounterVec

	deviceTooLarge *prometheus.CounterVec

	deviceBytes   prometheus.GaugeFunc
	deviceMsgs    prometheus.GaugeFunc
	deviceWaits   prometheus.Counter
	deviceRetries prometheus.Counter
	deviceLost    prometheus.Counter

	rulesBytes   prometheus.GaugeFunc
	rulesMsgs    prometheus.GaugeFunc
	rulesWaits   prometheus.Counter
	rulesRetries prometheus.Counter
	rulesLost    prometheus.Counter
}

var daemonStates = []string{mqttmodel.StateConnecting, mqttmodel.StateConnected, mqttmodel.StateReconnecting, mqttmodel.StateStopped, mqttmodel.StateError}

func newMetrics(reg prometheus.Registerer, queueDepth, queueBytes func() float64, deviceQueue, rulesQueue func() (bytes, msgs int), log *slog.Logger) *metrics {
	const ns = "odoo_iot_mqtt"
	m := &metrics{
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "connection_state",
			Help: "Listener state of each broker: 1 for the current state, 0 for the others."}, []string{"broker_id", "state"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "reconnects_total",
			Help: "Connection attempts after a failed connect or a lost connection."}, []string{"broker_id"}),
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_received_total",
			Help: "Messages received from each broker."}, []string{"broker_id"}),
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_sent_total",
			Help: "Messages published to each broker (acknowledged at QoS 1/2)."}, []string{"broker_id"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "ingest_batch_size",
			Help: "Received messages stored per commit.", Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000}}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "ingest_commit_seconds",
			Help: "Time to store one batch of received messages, retries included.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "messages_dropped_total",
			Help: "Received messages neither stored nor left to the broker to redeliver. Stays 0: the queue blocks instead of dropping."}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "duplicates_dropped_total",
			Help: "Received messages a persistent session's broker redelivered (DUP) after they were stored: acknowledged, not stored again."}, []string{"broker_id"}),
		depth: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "ingest_queue_depth",
			Help: "Received messages waiting to be stored."}, queueDepth),
		queueBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "ingest_queue_bytes",
			Help: "Bytes of received messages read from the brokers and not yet stored (topic, payload and a per-message overhead); at most --ingest-queue-bytes."}, queueBytes),
		oversized: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "messages_oversized_total",
			Help: "Received messages refused because their payload exceeded the broker's max_payload_size: not stored, acknowledged."}, []string{"broker_id"}),
		deviceTooLarge: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "device_messages_oversized_total",
			Help: "Messages on device topics with a payload over 4 KiB, not used for device updates."}, []string{"broker_id"}),
		deviceBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "device_queue_bytes",
			Help: "Topic and payload bytes of acknowledged device messages waiting for (or in) device ingestion."},
			func() float64 { b, _ := deviceQueue(); return float64(b) }),
		deviceMsgs: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "device_queue_messages",
			Help: "Device messages waiting for (or in) device ingestion."},
			func() float64 { _, n := deviceQueue(); return float64(n) }),
		deviceWaits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "device_queue_waits_total",
			Help: "Times the batch writer waited for room in the full device queue (back-pressure)."}),
		deviceRetries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "device_ingest_retries_total",
			Help: "Failed device updates, each retried after a backoff."}),
		deviceLost: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "device_messages_lost_total",
			Help: "Acknowledged device messages whose device update was given up at shutdown (the drain timeout passed)."}),
		rulesBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "rules_queue_bytes",
			Help: "Bytes (topic, payload and a per-message overhead) of acknowledged messages waiting for (or in) rule evaluation."},
			func() float64 { b, _ := rulesQueue(); return float64(b) }),
		rulesMsgs: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "rules_queue_messages",
			Help: "Received messages waiting for (or in) rule evaluation."},
			func() float64 { _, n := rulesQueue(); return float64(n) }),
		rulesWaits: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "rules_queue_waits_total",
			Help: "Times the batch writer waited for room in the full rules queue (back-pressure)."}),
		rulesRetries: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "rules_evaluate_retries_total",
			Help: "Failed rule evaluations, each retried after a backoff."}),
		rulesLost: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "rules_messages_lost_total",
			Help: "Acknowledged messages whose rule evaluation was given up at shutdown (the drain timeout passed)."}),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{m.state, m.reconnects, m.received, m.sent, m.batchSize, m.commit, m.dropped, m.duplicates, m.depth, m.queueBytes, m.oversized, m.deviceTooLarge,
		m.deviceBytes, m.deviceMsgs, m.deviceWaits, m.deviceRetries, m.deviceLost, m.rulesBytes, m.rulesMsgs, m.rulesWaits, m.rulesRetries, m.rulesLost} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				log.Warn("Unable to register a listener metric", slog.Any("error", err))
				continue
			}
			// A second Service on the same registry (tests) keeps the
			// first one's collectors.
			log.Warn("Listener metrics already registered; this service's are not exported")
			return m
		}
	}
	return m
}

func brokerLabel(id int64) string { return strconv.FormatInt(id, 10) }

// setState makes state the broker's only current state.
func (m *metrics) setState(brokerID int64, state string) {
	id := brokerLabel(brokerID)
	for _, s := range daemonStates {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.WithLabelValues(id, s).Set(v)
	}
}

// forget drops the series of a deleted broker.
func (m *metrics) forget(brokerID int64) {
	l := prometheus.Labels{"broker_id": brokerLabel(brokerID)}
	m.state.DeletePartialMatch(l)
	m.reconnects.DeletePartialMatch(l)
	m.received.DeletePartialMatch(l)
	m.sent.DeletePartialMatch(l)
	m.oversized.DeletePartialMatch(l)
	m.deviceTooLarge.DeletePartialMatch(l)
}
