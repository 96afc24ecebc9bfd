package demo

import (
	"fmt"
	"log/slog"
	"strings"
)

// The demo's automation (issue 11, seed 004's controller): thermo-1 above
// ThermoOnAbove °C switches lamp-1 on, back below ThermoOffBelow switches
// it off. Each rule re-arms only once the temperature is back past the
// other threshold (hysteresis ThermoOnAbove - ThermoOffBelow), so the
// lamp does not flicker around one value. The simulated thermometer
// crosses both every cycle (see devices).
const (
	ThermoOnAbove  = 28
	ThermoOffBelow = 26

	RuleLampOn  = "thermo-1 above 28 °C: lamp-1 on"
	RuleLampOff = "thermo-1 below 26 °C: lamp-1 off"
)

// thermoTopic is thermo-1's temperature telemetry, whose payload is seed
// 004's {"timestamp", "type", "value", "unit"}: the rules read "value".
const thermoTopic = "device/" + ThermoID + "/telemetry/temperature"

// demoRules are the rules' values but for the broker and the device.
func demoRules() []map[string]any {
	rule := func(name, op string, threshold int, state string) map[string]any {
		return map[string]any{
			"name": name, "trigger": "message", "topic_filter": thermoTopic,
			"json_path": "value", "operator": op, "value": fmt.Sprint(threshold), "hysteresis": float64(ThermoOnAbove - ThermoOffBelow),
			"action": "device_action", "device_action": "switch", "params": `{"state": "` + state + `"}`,
		}
	}
	return []map[string]any{
		rule(RuleLampOn, ">", ThermoOnAbove, "on"),
		rule(RuleLampOff, "<", ThermoOffBelow, "off"),
	}
}

// seedRules creates the demo rules on the demo broker, acting on lamp-1's
// iot.device record (made here when the lamp was never discovered yet:
// discovery finds it by its identifier and fills it in), when the
// database has no rule at all: on the demo's first start, and on a demo
// database made before rules existed. Rules the operator made, or
// archived, are left alone.
func (s seeder) seedRules(brokerID int64) error {
	inactive := map[string]any{"context": map[string]any{"active_test": false}}
	n, err := s.call("mqtt.rule", "search_count", []any{[]any{}}, inactive)
	if err != nil {
		return err
	}
	if c, _ := n.(int64); c > 0 {
		return nil
	}
	lamp, err := s.lampDevice(brokerID)
	if err != nil {
		return err
	}
	vals := make([]any, 0, 2)
	for _, r := range demoRules() {
		r["broker_id"], r["device_id"] = brokerID, lamp
		vals = append(vals, r)
	}
	if _, err := s.call("mqtt.rule", "create", []any{vals}, nil); err != nil {
		return err
	}
	names := make([]string, 0, len(vals))
	for _, r := range demoRules() {
		names = append(names, r["name"].(string))
	}
	s.reg.Logger().Info("Created the demo rules", slog.String("rules", strings.Join(names, "; ")))
	return nil
}

// lampDevice is the id of lamp-1's iot.device on the broker, created with
// the actions its descriptor declares when it is not there yet.
func (s seeder) lampDevice(brokerID int64) (int64, error) {
	inactive := map[string]any{"context": map[string]any{"active_test": false}}
	ids, err := s.ids("iot.device", []any{[]any{"broker_id", "=", brokerID}, []any{"identifier", "=", LampID}}, inactive)
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 {
		return ids[0], nil
	}
	res, err := s.call("iot.device", "create", []any{map[string]any{
		"name": LampID, "identifier": LampID, "broker_id": brokerID, "actions": "toggle,switch",
	}}, nil)
	if err != nil {
		return 0, err
	}
	id, ok := res.(int64)
	if !ok {
		return 0, fmt.Errorf("demo: iot.device.create returned %T", res)
	}
	return id, nil
}
