package main

// The Prometheus registry of the process and its /metrics handler.

import (
	"database/sql"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/iotdevice"
)

// newMetrics returns a registry with the Go runtime, process and database
// pool collectors; the listener registers its own metrics on it. A private
// registry, not prometheus.DefaultRegisterer, so tests can start several
// servers in one process.
func newMetrics(db *sql.DB) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "main"),
	)
	return reg
}

// metricsHandler serves GET /metrics in the Prometheus text format.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Registry: reg, // counts its own errors in promhttp_metric_handler_errors_total
	})
}

// registerHAMetrics counts Home Assistant discovery's configs by outcome,
// so a device whose configs are refused shows beside its log lines.
func registerHAMetrics(reg *prometheus.Registry, iot *iotdevice.Addon) {
	for outcome, get := range map[string]func(iotdevice.HAStats) int64{
		"stored":   func(s iotdevice.HAStats) int64 { return s.Configs },
		"removed":  func(s iotdevice.HAStats) int64 { return s.Removed },
		"invalid":  func(s iotdevice.HAStats) int64 { return s.Invalid },
		"ignored":  func(s iotdevice.HAStats) int64 { return s.Ignored },
		"overflow": func(s iotdevice.HAStats) int64 { return s.Overflow },
	} {
		reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "odoo_iot_mqtt_ha_discovery_configs_total",
			Help:        "Home Assistant discovery configs read, by outcome (stored, removed, invalid, ignored component, overflow of the bounds).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { return float64(get(iot.HAStats())) }))
	}
}
