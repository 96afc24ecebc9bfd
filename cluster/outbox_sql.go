package cluster

import "strconv"

// The SQL of the outbox. Every value is a bind parameter; the only text
// pasted into a statement is the constant advisory lock key.

// Notification channels: mqtt_outbox carries the broker id of a new call
// (its owner claims it), mqtt_outbox_done the row id of an answered one
// (its caller reads the answer).
const (
	outboxChannel     = "mqtt_outbox"
	outboxDoneChannel = "mqtt_outbox_done"
)

// outboxLockKey serialises the schema creation of instances starting
// together (CREATE TABLE IF NOT EXISTS is not safe against a concurrent
// one).
const outboxLockKey int64 = 0x6f696d6f7574 // "oimout"

// Row states. A call is pending until its owner claims it (running), then
// done or error; its caller cancels it while still pending when it stops
// waiting, and a pending row past its deadline is an error ("expired").
const (
	statePending   = "pending"
	stateRunning   = "running"
	stateDone      = "done"
	stateError     = "error"
	stateCancelled = "cancelled"
)

// The partial index serves the claim (pending rows of some brokers, oldest
// first) and the expiry; the finished index the retention delete.
var outboxSchema = `
SELECT pg_advisory_xact_lock(` + strconv.FormatInt(outboxLockKey, 10) + `);
CREATE TABLE IF NOT EXISTS mqtt_outbox (
	id          bigserial   PRIMARY KEY,
	broker_id   bigint      NOT NULL,
	kind        text        NOT NULL,
	body        jsonb       NOT NULL,
	state       text        NOT NULL DEFAULT 'pending'
	            CHECK (state IN ('pending', 'running', 'done', 'error', 'cancelled')),
	answer      jsonb,
	error       text,
	error_code  text,
	caller      bigint      NOT NULL,
	claimed_by  bigint,
	created     timestamptz NOT NULL DEFAULT now(),
	deadline    timestamptz NOT NULL,
	claimed     timestamptz,
	finished    timestamptz
);
CREATE INDEX IF NOT EXISTS mqtt_outbox_pending_index ON mqtt_outbox (broker_id, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS mqtt_outbox_running_index ON mqtt_outbox (deadline) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS mqtt_outbox_finished_index ON mqtt_outbox (finished) WHERE finished IS NOT NULL;`

// outboxInsert stores a call and wakes the owners in one statement (so in
// one transaction: the notification goes out when the row is visible).
// $5 is the caller's remaining wait in milliseconds: the deadline is
// counted on the database's clock, which every instance shares.
const outboxInsert = `
WITH ins AS (
	INSERT INTO mqtt_outbox (broker_id, kind, body, caller, deadline)
	VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
	RETURNING id, broker_id
)
SELECT id, pg_notify('` + outboxChannel + `', broker_id::text) FROM ins`

// outboxRead is the caller's look at its row.
const outboxRead = `SELECT state, answer, error, error_code FROM mqtt_outbox WHERE id = $1`

// outboxCancel gives up a call nobody claimed yet, so that a late owner
// skips it.
const outboxCancel = `UPDATE mqtt_outbox SET state = 'cancelled', finished = now() WHERE id = $1 AND state = 'pending'`

// outboxPendingBrokers lists the brokers with calls waiting; the owner
// keeps those it owns.
const outboxPendingBrokers = `SELECT DISTINCT broker_id FROM mqtt_outbox WHERE state = 'pending' AND deadline > now()`

// outboxClaim takes up to $3 pending calls of the brokers $2 for instance
// $1. SKIP LOCKED: two instances claiming at once (an ownership handover)
// never take the same row, and neither waits for the other.
const outboxClaim = `
UPDATE mqtt_outbox SET state = 'running', claimed_by = $1, claimed = now()
WHERE id IN (
	SELECT id FROM mqtt_outbox
	WHERE state = 'pending' AND broker_id = ANY($2) AND deadline > now()
	ORDER BY id
	FOR UPDATE SKIP LOCKED
	LIMIT $3
)
RETURNING id, broker_id, kind, body, GREATEST(EXTRACT(EPOCH FROM deadline - now()) * 1000, 0)::bigint`

// outboxAnswer stores a call's outcome and wakes its caller.
const outboxAnswer = `
WITH upd AS (
	UPDATE mqtt_outbox SET state = $2, answer = $3, error = $4, error_code = $5, finished = now()
	WHERE id = $1 AND state = 'running' AND claimed_by = $6
	RETURNING id
)
SELECT pg_notify('` + outboxDoneChannel + `', id::text) FROM upd`

// outboxExpire ends the calls nobody carried out in time: pending ones
// past their deadline, and running ones whose claimer went silent well
// past it (it died before answering).
const outboxExpire = `
UPDATE mqtt_outbox SET state = 'error', error = CASE WHEN state = 'pending' THEN 'expired' ELSE 'abandoned by its owner' END,
	error_code = 'expired', finished = now()
WHERE (state = 'pending' AND deadline <= now())
   OR (state = 'running' AND deadline <= now() - $1 * interval '1 millisecond')`

// outboxPurge deletes finished rows older than the retention.
const outboxPurge = `DELETE FROM mqtt_outbox WHERE finished IS NOT NULL AND finished < now() - $1 * interval '1 millisecond'`
