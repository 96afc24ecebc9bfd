package cluster

// The Coordinator's tables and statements. The tables are created under
// a transaction-level advisory lock: concurrent CREATE TABLE IF NOT
// EXISTS of one table can fail on pg_type's unique index.

const sqlSchema = `
CREATE TABLE IF NOT EXISTS mqtt_instance (
	id          bigserial PRIMARY KEY,
	host        text NOT NULL,
	pid         integer NOT NULL,
	started     timestamptz NOT NULL DEFAULT now(),
	heartbeat   timestamptz NOT NULL DEFAULT now(),
	backend_pid integer
);
CREATE TABLE IF NOT EXISTS mqtt_broker_owner (
	broker_id   bigint PRIMARY KEY,
	instance_id bigint NOT NULL,
	since       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS mqtt_instance_drain (
	instance_id bigint NOT NULL,
	broker_id   bigint NOT NULL,
	heartbeat   timestamptz NOT NULL,
	drained     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (instance_id, broker_id)
)`

// sqlSchemaLock serialises the schema creation across instances.
const sqlSchemaLock = `SELECT pg_advisory_xact_lock(1297306708, 0)`

const sqlRegister = `INSERT INTO mqtt_instance (host, pid, backend_pid) VALUES ($1, $2, pg_backend_pid())
RETURNING id, started`

// sqlHeartbeat is the heartbeat on the lock connection: it proves the
// connection (hence the locks) alive and tells the others this
// instance is. It re-creates a row another process deleted.
const sqlHeartbeat = `INSERT INTO mqtt_instance (id, host, pid, backend_pid) VALUES ($1, $2, $3, pg_backend_pid())
ON CONFLICT (id) DO UPDATE SET heartbeat = now(), backend_pid = pg_backend_pid()
RETURNING started`

// sqlActiveBrokers: the brokers that need a daemon.
const sqlActiveBrokers = `SELECT id FROM mqtt_broker WHERE active ORDER BY id`

const sqlLiveInstances = `SELECT id, host, pid, started, heartbeat FROM mqtt_instance
WHERE heartbeat > now() - make_interval(secs => $1) ORDER BY id`

// sqlOwners: an owner row is trusted only when its instance is live and
// that instance's lock connection holds the broker's lock now, in the
// form of its id (coordinator_locks.go): pg_locks shows the two-int form
// as classid, objid and objsubid 2, the bigint one as its high and low
// halves and objsubid 1. No cast that a big id would overflow: SQL does
// not promise which side of a condition it evaluates first.
const sqlOwners = `SELECT o.broker_id, o.instance_id, o.since FROM mqtt_broker_owner o
JOIN mqtt_instance i ON i.id = o.instance_id AND i.heartbeat > now() - make_interval(secs => $1)
JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.pid = i.backend_pid AND CASE
	WHEN o.broker_id <= 2147483647 THEN l.objsubid = 2 AND l.classid::bigint = $2::bigint AND l.objid::bigint = o.broker_id
	ELSE l.objsubid = 1 AND l.classid::bigint = o.broker_id >> 32 AND l.objid::bigint = o.broker_id & 4294967295 END`

// The two-int form, for the ids that fit an int4 key (lockClass, id).
const (
	sqlTryLock = `SELECT pg_try_advisory_lock($1::int, $2::int)`
	sqlUnlock  = `SELECT pg_advisory_unlock($1::int, $2::int)`
)

// The bigint form, for the ids beyond: the id is the key.
const (
	sqlTryLockBig = `SELECT pg_try_advisory_lock($1::bigint)`
	sqlUnlockBig  = `SELECT pg_advisory_unlock($1::bigint)`
)

// sqlLeave is a clean stop on the lock connection: this instance's rows
// go and its locks are released at once, and the announcement (broker
// leaveBroker) has the others claim its brokers now rather than after
// DeadAfter.
const sqlLeave = `WITH o AS (DELETE FROM mqtt_broker_owner WHERE instance_id = $1),
	i AS (DELETE FROM mqtt_instance WHERE id = $1)
SELECT pg_advisory_unlock_all(), pg_notify($2, $3)`

// sqlPurgeLock lets one instance at a time purge (the schema lock's
// class, key 1).
const sqlPurgeLock = `SELECT pg_try_advisory_xact_lock(1297306708, 1)`

// sqlPurgeInstances deletes the rows of instances dead for longer than
// $1 seconds, and owner and drain rows whose instance has no row any
// more. (Every statement of it sees the rows as before it: hence gone.)
const sqlPurgeInstances = `WITH gone AS (DELETE FROM mqtt_instance WHERE heartbeat < now() - make_interval(secs => $1) RETURNING id),
	drains AS (DELETE FROM mqtt_instance_drain d WHERE d.instance_id IN (SELECT id FROM gone)
		OR NOT EXISTS (SELECT 1 FROM mqtt_instance i WHERE i.id = d.instance_id))
DELETE FROM mqtt_broker_owner o WHERE o.instance_id IN (SELECT id FROM gone)
	OR NOT EXISTS (SELECT 1 FROM mqtt_instance i WHERE i.id = o.instance_id)`

const sqlClaimed = `INSERT INTO mqtt_broker_owner (broker_id, instance_id, since) VALUES ($1, $2, now())
ON CONFLICT (broker_id) DO UPDATE SET instance_id = excluded.instance_id, since = excluded.since
RETURNING since`

const sqlReleased = `DELETE FROM mqtt_broker_owner WHERE broker_id = $1 AND instance_id = $2`

// sqlPendingDrains: the dead instances (heartbeat older than $1 seconds)
// not drained at the brokers $2 (this instance's) since their last
// heartbeat (drain.go).
const sqlPendingDrains = `SELECT i.id, b.id, i.heartbeat FROM mqtt_instance i CROSS JOIN unnest($2::bigint[]) AS b(id)
WHERE i.heartbeat <= now() - make_interval(secs => $1) AND NOT EXISTS (
	SELECT 1 FROM mqtt_instance_drain d WHERE d.instance_id = i.id AND d.broker_id = b.id AND d.heartbeat = i.heartbeat)
ORDER BY i.id, b.id`

// sqlDrained records a drain: of the dead instance $1 at broker $2, as
// of its last heartbeat $3.
const sqlDrained = `INSERT INTO mqtt_instance_drain (instance_id, broker_id, heartbeat) VALUES ($1, $2, $3)
ON CONFLICT (instance_id, broker_id) DO UPDATE SET heartbeat = excluded.heartbeat, drained = now()`
