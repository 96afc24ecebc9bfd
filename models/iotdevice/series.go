package iotdevice

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/internal/jsonpath"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/iot"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// seriesParams are get_sensor_series' parameters: get_series' time range
// and sizes; the topics and paths come from the device.
var seriesParams = []models.Param{
	{Name: "interval_seconds", Optional: true, Default: false}, {Name: "start", Optional: true, Default: false},
	{Name: "end", Optional: true, Default: false}, {Name: "max_points", Optional: true, Default: false},
	{Name: "range_seconds", Optional: true, Default: false},
}

// deviceSensorSeries is iot.device.get_sensor_series: for each device,
// each sensor of its last_values with a number, the series of its
// telemetry (mqtt.signal.history.get_series over the received history
// of its topic). A sensor topic's payload is the reading, a number or an
// object with "value"; a device topic's is an object of readings, each
// key a sensor (a number, or an object with "value"). Devices whose
// telemetry topic has no {id} (shared by devices) have no series.
func (a *Addon) deviceSensorSeries(env *models.Env, ids []int64, args models.Args) (any, error) {
	base, err := mqtt.SeriesArgs(args, time.Now())
	if err != nil {
		return nil, err
	}
	recs, err := env.Load(a.reg.Model("iot.device"), ids, "identifier", "broker_id", "last_values", "ha_config")
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		brokers, err := env.Sudo().Load(a.reg.Model("mqtt.broker"), []int64{rec.Int("broker_id")}, brokerFields()...)
		if err != nil {
			return nil, err
		}
		sensors := []any{}
		if len(brokers) == 1 {
			if sensors, err = sensorSeries(env, rec, brokers[0], base); err != nil {
				return nil, err
			}
		}
		out = append(out, map[string]any{"id": rec.ID, "sensors": sensors})
	}
	return out, nil
}

func sensorSeries(env *models.Env, rec, broker *models.Record, base mqtt.SeriesRequest) ([]any, error) {
	patterns := devicePatterns(broker)
	var last map[string]any
	_ = json.Unmarshal([]byte(rec.Str("last_values")), &last) // none yet: no sensors
	ha := map[string]iot.HAEntity{}                           // by sensor
	for _, e := range parseEntities(rec.Str("ha_config")) {
		ha[e.Sensor] = e
	}
	out := []any{}
	for _, name := range slices.Sorted(maps.Keys(last)) {
		entry, _ := last[name].(map[string]any)
		if !isNumber(entry["value"]) {
			continue
		}
		req := base
		value := &jsonpath.Path{Raw: "value", Steps: []jsonpath.Step{{Key: "value", IsKey: true}}}
		topic, perSensor, err := patterns.TelemetryTopic(rec.Str("identifier"), name)
		e, isHA := ha[name]
		switch {
		case isHA:
			// A discovered entity: its state topic, read by its template.
			path, perr := jsonpath.Parse(e.ValuePath)
			if perr != nil || e.StateTopic == "" {
				continue
			}
			topic, req.Paths = e.StateTopic, []*jsonpath.Path{path}
		case err != nil:
			continue // shared or no telemetry topic: no series
		case perSensor:
			req.Paths = []*jsonpath.Path{nil, value}
		default:
			key := jsonpath.Step{Key: name, IsKey: true}
			req.Paths = []*jsonpath.Path{{Raw: name, Steps: []jsonpath.Step{key}}, {Raw: name + ".value", Steps: []jsonpath.Step{key, value.Steps[0]}}}
		}
		req.Domain = []any{[]any{"broker_id", "=", rec.Int("broker_id")}, []any{"topic", "=", topic}, []any{"direction", "=", "receive"}}
		s, err := mqtt.ComputeSeries(env, req)
		if err != nil {
			return nil, err
		}
		unit, _ := entry["unit"].(string)
		out = append(out, map[string]any{"sensor": name, "unit": unit, "topic": topic, "series": s.Dict()})
	}
	return out, nil
}

// isNumber: a reading a chart can draw (a number, or text holding one).
func isNumber(v any) bool {
	switch x := v.(type) {
	case float64:
		return true
	case string:
		_, ok := mqtt.NumberText(x)
		return ok
	}
	return false
}
