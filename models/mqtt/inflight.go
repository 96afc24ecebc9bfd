package mqtt

import (
	"crypto/sha256"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The redelivery window: a received QoS 1/2 message of a persistent
// session that was committed but not yet acknowledged when its
// connection, or the whole instance, died is sent again by the broker to
// whoever resumes the session (the same client id, in a cluster on
// another instance), with the DUP flag and its original packet id (MQTT
// 3.1.1 §3.3.1.1 and §4.4 [MQTT-3.3.1-1] [MQTT-4.4.0-1], MQTT 5 the
// same). It must not be stored twice.
//
// Packet ids are per session, and a session is a client id on a broker:
// with a shared group (mqtt.broker.shared_group) each instance ingests
// the broker on a session of its own, whose packet ids run independently
// of the others'.
//
// So InsertHistory records, in the transaction of the history rows, the
// last message stored for each (broker, client id, packet id): a digest
// of its topic and payload, and when. A DUP message whose key's row holds
// the same digest, stored within RedeliveryWindow, is a redelivery of it:
// it is acknowledged and not stored again. Any other message, DUP or
// not, is stored and takes the row over (the broker reuses a packet id
// only once it is acknowledged). The table holds at most 65535 rows per
// session, whatever the traffic.
//
// The check is an upsert that leaves the row alone when it matches
// (ON CONFLICT ... DO UPDATE ... WHERE), so on PostgreSQL a redelivery
// checked while the old owner's commit of the same message is still in
// flight waits for that commit instead of missing it.

// inflightTable is the addon's own table (not a model: nothing reaches
// it over RPC). oldInflightTable was its first form, keyed without the
// client id: dropped at start, which forgets its window once (only
// redeliveries of the ten minutes before the upgrade are at stake).
const (
	inflightTable    = "mqtt_ingest_redelivery"
	oldInflightTable = "mqtt_ingest_inflight"
)

// RedeliveryWindow is how long after its commit a message's redelivery
// is recognised. Redeliveries come when the session resumes: within the
// failover time (10 s) or the reconnect backoff (reconnect_max, a minute
// or so) of the connection loss. The window is there because the key is
// not unique over time: a broker that reuses a packet id (Mosquitto only
// after 65535 others; a broker allocating the lowest free id much
// sooner) for the same payload on the same topic, which the server then
// loses before its commit, would see that new message taken for a
// redelivery of the old one. Ten minutes covers any resumption of a
// running service and keeps that exposure short; a session resumed later
// than that (an instance down for longer) gets its last unacknowledged
// messages stored again, as before this window existed.
const RedeliveryWindow = 10 * time.Minute

// inflightTables creates the table.
func inflightTables(d models.Dialect) []string {
	blob := "BLOB"
	if d == models.Postgres {
		blob = "BYTEA"
	}
	return []string{`DROP TABLE IF EXISTS "` + oldInflightTable + `"`,
		`CREATE TABLE IF NOT EXISTS "` + inflightTable + `" (` +
			`"broker_id" BIGINT NOT NULL, "client_id" TEXT NOT NULL, "packet_id" INTEGER NOT NULL, "digest" ` + blob + ` NOT NULL, ` +
			// Milliseconds since the Unix epoch: one form on both databases.
			`"stored_at" BIGINT NOT NULL, PRIMARY KEY ("broker_id", "client_id", "packet_id"))`}
}

// digestSize: 128 bits of SHA-256 tell two contents apart well enough
// for a key that already names the session and the packet id.
const digestSize = 16

// messageDigest is the digest of a message's topic and payload.
func messageDigest(topic string, payload []byte) []byte {
	h := sha256.New()
	h.Write([]byte(topic))
	h.Write([]byte{0}) // a topic has no NUL: the split is unambiguous
	h.Write(payload)
	return h.Sum(nil)[:digestSize]
}

// inflightKey is a row's key.
type inflightKey struct {
	broker  int64
	session string // the client id
	packet  uint16
}

// inflightRow is one row to upsert; row is the history row's index.
type inflightRow struct {
	key    inflightKey
	digest []byte
	row    int
}

// dedupe marks the DUP rows that are redeliveries of messages stored
// already (HistoryRow.Duplicate) and records the others, all in tx. A
// DUP row matching an earlier row of the same batch is one too (the old
// connection's copy is still being stored with it).
func (a *Addon) dedupe(tx models.Tx, rows []HistoryRow, now time.Time) error {
	var checked, plain []inflightRow
	var seen map[inflightKey]int // key -> its entry in plain or checked, as -1-i for checked
	for i := range rows {
		r := &rows[i]
		if r.PacketID == 0 {
			continue
		}
		if seen == nil {
			seen = make(map[inflightKey]int, len(rows))
		}
		e := inflightRow{key: inflightKey{r.BrokerID, r.Session, r.PacketID}, digest: messageDigest(r.Topic, r.Payload), row: i}
		prev, again := seen[e.key]
		if again {
			var p inflightRow
			if prev < 0 {
				p = checked[-1-prev]
			} else {
				p = plain[prev]
			}
			if r.Dup && string(p.digest) == string(e.digest) {
				r.Duplicate = true
				continue
			}
			if prev >= 0 { // the later message takes the row over
				plain[prev] = e
				continue
			}
		}
		if r.Dup && !again {
			seen[e.key] = -1 - len(checked)
			checked = append(checked, e)
			continue
		}
		seen[e.key] = len(plain)
		plain = append(plain, e)
	}
	if len(checked) > 0 {
		if err := a.upsertInflight(tx, checked, now, rows); err != nil {
			return err
		}
	}
	if len(plain) > 0 {
		return a.upsertInflight(tx, plain, now, nil)
	}
	return nil
}

// upsertInflight writes entries, as one statement per batch on
// PostgreSQL (arrays unnested) and per inflightPerStmt rows on SQLite.
// With rows (the DUP entries), a row matching the entry's digest within
// the window is left alone and its history row marked Duplicate:
// RETURNING names the entries inserted or updated, the others are those.
func (a *Addon) upsertInflight(tx models.Tx, entries []inflightRow, now time.Time, rows []HistoryRow) error {
	at := now.UnixMilli()
	cond := ""
	args := []any{}
	if rows != nil {
		cond = ` WHERE NOT ("` + inflightTable + `"."digest" = EXCLUDED."digest" AND "` + inflightTable + `"."stored_at" >= `
	}
	upsert := ` ON CONFLICT ("broker_id", "client_id", "packet_id") DO UPDATE SET "digest" = EXCLUDED."digest", "stored_at" = EXCLUDED."stored_at"`
	var stored map[inflightKey]bool
	if rows != nil {
		stored = make(map[inflightKey]bool, len(entries))
	}
	run := func(sql string, args []any) error {
		if rows == nil {
			return tx.Exec(sql, args...)
		}
		return tx.Query(sql+` RETURNING "broker_id", "client_id", "packet_id"`, args, func(scan func(...any) error) error {
			var k inflightKey
			var p int64
			if err := scan(&k.broker, &k.session, &p); err != nil {
				return err
			}
			k.packet = uint16(p)
			stored[k] = true
			return nil
		})
	}
	if tx.Dialect() == models.Postgres {
		brokers := make([]int64, len(entries))
		sessions := make([]string, len(entries))
		packets := make([]int32, len(entries))
		digests := make([][]byte, len(entries))
		for i, e := range entries {
			brokers[i], sessions[i], packets[i], digests[i] = e.key.broker, e.key.session, int32(e.key.packet), e.digest
		}
		args = append(args, brokers, sessions, packets, digests, at)
		sql := `INSERT INTO "` + inflightTable + `" ("broker_id", "client_id", "packet_id", "digest", "stored_at") ` +
			`SELECT b, c, p, d, $5 FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bytea[]) AS u(b, c, p, d)` + upsert
		if rows != nil {
			args = append(args, at-RedeliveryWindow.Milliseconds())
			sql += cond + `$6)`
		}
		if err := run(sql, args); err != nil {
			return models.Internal("store the redelivery window", err)
		}
	} else {
		for start := 0; start < len(entries); start += inflightPerStmt {
			chunk := entries[start:min(start+inflightPerStmt, len(entries))]
			args = args[:0]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO "` + inflightTable + `" ("broker_id", "client_id", "packet_id", "digest", "stored_at") VALUES `)
			for i, e := range chunk {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString("(?, ?, ?, ?, ?)")
				args = append(args, e.key.broker, e.key.session, int64(e.key.packet), e.digest, at)
			}
			sb.WriteString(upsert)
			if rows != nil {
				sb.WriteString(cond + `?)`)
				args = append(args, at-RedeliveryWindow.Milliseconds())
			}
			if err := run(sb.String(), args); err != nil {
				return models.Internal("store the redelivery window", err)
			}
		}
	}
	for _, e := range entries {
		if rows != nil && !stored[e.key] {
			rows[e.row].Duplicate = true
		}
	}
	return nil
}

// inflightPerStmt: rows per SQLite upsert (5 parameters each).
const inflightPerStmt = 100
