// Package listener is the MQTT engine behind the mqtt.* models: the Go
// counterpart of the addon's listener thread and its MQTT_THREADS table,
// with the addon's defects fixed (seed-addon.md §3 and §9).
//
// A Service implements the mqtt addon's BrokerControl (models/mqtt). Once started it runs one
// daemon goroutine per active broker, each with its own client. A
// daemon connects, subscribes every enabled subscription of its broker,
// and on a failed connect or a lost connection waits by the broker's
// backoff policy (first retry after reconnect_initial, times
// reconnect_factor, capped at reconnect_max, with jitter) before it tries
// again with a fresh client and subscribes again. Its state is kept in a
// registry (Daemons) and persisted on the broker record once per change.
//
// Clients (client.go) are protocol-neutral: a connected client subscribes
// filters with their options and reports each filter's outcome,
// unsubscribes, publishes and waits for the acknowledgement, and
// disconnects; a received message carries its topic, payload, QoS, flags,
// MQTT 5 properties and an ack. MQTT 3.1 and 3.1.1 brokers go through
// paho.mqtt.golang (client_v3.go). MQTT 5 brokers go through paho.golang's
// paho.Client (client_v5.go), one per connection, on a connection the
// listener dials itself: not autopaho, whose connection manager would
// reconnect, back off and resubscribe by itself, duplicating the daemon
// (two owners of one connection). On MQTT 5 the daemon sends Clean Start
// from clean_session and, for a persistent session, the record's Session
// Expiry Interval; its Receive Maximum when set; the subscription options
// No Local, Retain As Published and Retain Handling of each record (records
// sharing a filter get their options merged, device filters the
// defaults); the signals' properties with what they send. Received
// properties (content type, response topic, correlation data, user
// properties in order, message expiry) go to the history row, and
// correlation data to device messages. CONNACK, SUBACK, UNSUBACK,
// PUBACK/PUBREC and DISCONNECT reason codes name themselves in the errors,
// as in "Not authorized (0x87)" with the broker's reason string after it
// (reasoncodes.go); a PUBACK of 0x10, No matching subscribers, is a
// success.
//
// Received messages never touch the database from paho's goroutines: the
// message handler puts them in one bounded queue per Service and blocks
// when it is full (back-pressure, never a drop). Their bytes are bounded
// from the socket on: each connection takes a PUBLISH's bytes from one
// byte budget before paho reads it, and refuses payloads over the
// broker's maximum unread (limitconn.go, bytegate.go); on MQTT 5 a
// PUBLISH's properties count with its payload, and a refused one reaches
// paho without them. One writer goroutine
// takes what is queued and, batch by batch:
//
//  1. stores it with the mqtt addon's InsertHistory in one transaction;
//     QoS 1/2 messages of persistent sessions carry their packet id and
//     DUP flag, and a DUP one the addon's redelivery window finds stored
//     already (same broker, packet id, topic and payload, within 10
//     minutes) is not stored again, nor told, nor handed to the device and
//     rules workers: it is only acknowledged (counted in
//     odoo_iot_mqtt_duplicates_dropped_total);
//  2. only then hands each QoS 1/2 message to its session to acknowledge
//     to its broker (paho's automatic ack is off on both protocols), so a
//     message is either stored or redelivered by the broker;
//  3. tells the bus (the mqtt addon's NotifyHistory, mqtt_realtime): a note is
//     only ever of a row committed, after its acknowledgement was handed
//     to its session;
//  4. hands the batch's device messages to the device worker, through a
//     queue bounded in bytes, waiting while it is full;
//  5. hands the batch's received messages (not the refused ones) of the
//     brokers Options.Rules is watching to the rules worker, the same way
//     (rules.go).
//
// The device worker updates the iot.device records with
// the iotdevice addon's IngestDeviceMessages, per broker in arrival order, and retries
// a failure with capped backoff for as long as the service runs: device
// updates never delay an acknowledgement, and are not dropped. At shutdown the writer commits
// what is queued and the worker stores what it was handed, both within
// the drain timeout; device messages left then are logged and counted.
// The rules worker is the same (one job queue type and worker loop,
// jobqueue.go and worker.go): it calls RuleEngine.Evaluate per broker in
// arrival order, retries an error with capped backoff, and drains at
// shutdown within the same timeout.
//
// In a cluster (Options.Cluster, issue 12) the calls that need a broker's
// one connection or its owner's settings (Publish, Subscribe,
// Unsubscribe, CheckConnection, SubscribeOnce) made on an instance that
// does not own the broker go to its owner through Cluster.Forward, as JSON
// arguments without any secret; the owner carries them out (forward.go)
// with the broker's settings read from the database, and its error comes
// back with its text and sentinel. With no live owner a publish fails
// (ErrNoOwner) rather than going out on a connection of the caller's,
// Subscribe and Unsubscribe are ErrDaemonNotRunning, and the checks run on
// a short-lived connection of the caller's own (a unique client id).
// A broker with a shared group (shared.go) runs a daemon on every
// instance, each on a client id of its own and subscribed as
// $share/<group>/<filter>, so the broker spreads its messages over them;
// after the owner's answer to a Subscribe or Unsubscribe the other
// instances resubscribe from the records. An instance shutting down ends
// its persistent session (leaveGroup); one that died without (SIGKILL)
// has its session drained and ended by the broker's owner when the
// Cluster calls ClusterHandlers.Drain (drain.go).
//
// Every goroutine has an owner that waits for it: daemons and their
// ackers belong to the Service, and Run returns only when they, the
// writer, the device and rules workers and the retention job have ended.
package listener
