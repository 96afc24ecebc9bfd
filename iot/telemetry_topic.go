package iot

import "strings"

// TelemetryTopic is the topic sensor of device id publishes on, and
// whether that topic is the sensor's own ({sensor} in the template: the
// payload is the reading) or shared by the device's sensors (an object
// of readings, each key a sensor). A template without {id} is shared by
// devices, which no topic alone tells apart: an error.
func (p Patterns) TelemetryTopic(id, sensor string) (topic string, perSensor bool, err error) {
	if p.Telemetry != "" && !strings.Contains(p.Telemetry, PlaceholderID) {
		return "", false, &PatternError{Field: "telemetry", Template: p.Telemetry, Reason: "without {id} the topic is shared by the devices"}
	}
	vals := map[string]string{PlaceholderID: id}
	perSensor = strings.Contains(p.Telemetry, PlaceholderSensor)
	if perSensor {
		vals[PlaceholderSensor] = sensor
	}
	topic, err = fill("telemetry", p.Telemetry, vals)
	return topic, perSensor, err
}
