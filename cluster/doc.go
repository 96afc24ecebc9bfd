// Package cluster makes several server instances on one PostgreSQL
// database one service (issue 12): it implements listener.Cluster.
//
// The Coordinator (coordinator.go, coordinator_run.go, the SQL in
// coordinator_sql.go): each instance registers itself in mqtt_instance
// (bigserial id, host, pid, started, heartbeat, the backend pid of its
// lock connection). One dedicated pgx.Conn (never a pool; TCP keepalives)
// carries, every HeartbeatEvery or at once after an announcement, a round:
// the heartbeat, the active brokers, the live instances (heartbeat within
// DeadAfter) and the owners (mqtt_broker_owner rows confirmed by pg_locks
// on a live instance's backend); while under the fair share
// ceil(brokers/live) it takes pg_try_advisory_lock(lockClass, broker id)
// on unowned brokers; above the share, while another live instance is
// under it, it unlocks its highest ids, so brokers spread without
// flapping. Any error on that connection drops every broker at once
// (Changed), and the session reconnects and claims again. Announce is a
// pg_notify on mqtt_cluster ("<instance>:<broker>", 0 for the service's
// start or stop) received on a LISTEN connection of its own. Owner, Owns
// and Instances read a snapshot replaced each round.
//
// A broker id beyond 2^31-1 takes the one-bigint lock form, the id as key
// (coordinator_locks.go); PostgreSQL keeps it apart from the two-int form.
// A clean stop (Run's ctx ended) deletes the instance's rows, releases its
// locks and announces "<instance>:-1", so the others claim its brokers in
// their next round instead of after DeadAfter; the rows of instances dead
// for PurgeAfter (1 h) are deleted by the live ones.
//
// An instance that died without that clean stop (SIGKILL, power loss)
// may have left a persistent session of a shared group at a broker,
// where its share of the group's messages waits (listener/drain.go).
// The claim round finds the dead instances not yet drained at the
// brokers this instance owns (mqtt_instance_drain, keyed by instance and
// broker and holding the dead one's last heartbeat) and has
// ClusterHandlers.Drain empty and end each of those sessions on a
// goroutine of its own (drain.go): on the owner only, one at a time per
// broker, cancelled when the broker is lost or the instance beats again,
// recorded once done, retried after DrainRetry otherwise.
//
// Each instance registers itself (mqtt_instance), holds one dedicated
// long-lived connection on which it takes a session-level advisory lock
// per broker it owns and sends its heartbeat, and gives up its daemons at
// once when that connection is lost, so that another instance takes the
// brokers over. Calls that need the owner's connection go through an
// outbox table claimed with FOR UPDATE SKIP LOCKED and woken by NOTIFY
// (outbox.go, outbox_run.go; the SQL in outbox_sql.go):
//
//   - the caller inserts the row (mqtt_outbox: broker, kind, JSON
//     arguments, caller, a deadline on the database's clock) and
//     notifies mqtt_outbox in one statement, then waits for a NOTIFY on
//     mqtt_outbox_done with its row id, re-reading the row every Sweep in
//     case one was lost; when its context ends it cancels the row if it
//     is still pending, so a late owner skips it (ErrForwardTimeout);
//   - the owner claims the pending rows of the brokers it owns (on the
//     NOTIFY, after Claimed, and every Sweep), at most Concurrency at a
//     time, carries each out through ClusterHandlers.Call within the
//     caller's deadline, and stores the answer or the error's text with a
//     code for the sentinels the models check (RemoteError);
//   - pending rows past their deadline end as "expired", running ones a
//     minute past it (their owner died) as abandoned, and finished rows
//     are deleted after Retention.
package cluster
