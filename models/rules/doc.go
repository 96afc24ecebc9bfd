// Package rules is the automation addon (issue 11): the models mqtt.rule
// and mqtt.rule.log, and the engine that evaluates the active rules on
// committed messages and device state changes, and acts (publish, send a
// signal, a device action or command, a bus note), off the ingest path.
package rules
