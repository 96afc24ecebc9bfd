// Package iot turns MQTT messages into IoT devices, the way Odoo's IoT box
// turns USB and network peripherals into devices with drivers (seed 001),
// for devices that follow an MQTT convention instead: the smart object of
// seed 004 (a retained device/<id>/info descriptor, device/<id>/telemetry/
// <sensor>, a retained device/<id>/event, commands on device/<id>/action/
// <action>) or the ESP32 firmware of seed 002 (a JSON record of readings on
// /homecontrol/device/data, configuration read from a retained
// /homecontrol/device/config).
//
// Patterns say where a broker's devices publish; Match classifies a topic
// (info, telemetry, event, availability, command response) and extracts
// the device id, the sensor and a response's request id; RequestTopic and
// ResponseTopic render a command's topics. ParseInfo reads a descriptor into a Device. A Registry of Drivers
// picks the first driver that supports a device and turns its messages into
// the device's data dict (Odoo's device.data, what IoT-box listeners
// receive) and actions into messages to publish.
//
// The package is pure: no I/O, no clock, nothing of the rest of the
// project. The record layer (models, iot.device) and the listener use it.
package iot
