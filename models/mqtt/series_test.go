package mqtt_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/mqtt"
)

// seriesBase is the time the series fixture's rows start at.
var seriesBase = time.Date(2026, 5, 6, 10, 0, 0, 0, time.UTC)

// seriesFixture stores rows of four topics at seriesBase + seconds.
func seriesFixture(t *testing.T, r *modelstest.App) int64 {
	t.Helper()
	ctx := context.Background()
	broker := exec(t, r, models.AdminUID, "mqtt.broker", "create", map[string]any{"name": "Series"}).(int64)
	at := func(topic, payload string, sec int) mqtt.HistoryRow {
		return mqtt.HistoryRow{BrokerID: broker, Topic: topic, Payload: []byte(payload), Direction: "receive",
			Timestamp: seriesBase.Add(time.Duration(sec) * time.Second)}
	}
	rows := []mqtt.HistoryRow{
		at("s/num", "1", 0), at("s/num", "3", 10), at("s/num", "abc", 20), at("s/num", " 5 \n", 70),
		at("s/num", "100", 3600), // outside the hour asked
		at("s/json", `{"a":{"b":[{"c":1.5}]}}`, 5), at("s/json", `{"a":{"b":[{"c":"2.5"}]}}`, 15),
		at("s/json", `{"a":1}`, 25), at("s/json", `not json {`, 35), at("s/json", `{"a":{"b":[{"c":true}]}}`, 45),
		at("s/edge", "1e400", 1), at("s/edge", "NaN", 2), at("s/edge", "Infinity", 3), at("s/edge", "0x10", 4),
		at("s/edge", "", 5), at("s/edge", "-.5", 6), at("s/edge", "+2e-3", 7), at("s/edge", "1.2.3", 8),
		at("s/edge", "2e1", 9), at("s/edge", "1e100", 10), at("s/edge", strings.Repeat("1", 201), 11),
	}
	if err := r.MQTT.InsertHistory(ctx, rows); err != nil {
		t.Fatal(err)
	}
	return broker
}

type wantPoint struct {
	time        string
	count       int64
	lo, hi, avg float64
}

func TestHistoryGetSeries(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		seriesFixture(t, r)
		hour := map[string]any{"start": "2026-05-06 10:00:00", "end": "2026-05-06 11:00:00", "interval_seconds": int64(60)}
		with := func(extra map[string]any) map[string]any {
			kw := map[string]any{}
			for k, v := range hour {
				kw[k] = v
			}
			for k, v := range extra {
				kw[k] = v
			}
			return kw
		}
		topic := func(s string) []any { return []any{[]any{"topic", "=", s}} }
		cases := []struct {
			name     string
			kwargs   map[string]any
			want     []wantPoint
			skipped  int64
			interval int64
			wantErr  string // a ValidationError naming this field
		}{
			{name: "numbers", kwargs: with(map[string]any{"domain": topic("s/num")}), interval: 60, skipped: 1,
				want: []wantPoint{{"2026-05-06 10:00:00", 2, 1, 3, 2}, {"2026-05-06 10:01:00", 1, 5, 5, 5}}},
			{name: "numbers through $", kwargs: with(map[string]any{"domain": topic("s/num"), "json_path": "$"}), interval: 60, skipped: 1,
				want: []wantPoint{{"2026-05-06 10:00:00", 2, 1, 3, 2}, {"2026-05-06 10:01:00", 1, 5, 5, 5}}},
			{name: "json path", kwargs: with(map[string]any{"domain": topic("s/json"), "json_path": "a.b[0].c"}), interval: 60, skipped: 3,
				want: []wantPoint{{"2026-05-06 10:00:00", 2, 1.5, 2.5, 2}}},
			{name: "json path rooted", kwargs: with(map[string]any{"domain": topic("s/json"), "json_path": "$.a.b[0].c"}), interval: 60, skipped: 3,
				want: []wantPoint{{"2026-05-06 10:00:00", 2, 1.5, 2.5, 2}}},
			{name: "non-numeric ignored, never an error", kwargs: with(map[string]any{"domain": topic("s/edge")}), interval: 60, skipped: 8,
				want: []wantPoint{{"2026-05-06 10:00:00", 3, -0.5, 20, (-0.5 + 0.002 + 20) / 3}}},
			{name: "bounded by max_points", kwargs: map[string]any{"domain": topic("s/num"), "start": "2026-05-06 00:00:00", "end": "2026-05-07 00:00:00", "max_points": int64(10)},
				interval: 10800, skipped: 1, want: []wantPoint{{"2026-05-06 09:00:00", 4, 1, 100, 109.0 / 4}}},
			{name: "empty range", kwargs: map[string]any{"domain": topic("s/num"), "start": "2026-05-01 00:00:00", "end": "2026-05-01 01:00:00"},
				interval: 15, want: nil},
			{name: "bad path", kwargs: with(map[string]any{"json_path": "a..b"}), wantErr: "JSON path"},
			{name: "end before start", kwargs: map[string]any{"start": "2026-05-06 11:00:00", "end": "2026-05-06 10:00:00"}, wantErr: "End"},
			{name: "bad start", kwargs: map[string]any{"start": "yesterday"}, wantErr: "Start"},
			{name: "too many points", kwargs: with(map[string]any{"max_points": int64(5000)}), wantErr: "Max points"},
			{name: "negative interval", kwargs: with(map[string]any{"interval_seconds": int64(-5)}), wantErr: "Interval"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res, err := r.Execute(context.Background(), models.Call{UID: models.AdminUID, Model: "mqtt.signal.history", Method: "get_series", Kwargs: c.kwargs})
				if c.wantErr != "" {
					if models.KindOf(err) != models.KindValidation || !strings.HasPrefix(err.Error(), c.wantErr) {
						t.Fatalf("err = %v, want a ValidationError on %s", err, c.wantErr)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				checkSeries(t, res.(map[string]any), c.interval, c.skipped, c.want)
			})
		}
	})
}

func checkSeries(t *testing.T, got map[string]any, interval, skipped int64, want []wantPoint) {
	t.Helper()
	if got["interval"] != interval || got["skipped"] != skipped {
		t.Errorf("interval %v skipped %v, want %d %d", got["interval"], got["skipped"], interval, skipped)
	}
	pts := got["points"].([]any)
	if len(pts) != len(want) {
		t.Fatalf("%d points %v, want %v", len(pts), pts, want)
	}
	for i, w := range want {
		p := pts[i].(map[string]any)
		if p["time"] != w.time || p["count"] != w.count || !near(p["min"], w.lo) || !near(p["max"], w.hi) || !near(p["avg"], w.avg) {
			t.Errorf("point %d = %v, want %+v", i, p, w)
		}
	}
}

func near(v any, f float64) bool { x, ok := v.(float64); return ok && math.Abs(x-f) < 1e-9 }

// TestHistoryGetSeriesAccess: a user outside the MQTT groups reads no
// history, so no series; a member of the MQTT users group gets it.
func TestHistoryGetSeriesAccess(t *testing.T) {
	forEachDB(t, func(t *testing.T, r *modelstest.App) {
		seriesFixture(t, r)
		uid := newUserIn(t, r, fmt.Sprintf("nogroup-%d", time.Now().UnixNano()), "pw-12345678", "base.group_user")
		_, err := r.Execute(context.Background(), models.Call{UID: uid, Model: "mqtt.signal.history", Method: "get_series",
			Kwargs: map[string]any{"start": "2026-05-06 10:00:00", "end": "2026-05-06 11:00:00"}})
		if models.KindOf(err) != models.KindAccess {
			t.Fatalf("err = %v, want an AccessError", err)
		}
		reader := newUserIn(t, r, fmt.Sprintf("reader-%d", time.Now().UnixNano()), "pw-12345678", mqtt.GroupUser)
		res, err := r.Execute(context.Background(), models.Call{UID: reader, Model: "mqtt.signal.history", Method: "get_series",
			Kwargs: map[string]any{"domain": []any{[]any{"topic", "=", "s/num"}}, "start": "2026-05-06 10:00:00", "end": "2026-05-06 11:00:00", "interval_seconds": int64(60)}})
		if err != nil {
			t.Fatal(err)
		}
		checkSeries(t, res.(map[string]any), 60, 1, []wantPoint{{"2026-05-06 10:00:00", 2, 1, 3, 2}, {"2026-05-06 10:01:00", 1, 5, 5, 5}})
	})
}
