// Package rules is the automation addon (issue 11): the models mqtt.rule
// and mqtt.rule.log, and the engine that evaluates the active rules on
// committed messages and device state changes, and acts (publish, send a
// signal, a device action or command, a bus note), off the ingest path.
//
// The listener's rules worker asks Watching(broker) and hands committed
// messages to Evaluate, which matches them in memory (rules are loaded
// once and reloaded when edited, engine.go), steps each rule's state
// (condition.go: thresholds fire on a crossing, with hysteresis;
// changed; cooldowns) and queues the firings' actions, waiting when the
// queue (bounded in bytes, worker.go) is full. Run, which the server
// runs beside the listener service, does the actions (actions.go) in
// lanes, at their delay, with retries at QoS 1 and 2, fires the interval
// rules, takes the device state changes the iot addon tells
// (iotdevice.Addon.OnDeviceState), batches the bookkeeping and log rows
// (recorder.go) and purges the log.
//
// Files: addon.go (the addon, its options and channel), rule.go (the
// models), compile.go (a record to an evaluable rule, and validation),
// jsonpath.go, template.go, condition.go, state.go, evaluate.go, worker.go,
// run.go, actions.go, recorder.go, links.go, actiontest.go.
package rules
