package mqtt

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// The topic summary: one row per (broker, topic) received, with its
// message count and its last message (payload cut to SummaryPayloadMax,
// time, retain flag, QoS). It is what the topic tree
// (mqtt.broker.get_topic_tree, topic_tree.go) reads, so that the tree of
// a broker with millions of history rows costs a read of its topics, not
// of its messages.
//
// InsertHistory keeps it, in the transaction of the history rows: the
// batch is aggregated per topic in Go first, then written by one upsert
// (PostgreSQL: arrays unnested; SQLite: per summaryPerStmt topics), so a
// batch of 1000 messages over 10 topics costs one statement of 10 rows.
// Only received messages count: the tree is what the broker sent us, as
// MQTT Explorer shows it.
//
// What the count means: messages received on the topic since the summary
// exists (the back-fill counts the history kept when it ran). The
// retention purge does not lower it: partitions are dropped whole,
// without a per-topic count, and a tree whose topics vanish as their
// history ages out would forget what the broker has. So a topic whose
// history is all purged keeps its row, its count and its last payload;
// the history list it opens shows only what is kept. Deleting a broker
// deletes its summary rows (broker.go's BeforeUnlink), and the purge
// sweeps rows of brokers deleted while a batch was in flight.
const (
	summaryTable = "mqtt_topic_summary"
	// summaryBackfill holds one row once the summary was filled from the
	// history: the back-fill runs once, on the first start with it.
	summaryBackfill = "mqtt_topic_summary_backfill"
	// SummaryPayloadMax bounds the last payload kept per topic (bytes of
	// text; characters in the back-fill's SQL substr).
	SummaryPayloadMax = 1024
	// summaryPerStmt: topics per SQLite upsert (7 parameters each).
	summaryPerStmt = 100
)

// summaryTables creates the summary and, once, fills it from the history
// kept: one GROUP BY pass over the received rows (measured at 1M rows in
// bench/historypurge -mode tree), the last row of each topic found by
// its highest id. The marker row makes it run once whatever the history
// holds then.
func summaryTables(d models.Dialect) []string {
	ts, topic, with := "TEXT", "TEXT", ""
	if d == models.Postgres {
		// The topic in byte order ("C"), as SQLite's BINARY is: the tree's
		// prefixes are ranges of the primary key (topic_tree.go), where the
		// locale's collation would scatter them. Pages half full: an
		// update of a topic's row (every batch) stays on its page, a HOT
		// update that writes no index entry.
		ts, topic, with = "TIMESTAMP", `TEXT COLLATE "C"`, " WITH (fillfactor = 50)"
	}
	return []string{
		`CREATE TABLE IF NOT EXISTS "` + summaryTable + `" (` +
			`"broker_id" BIGINT NOT NULL, "topic" ` + topic + ` NOT NULL, "message_count" BIGINT NOT NULL, ` +
			`"last_payload" TEXT, "last_time" ` + ts + `, "retain" BOOLEAN NOT NULL DEFAULT FALSE, "qos" INTEGER NOT NULL DEFAULT 0, ` +
			`PRIMARY KEY ("broker_id", "topic"))` + with,
		`CREATE TABLE IF NOT EXISTS "` + summaryBackfill + `" ("done" INTEGER NOT NULL)`,
		backfillSQL(`NOT EXISTS (SELECT 1 FROM "` + summaryBackfill + `")`),
		`INSERT INTO "` + summaryBackfill + `" ("done") SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM "` + summaryBackfill + `")`,
	}
}

// backfillSQL fills the summary from the history's received rows when
// the condition once holds. It is tested in the grouping subquery too: a
// database that materializes it first then skips the scan at every
// later start. (SQLite also needs a WHERE before ON CONFLICT in an
// INSERT ... SELECT.)
func backfillSQL(once string) string {
	return `INSERT INTO "` + summaryTable + `" ("broker_id", "topic", "message_count", "last_payload", "last_time", "retain", "qos") ` +
		`SELECT g."broker_id", g."topic", g."n", substr(h."payload", 1, 1024), h."timestamp", COALESCE(h."retain", FALSE), COALESCE(h."qos", 0) ` +
		`FROM (SELECT "broker_id", "topic", count(*) AS "n", max("id") AS "last_id" FROM "mqtt_signal_history" ` +
		`WHERE ` + once + ` AND "direction" = 'receive' AND "broker_id" > 0 AND "topic" IS NOT NULL AND "topic" <> '' GROUP BY "broker_id", "topic") g ` +
		`JOIN "mqtt_signal_history" h ON h."id" = g."last_id" WHERE ` + once +
		` ON CONFLICT ("broker_id", "topic") DO NOTHING`
}

// RebuildTopicSummary empties the summary and fills it again from the
// history kept, as the first start with it did: counts become the rows
// kept. The bench times it; an operator may run it after a bulk import.
func (a *Addon) RebuildTopicSummary(ctx context.Context) error {
	db := a.reg.DB().WithContext(ctx)
	if err := db.Exec(`DELETE FROM "` + summaryTable + `"`).Error; err != nil {
		return models.Internal("rebuild the topic summary", err)
	}
	if err := db.Exec(backfillSQL(`TRUE`)).Error; err != nil {
		return models.Internal("rebuild the topic summary", err)
	}
	return nil
}

// topicTotal is one topic's share of a batch.
type topicTotal struct {
	broker  int64
	topic   string
	count   int64
	payload string
	at      time.Time
	retain  bool
	qos     int64
}

// summarize aggregates the stored received rows of a batch per topic,
// the last row (in batch order) giving the last values; sorted by key,
// so that concurrent writers lock the rows in the same order.
func summarize(rows []HistoryRow) []topicTotal {
	type key struct {
		broker int64
		topic  string
	}
	idx := make(map[key]int)
	var out []topicTotal
	for i := range rows {
		h := &rows[i]
		if h.Duplicate || h.Direction != "receive" || h.BrokerID == 0 || h.Topic == "" {
			continue
		}
		text, ts := historyView(*h)
		k := key{h.BrokerID, h.Topic}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, topicTotal{broker: h.BrokerID, topic: h.Topic})
		}
		t := &out[j]
		t.count++
		t.payload, t.at, t.retain, t.qos = Truncate(text, SummaryPayloadMax), ts, h.Retain, int64(h.QoS)
	}
	slices.SortFunc(out, func(x, y topicTotal) int {
		return cmp.Or(cmp.Compare(x.broker, y.broker), strings.Compare(x.topic, y.topic))
	})
	return out
}

// upsertSummary adds a batch's totals to the summary.
func upsertSummary(tx models.Tx, totals []topicTotal) error {
	if len(totals) == 0 {
		return nil
	}
	const cols = `INSERT INTO "` + summaryTable + `" AS s ("broker_id", "topic", "message_count", "last_payload", "last_time", "retain", "qos") `
	const upsert = ` ON CONFLICT ("broker_id", "topic") DO UPDATE SET "message_count" = s."message_count" + EXCLUDED."message_count", ` +
		`"last_payload" = EXCLUDED."last_payload", "last_time" = EXCLUDED."last_time", "retain" = EXCLUDED."retain", "qos" = EXCLUDED."qos"`
	if tx.Dialect() == models.Postgres {
		n := len(totals)
		brokers, topics, counts := make([]int64, n), make([]string, n), make([]int64, n)
		payloads, times, retains, qos := make([]string, n), make([]time.Time, n), make([]bool, n), make([]int32, n)
		for i, t := range totals {
			brokers[i], topics[i], counts[i], payloads[i], times[i], retains[i], qos[i] = t.broker, t.topic, t.count, t.payload, t.at, t.retain, int32(t.qos)
		}
		sql := cols + `SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::timestamp[], $6::bool[], $7::int[])` + upsert
		if err := tx.Exec(sql, brokers, topics, counts, payloads, times, retains, qos); err != nil {
			return models.Internal("store the topic summary", err)
		}
		return nil
	}
	var args []any
	for start := 0; start < len(totals); start += summaryPerStmt {
		chunk := totals[start:min(start+summaryPerStmt, len(totals))]
		args = args[:0]
		var sb strings.Builder
		sb.WriteString(cols + `VALUES `)
		for i, t := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			args = append(args, t.broker, t.topic, t.count, t.payload, t.at.Format(models.DatetimeFormat), t.retain, t.qos)
		}
		sb.WriteString(upsert)
		if err := tx.Exec(sb.String(), args...); err != nil {
			return models.Internal("store the topic summary", err)
		}
	}
	return nil
}

// deleteSummaries deletes the summary rows of brokers being deleted.
func deleteSummaries(env *models.Env, brokerIDs []int64) error {
	if len(brokerIDs) == 0 {
		return nil
	}
	if err := env.DB().Exec(`DELETE FROM "`+summaryTable+`" WHERE "broker_id" IN ?`, brokerIDs).Error; err != nil {
		return models.Internal("delete the topic summary", err)
	}
	return nil
}

// sweepSummaries deletes the rows of brokers that no longer exist: a
// batch in flight when its broker was deleted adds them after the
// unlink's own cleanup. The table holds one row per topic: the NOT IN
// reads it whole, which is cheap.
func sweepSummaries(env *models.Env, brokerIDs []int64) error {
	q, args := `DELETE FROM "`+summaryTable+`"`, []any{}
	if len(brokerIDs) > 0 {
		q += ` WHERE "broker_id" NOT IN ?`
		args = append(args, brokerIDs)
	}
	if err := env.DB().Exec(q, args...).Error; err != nil {
		return models.Internal("sweep the topic summary", err)
	}
	return nil
}
