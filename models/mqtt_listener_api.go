package models

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"gorm.io/gorm"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is the part of the registry the listener service calls: load
// what to connect to and subscribe, persist daemon and subscription state,
// and store received messages in batches.

// BrokerConfigs loads the connection settings of the given brokers, or of
// every active broker when ids is empty.
func (r *Registry) BrokerConfigs(ctx context.Context, ids ...int64) ([]BrokerConfig, error) {
	var out []BrokerConfig
	err := r.Read(ctx, Superuser, nil, func(env *Env) error {
		m := r.Model("mqtt.broker")
		if len(ids) == 0 {
			var err error
			if ids, err = env.Sudo().search(m, []any{}, 0, 0, "id"); err != nil {
				return err
			}
		}
		recs, err := env.Sudo().load(m, ids, nil)
		for _, rec := range recs {
			out = append(out, brokerConfig(rec))
		}
		return err
	})
	return out, err
}

// EnabledSubscriptions lists the topic filters a broker's daemon subscribes
// on every (re)connect.
func (r *Registry) EnabledSubscriptions(ctx context.Context, brokerID int64) ([]SubscriptionConfig, error) {
	var rows []struct {
		ID    int64
		Topic string
		QoS   int64 `gorm:"column:qos"`
	}
	err := r.db.WithContext(ctx).Raw(`SELECT "id", "topic", "qos" FROM "mqtt_subscription" WHERE "broker_id" = ? AND "enabled" ORDER BY "id"`, brokerID).Scan(&rows).Error
	if err != nil {
		return nil, Internal("load subscriptions", err)
	}
	out := make([]SubscriptionConfig, len(rows))
	for i, row := range rows {
		out[i] = SubscriptionConfig{ID: row.ID, Topic: row.Topic, QoS: byte(row.QoS)}
	}
	return out, nil
}

// SignalTopics maps each signal topic of a broker to its signal (the
// lowest id when several share a topic), to link received messages.
func (r *Registry) SignalTopics(ctx context.Context, brokerID int64) (map[string]int64, error) {
	var rows []struct {
		ID    int64
		Topic string
	}
	err := r.db.WithContext(ctx).Raw(`SELECT "id", "topic" FROM "mqtt_signal" WHERE "broker_id" = ? AND "topic" IS NOT NULL ORDER BY "id" DESC`, brokerID).Scan(&rows).Error
	if err != nil {
		return nil, Internal("load signals", err)
	}
	out := make(map[string]int64, len(rows))
	for _, row := range rows {
		out[row.Topic] = row.ID
	}
	return out, nil
}

// SetListenerState persists a daemon's state on its broker record. Callers
// report changes only, not every retry.
func (r *Registry) SetListenerState(ctx context.Context, brokerID int64, state, lastError string, connectedAt time.Time) error {
	return r.Transaction(ctx, Superuser, nil, func(env *Env) error {
		vals := map[string]any{"listener_state": state}
		if lastError != "" || state == StateConnected {
			vals["last_error"] = truncate(lastError, 500)
		}
		if !connectedAt.IsZero() {
			vals["last_connected"] = connectedAt
		}
		if err := env.Sudo().setColumnsVals(r.Model("mqtt.broker"), brokerID, vals); err != nil {
			return err
		}
		note := map[string]any{"broker_id": brokerID, "state": state, "last_error": truncate(lastError, 500)}
		if !connectedAt.IsZero() {
			note["last_connected"] = connectedAt.UTC().Format(DatetimeFormat)
		}
		env.notifyAfterCommit(Notification{Channel: ChannelListener, Type: NoteListenerState, Payload: note})
		return nil
	})
}

// SetSubscriptionState persists the outcome of a subscribe: subscribed
// with its time, or the error of a refused or failed one.
func (r *Registry) SetSubscriptionState(ctx context.Context, subID int64, subscribed bool, errText string) error {
	return r.Transaction(ctx, Superuser, nil, func(env *Env) error {
		vals := map[string]any{"subscribed": subscribed, "subscription_in_progress": false, "last_error": truncate(errText, 500)}
		if subscribed {
			vals["subscription_time"] = time.Now().UTC()
		}
		return env.Sudo().setColumnsVals(r.Model("mqtt.subscription"), subID, vals)
	})
}

// setColumnsVals converts vals and updates one record's columns directly,
// skipping recompute and constraints: for state the system writes.
func (e *Env) setColumnsVals(m *Model, id int64, vals map[string]any) error {
	cols := make(map[string]any, len(vals))
	for k, v := range vals {
		dv, err := m.Field(k).toDB(e.Dialect(), v)
		if err != nil {
			return err
		}
		cols[k] = dv
	}
	return e.setColumns(m, []int64{id}, cols)
}

// HistoryRow is one message to store in mqtt.signal.history.
type HistoryRow struct {
	BrokerID       int64
	SubscriptionID int64 // 0: none
	SignalID       int64 // 0: none
	Topic          string
	Payload        []byte
	QoS            byte
	Retain         bool
	Direction      string // "receive" or "send"
	Timestamp      time.Time
}

// historyColumns are the columns InsertHistory fills, in value order.
var historyColumns = []string{"broker_id", "subscription_id", "signal_id", "topic", "payload", "payload_raw",
	"qos", "retain", "direction", "timestamp", "display_name", "create_date", "write_date"}

// sqliteRowsPerInsert: the pure-Go SQLite driver binds parameters at a cost
// that grows with their number per statement; 40 rows (520 parameters) per
// INSERT measured about 4x cheaper per row than 400.
const sqliteRowsPerInsert = 40

// InsertHistory stores rows in one transaction: COPY on PostgreSQL,
// multi-row INSERTs on SQLite. It only stores: callers tell the bus with
// NotifyHistory once they are done with the rows (the listener's batch
// writer acknowledges QoS 1/2 messages first). A row without a Timestamp
// is stored at the current second, which InsertHistory writes back into
// rows, so that NotifyHistory of the same rows tells the stored time.
func (r *Registry) InsertHistory(ctx context.Context, rows []HistoryRow) error {
	if len(rows) == 0 {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Second)
	values := make([][]any, len(rows))
	for i := range rows {
		if rows[i].Timestamp.IsZero() {
			rows[i].Timestamp = now
		}
		h := rows[i]
		text, ts := historyView(h)
		values[i] = []any{nullID(h.BrokerID), nullID(h.SubscriptionID), nullID(h.SignalID), h.Topic,
			text, h.Payload, int64(h.QoS), h.Retain, h.Direction, ts,
			historyName(h.Topic, ts), now, now}
	}
	var err error
	if r.dialect == Postgres {
		err = r.copyRows(ctx, "mqtt_signal_history", historyColumns, values)
	} else {
		err = r.insertRows(ctx, "mqtt_signal_history", historyColumns, values, sqliteRowsPerInsert)
	}
	if err != nil {
		return Internal("store history", err)
	}
	return nil
}

// historyView is what InsertHistory stores, and NotifyHistory tells, of
// a row: its payload as text and its timestamp in UTC to the second.
func historyView(h HistoryRow) (text string, ts time.Time) {
	return PayloadText(h.Payload), h.Timestamp.UTC().Truncate(time.Second)
}

// busPayloadMax bounds the payload text a bus notification carries; the
// full payload stays in the database.
const busPayloadMax = 4096

// NotifyHistory tells ChannelRealtime about rows InsertHistory stored
// (one NoteMessage each, in order), with the values stored.
func (r *Registry) NotifyHistory(ctx context.Context, rows []HistoryRow) {
	if r.notifier == nil || len(rows) == 0 {
		return
	}
	notes := make([]Notification, len(rows))
	for i, h := range rows {
		text, ts := historyView(h)
		notes[i] = historyNote(h, text, ts)
	}
	r.Notify(ctx, notes...)
}

// historyNote is the ChannelRealtime notification of one stored message:
// the columns a history list shows, with its text payload cut to
// busPayloadMax.
func historyNote(h HistoryRow, text string, ts time.Time) Notification {
	return Notification{Channel: ChannelRealtime, Type: NoteMessage, Payload: &MessageNote{
		Topic:          h.Topic,
		Payload:        truncate(text, busPayloadMax),
		Direction:      h.Direction,
		QoS:            int64(h.QoS),
		Retain:         h.Retain,
		Timestamp:      ts.Format(DatetimeFormat),
		DisplayName:    historyName(h.Topic, ts),
		BrokerID:       falseIfZero(h.BrokerID),
		SubscriptionID: falseIfZero(h.SubscriptionID),
		SignalID:       falseIfZero(h.SignalID),
	}}
}

// MessageNote is the payload of a NoteMessage. A struct rather than a map:
// one is built and encoded for every stored message, on the ingest path.
type MessageNote struct {
	Topic          string `json:"topic"`
	Payload        string `json:"payload"`
	Direction      string `json:"direction"`
	QoS            int64  `json:"qos"`
	Retain         bool   `json:"retain"`
	Timestamp      string `json:"timestamp"`
	DisplayName    string `json:"display_name"`
	BrokerID       any    `json:"broker_id"`       // id or false
	SubscriptionID any    `json:"subscription_id"` // id or false
	SignalID       any    `json:"signal_id"`       // id or false
}

// falseIfZero renders a missing id the way read does: False.
func falseIfZero(id int64) any {
	if id == 0 {
		return false
	}
	return id
}

// insertRows writes values with multi-row INSERTs of perStmt rows, in one
// transaction. time.Time values are converted for the dialect.
func (r *Registry) insertRows(ctx context.Context, table string, cols []string, values [][]any, perStmt int) error {
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quote(c)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	return r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for start := 0; start < len(values); start += perStmt {
			chunk := values[start:min(start+perStmt, len(values))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO ` + quote(table) + ` (` + strings.Join(quoted, ", ") + `) VALUES `)
			args := make([]any, 0, len(chunk)*len(cols))
			for i, row := range chunk {
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(one)
				for _, v := range row {
					if t, ok := v.(time.Time); ok {
						v = r.dialect.dbDatetime(t)
					}
					args = append(args, v)
				}
			}
			if err := tx.Exec(sb.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// copyRows writes values with PostgreSQL's COPY in one transaction, on a
// pgx connection taken from the pool: the cheapest bulk path (no SQL to
// parse, no parameters to bind).
func (r *Registry) copyRows(ctx context.Context, table string, cols []string, values [][]any) error {
	sqlDB, err := r.db.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(values)); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
}

// PayloadText is the text view of a payload: valid UTF-8 as is, other bytes
// and NUL replaced by U+FFFD, so a binary payload is shown, never refused
// (PostgreSQL text cannot hold NUL: one such row would fail its batch).
func PayloadText(b []byte) string {
	s := string(b)
	if !utf8.Valid(b) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// PurgeHistory applies each broker's retention (maximum age in days and/or
// number of rows) and returns how many rows it deleted.
func (r *Registry) PurgeHistory(ctx context.Context) (int64, error) {
	var brokers []struct {
		ID      int64
		MaxAge  int64 `gorm:"column:history_max_age_days"`
		MaxRows int64 `gorm:"column:history_max_rows"`
	}
	db := r.db.WithContext(ctx)
	if err := db.Raw(`SELECT "id", "history_max_age_days", "history_max_rows" FROM "mqtt_broker" WHERE "history_max_age_days" > 0 OR "history_max_rows" > 0`).Scan(&brokers).Error; err != nil {
		return 0, Internal("load retention", err)
	}
	// Rows still queued when their broker or subscription was deleted are
	// inserted after the unlink's own cleanup (the links have no foreign
	// key): sweep them here.
	res := db.Exec(`DELETE FROM "mqtt_signal_history" WHERE "broker_id" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "mqtt_broker" b WHERE b."id" = "mqtt_signal_history"."broker_id")`)
	if res.Error != nil {
		return 0, Internal("purge orphan history", res.Error)
	}
	total := res.RowsAffected
	if err := db.Exec(`UPDATE "mqtt_signal_history" SET "subscription_id" = NULL WHERE "subscription_id" IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "mqtt_subscription" s WHERE s."id" = "mqtt_signal_history"."subscription_id")`).Error; err != nil {
		return total, Internal("unlink orphan history", err)
	}
	for _, b := range brokers {
		if b.MaxAge > 0 {
			cutoff := r.dialect.dbDatetime(time.Now().Add(-time.Duration(b.MaxAge) * 24 * time.Hour))
			res := db.Exec(`DELETE FROM "mqtt_signal_history" WHERE "broker_id" = ? AND "timestamp" < ?`, b.ID, cutoff)
			if res.Error != nil {
				return total, Internal("purge history", res.Error)
			}
			total += res.RowsAffected
		}
		if b.MaxRows > 0 {
			// Keep the newest MaxRows rows: delete below the id of the
			// MaxRows-th newest.
			var edge []int64
			if err := db.Raw(`SELECT "id" FROM "mqtt_signal_history" WHERE "broker_id" = ? ORDER BY "id" DESC LIMIT 1 OFFSET ?`, b.ID, b.MaxRows-1).Scan(&edge).Error; err != nil {
				return total, Internal("purge history", err)
			}
			if len(edge) == 1 {
				res := db.Exec(`DELETE FROM "mqtt_signal_history" WHERE "broker_id" = ? AND "id" < ?`, b.ID, edge[0])
				if res.Error != nil {
					return total, Internal("purge history", res.Error)
				}
				total += res.RowsAffected
			}
		}
	}
	return total, nil
}

// ServiceShouldRun reports whether the service was running when the server
// last stopped, so it starts again at boot.
func (r *Registry) ServiceShouldRun(ctx context.Context) (bool, error) {
	var status []string
	if err := r.db.WithContext(ctx).Raw(`SELECT "status" FROM "mqtt_service" ORDER BY "id" LIMIT 1`).Scan(&status).Error; err != nil {
		return false, Internal("read service", err)
	}
	return len(status) == 1 && status[0] == "start", nil
}
