// Package cluster makes several server instances on one PostgreSQL
// database one service (issue 12): it implements listener.Cluster.
//
// Each instance registers itself (mqtt_instance), holds one dedicated
// long-lived connection on which it takes a session-level advisory lock
// per broker it owns and sends its heartbeat, and gives up its daemons at
// once when that connection is lost, so that another instance takes the
// brokers over. Calls that need the owner's connection go through an
// outbox table claimed with FOR UPDATE SKIP LOCKED and woken by NOTIFY
// (outbox.go).
package cluster
