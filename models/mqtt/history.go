package mqtt

import (
	"context"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
)

// historyModel mirrors mqtt.signal.history (seed-addon.md §1.4), with
// the broker and subscription links the addon lacked (defect 10). Ordered
// newest first; id breaks ties so paging is stable.
func historyModel(grain models.Grain) *models.Model {
	return &models.Model{
		// On PostgreSQL, partitioned by day or month: retention drops
		// whole partitions (retention.go).
		Partition: &models.Partitioning{Field: "timestamp", Grain: grain},
		Name:      "mqtt.signal.history", Description: "MQTT Signal History", Order: "timestamp desc, id desc", RecName: "display_name",
		Fields: []*models.Field{
			{Name: "signal_id", Type: models.Many2one, Relation: "mqtt.signal", String: "MQTT Signal", OnDelete: "set null"},
			// Set on every received row: no foreign keys (see NoForeignKey);
			// deleting a broker or subscription cleans its history itself.
			{Name: "broker_id", Type: models.Many2one, Relation: "mqtt.broker", String: "Broker", OnDelete: "cascade", NoForeignKey: true},
			{Name: "subscription_id", Type: models.Many2one, Relation: "mqtt.subscription", String: "Subscription", OnDelete: "set null", NoForeignKey: true},
			{Name: "payload", Type: models.Text, Required: true, Help: "The payload as text; bytes that are not UTF-8 show as U+FFFD."},
			{Name: "payload_raw", Type: models.Binary, String: "Raw payload", Help: "The payload bytes exactly as received."},
			{Name: "topic", Type: models.Char, Index: true},
			{Name: "qos", Type: models.Integer, String: "QoS"},
			{Name: "retain", Type: models.Boolean},
			{Name: "direction", Type: models.Selection, Required: true,
				Selection: models.Choices("send", "Send", "receive", "Received")},
			{Name: "timestamp", Type: models.Datetime, Index: true, Default: now},
			// MQTT 5 properties of the PUBLISH (empty on 3.1/3.1.1).
			{Name: "content_type", Type: models.Char, String: "Content type"},
			{Name: "response_topic", Type: models.Char, String: "Response topic"},
			{Name: "correlation_data", Type: models.Binary, String: "Correlation data"},
			{Name: "user_properties", Type: models.Text, String: "User properties",
				Help: "JSON list of [name, value] pairs, in the order sent; a name may repeat."},
			{Name: "message_expiry", Type: models.Integer, String: "Message expiry (s)",
				Help: "The Message Expiry Interval: for a received message, what was left of it when the broker delivered it."},
			{Name: "display_name", Type: models.Char, Compute: historyDisplayName, Depends: []string{"topic", "timestamp"}},
		},
		Access:   map[string]string{GroupUser: "r", GroupManager: "rwcu"},
		Channels: []string{ChannelRealtime},
		Prepare:  historyPrepare,
		Methods:  historyMethods(),
	}
}

// historyPrepare refuses to clear a row's timestamp: the partitioned
// history (PostgreSQL) files every row by it, and the column is NOT NULL
// there. SQLite refuses it too, so both answer alike.
func historyPrepare(env *models.Env, vals map[string]any, create bool) error {
	if v, ok := vals["timestamp"]; ok && (v == nil || v == false) {
		return models.ValidationErrorf("The message history's Timestamp cannot be empty: rows are kept by time.")
	}
	return nil
}

// historyDisplayName is "<topic> - <timestamp UTC>"; the addon showed
// "Unknown Signal Broker" for every received row without a signal.
func historyDisplayName(env *models.Env, r *models.Record) (any, error) {
	return historyName(r.Str("topic"), r.Time("timestamp")), nil
}

// historyName renders a history row's name; InsertHistory, which writes
// rows without the ORM, uses it too.
func historyName(topic string, ts time.Time) string {
	if topic == "" {
		topic = "Unknown Signal Broker"
	}
	if ts.IsZero() {
		return topic
	}
	return topic + " - " + ts.Format(models.DatetimeFormat)
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
	Properties     // MQTT 5; zero on 3.1/3.1.1

	// PacketID and Dup are a received QoS 1/2 message's packet id and
	// DUP flag, for the redelivery window (inflight.go); PacketID 0: not
	// tracked (QoS 0, a clean session, a sent message).
	PacketID uint16
	Dup      bool
	// Session is the client id of the connection that received it: a
	// packet id identifies a message within its session only.
	Session string
	// Duplicate is InsertHistory's answer: the row is a redelivery of a
	// message stored already, and was not stored again.
	Duplicate bool

	text string // the payload as text, once InsertHistory made it
}

// historyFields are the fields InsertHistory fills, in the order of
// historyValues.
var historyFields = []string{"broker_id", "subscription_id", "signal_id", "topic", "payload", "payload_raw",
	"qos", "retain", "direction", "timestamp", "display_name",
	"content_type", "response_topic", "correlation_data", "user_properties", "message_expiry"}

// historyValues is a row's values in historyFields order, with room for
// the two columns the bulk insert adds.
func historyValues(h HistoryRow) []any {
	text, ts := historyView(h)
	row := make([]any, 0, len(historyFields)+2)
	return append(row, h.BrokerID, h.SubscriptionID, h.SignalID, h.Topic, text, h.Payload,
		int64(h.QoS), h.Retain, h.Direction, ts, historyName(h.Topic, ts),
		orNull(h.ContentType), orNull(h.ResponseTopic), bytesOrNull(h.CorrelationData), UserPropertiesJSON(h.UserProperties), expiryOrNull(h.MessageExpiry))
}

// A 3.1.1 row stores NULL properties (False over RPC), as a row from
// before the fields existed; these make the bulk insert's values.
func orNull(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func bytesOrNull(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// expiryOrNull clamps to the column's int4 range: 68 years left is as
// good as MQTT's largest interval.
func expiryOrNull(s uint32) any {
	if s == 0 {
		return nil
	}
	return min(int64(s), math.MaxInt32)
}

// historyView is what InsertHistory stores, and NotifyHistory tells, of
// a row: its payload as text and its timestamp in UTC to the second.
func historyView(h HistoryRow) (text string, ts time.Time) {
	text = h.text
	if text == "" && len(h.Payload) > 0 {
		text = PayloadText(h.Payload)
	}
	return text, h.Timestamp.UTC().Truncate(time.Second)
}

// InsertHistory stores rows in one transaction, through the engine's bulk
// insert (COPY on PostgreSQL, multi-row INSERTs on SQLite). It only
// stores: callers tell the bus with NotifyHistory once they are done with
// the rows (the listener's batch writer acknowledges QoS 1/2 messages
// first). A row without a Timestamp is stored at the current second,
// which InsertHistory writes back into rows, so that NotifyHistory of the
// same rows tells the stored time (and reuses the payload's text).
//
// Rows with a PacketID go through the redelivery window in the same
// transaction (inflight.go): a DUP row found there is not stored, and
// InsertHistory marks it Duplicate. The received rows stored are added
// to the topic summary in that transaction too.
func (a *Addon) InsertHistory(ctx context.Context, rows []HistoryRow) error {
	if len(rows) == 0 {
		return nil
	}
	now := time.Now().UTC()
	sec := now.Truncate(time.Second)
	tracked := false
	for i := range rows {
		if rows[i].Timestamp.IsZero() {
			rows[i].Timestamp = sec
		}
		rows[i].text = PayloadText(rows[i].Payload) // kept for NotifyHistory
		tracked = tracked || rows[i].PacketID != 0
	}
	// One transaction for the rows, the redelivery window (inflight.go)
	// and the topic summary (topic_summary.go).
	return a.history.InsertWith(ctx, func(tx models.Tx) ([][]any, error) {
		if tracked {
			for i := range rows { // a failed attempt may have marked some
				rows[i].Duplicate = false
			}
			if err := a.dedupe(tx, rows, now); err != nil {
				return nil, err
			}
		}
		if err := upsertSummary(tx, summarize(rows)); err != nil {
			return nil, err
		}
		values := make([][]any, 0, len(rows))
		for i := range rows {
			if !rows[i].Duplicate {
				values = append(values, historyValues(rows[i]))
			}
		}
		return values, nil
	})
}

// NotifyHistory tells ChannelRealtime about rows InsertHistory stored
// (one NoteMessage each, in order), with the values stored.
func (a *Addon) NotifyHistory(ctx context.Context, rows []HistoryRow) {
	if len(rows) == 0 {
		return
	}
	notes := make([]models.Notification, 0, len(rows))
	for _, h := range rows {
		if h.Duplicate { // told when it was stored
			continue
		}
		text, ts := historyView(h)
		notes = append(notes, historyNote(h, text, ts))
	}
	if len(notes) == 0 {
		return
	}
	a.reg.Notify(ctx, notes...)
}

// busPayloadMax bounds the payload text a bus notification carries; the
// full payload stays in the database.
const busPayloadMax = 4096

// historyNote is the ChannelRealtime notification of one stored message:
// the columns a history list shows, with its text payload cut to
// busPayloadMax.
func historyNote(h HistoryRow, text string, ts time.Time) models.Notification {
	return models.Notification{Channel: ChannelRealtime, Type: NoteMessage, Payload: &MessageNote{
		Topic:          h.Topic,
		Payload:        Truncate(text, busPayloadMax),
		Direction:      h.Direction,
		QoS:            int64(h.QoS),
		Retain:         h.Retain,
		Timestamp:      ts.Format(models.DatetimeFormat),
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

// Truncate cuts s to at most n bytes, at a character boundary.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// RecordSent keeps messages the broker acknowledged in the send history
// of brokerID, sent at at: stored, then told on the bus. The addons'
// actions that publish outside a signal (device actions, commands,
// rules) share it.
func (a *Addon) RecordSent(ctx context.Context, brokerID int64, at time.Time, msgs ...OutgoingMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	rows := make([]HistoryRow, len(msgs))
	for i, m := range msgs {
		rows[i] = HistoryRow{BrokerID: brokerID, Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain,
			Direction: "send", Timestamp: at, Properties: m.Properties}
	}
	if err := a.InsertHistory(ctx, rows); err != nil {
		return err
	}
	a.NotifyHistory(ctx, rows)
	return nil
}
