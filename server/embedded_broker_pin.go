package main

// The embedded broker's fallback port, pinned: when --embedded-broker's
// port is taken, the broker listens on a free port, and devices must be
// pointed at it. A new random port at every restart would strand them, so
// the first one chosen is kept in the database (ir.config_parameter
// embeddedBrokerPortKey) and later starts try it first.

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// embeddedBrokerPortKey is the system parameter holding the pinned port.
const embeddedBrokerPortKey = "odoo_iot_mqtt.embedded_broker_fallback_port"

// pinnedBrokerPort reads the pinned fallback port; 0 when none (or not a
// port: then the next fallback pins a new one).
func pinnedBrokerPort(ctx context.Context, reg *models.Registry) (int, error) {
	rows, err := reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "ir.config_parameter", Method: "search_read",
		Args: []any{[]any{[]any{"key", "=", embeddedBrokerPortKey}}, []any{"value"}}})
	if err != nil {
		return 0, err
	}
	recs, _ := rows.([]*models.Dict)
	if len(recs) == 0 {
		return 0, nil
	}
	v, _ := recs[0].Get("value")
	s, _ := v.(string)
	port, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || port < 1 || port > 65535 {
		return 0, nil
	}
	return port, nil
}

// pinBrokerPort stores port as the pinned fallback port.
func pinBrokerPort(ctx context.Context, reg *models.Registry, port int) error {
	call := func(method string, args ...any) (any, error) {
		return reg.Execute(ctx, models.Call{UID: models.Superuser, Model: "ir.config_parameter", Method: method, Args: args})
	}
	res, err := call("search", []any{[]any{"key", "=", embeddedBrokerPortKey}})
	if err != nil {
		return err
	}
	ids, _ := res.([]int64)
	if len(ids) > 0 {
		_, err = call("write", []any{ids[0]}, map[string]any{"value": strconv.Itoa(port)})
	} else {
		_, err = call("create", map[string]any{"key": embeddedBrokerPortKey, "value": strconv.Itoa(port)})
	}
	if err != nil {
		return fmt.Errorf("pin the embedded broker's port: %w", err)
	}
	return nil
}

// startPinnedBroker starts the embedded broker with the pinned fallback
// port and pins the port it fell back to when that changed. Failing to
// read or store the pin is logged, not fatal: the broker still runs.
func (a *app) startPinnedBroker(ctx context.Context) (*embeddedBroker, error) {
	pinned, err := pinnedBrokerPort(ctx, a.reg)
	if err != nil {
		a.log.Warn("Unable to read the embedded broker's pinned port", slog.Any("error", err))
	}
	b, err := startEmbeddedBroker(a.cfg.EmbeddedBroker, pinned, a.log)
	if err != nil {
		return nil, err
	}
	if b.fallback && b.port != pinned {
		if err := pinBrokerPort(ctx, a.reg, b.port); err != nil {
			a.log.Warn("Unable to pin the embedded broker's port", slog.Any("error", err))
		} else {
			a.log.Info("Embedded MQTT broker: fallback port pinned for the next starts", slog.Int("port", b.port), slog.String("parameter", embeddedBrokerPortKey))
		}
	}
	return b, nil
}
