package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// frame builds a /websocket frame the way package bus does: each note's
// wire bytes joined in a JSON array, the payload map encoded by
// encoding/json (sorted keys, escaped strings).
func frame(t *testing.T, notes ...map[string]any) []byte {
	t.Helper()
	out := []byte{'['}
	for i, p := range notes {
		body, err := json.Marshal(map[string]any{"type": "mqtt_message", "payload": p})
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, fmt.Sprintf(`{"id":%d,"message":%s}`, 100+i, body)...)
	}
	return append(out, ']')
}

func realtime(mqttPayload string) map[string]any {
	return map[string]any{
		"topic": "device/d1/telemetry/t", "payload": mqttPayload, "direction": "receive", "qos": 0,
		"retain": false, "timestamp": "2026-11-22 10:00:00", "display_name": "device/d1/telemetry/t: " + mqttPayload,
		"broker_id": 1, "subscription_id": 2, "signal_id": false,
	}
}

func TestScanNotes(t *testing.T) {
	sent := time.Date(2026, 11, 22, 10, 0, 0, 123456789, time.UTC).UnixNano()
	cases := []struct {
		name  string
		frame []byte
		want  []wireNote
	}{
		{"one note", frame(t, realtime(string(payload(7, sent)))), []wireNote{{100, 7, sent}}},
		{"three notes", frame(t, realtime(string(payload(1, sent))), realtime(string(payload(2, sent+5)))),
			[]wireNote{{100, 1, sent}, {101, 2, sent + 5}}},
		{"foreign payload", frame(t, realtime(`{"id": 5, "temperature": 21.5}`), realtime(string(payload(3, sent)))),
			[]wireNote{{100, -1, 0}, {101, 3, sent}}},
		{"text payload", frame(t, realtime(`hello "world"`)), []wireNote{{100, -1, 0}}},
		{"empty array", []byte(`[]`), nil},
		{"device event, sent as a float", []byte(`[{"id":9,"message":{"type":"x","payload":{"value":{"seq\":4,"sent\":1.7634e+18}}}}]`),
			[]wireNote{{9, 4, 1763400000000000000}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []wireNote
			scanNotes(c.frame, func(n wireNote) { got = append(got, n) })
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("scanNotes(%s)\n got %v\nwant %v", c.frame, got, c.want)
			}
		})
	}
}

// TestScanNotesMatchesJSON decodes the same frames with encoding/json and
// the payload with it again: the scanner must agree on every note.
func TestScanNotesMatchesJSON(t *testing.T) {
	var notes []map[string]any
	for i := range 50 {
		notes = append(notes, realtime(string(payload(int64(i), 1_700_000_000_000_000_000+int64(i)*997))))
	}
	f := frame(t, notes...)
	var decoded []struct {
		ID      int64 `json:"id"`
		Message struct {
			Payload struct {
				Payload string `json:"payload"`
			} `json:"payload"`
		} `json:"message"`
	}
	if err := json.Unmarshal(f, &decoded); err != nil {
		t.Fatal(err)
	}
	var got []wireNote
	scanNotes(f, func(n wireNote) { got = append(got, n) })
	if len(got) != len(decoded) {
		t.Fatalf("scanned %d notes, decoded %d", len(got), len(decoded))
	}
	for i, d := range decoded {
		var p struct{ Seq, Sent int64 }
		if err := json.Unmarshal([]byte(d.Message.Payload.Payload), &p); err != nil {
			t.Fatal(err)
		}
		if want := (wireNote{d.ID, p.Seq, p.Sent}); got[i] != want {
			t.Errorf("note %d: scanned %v, decoded %v", i, got[i], want)
		}
	}
}

func TestHistQuantile(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	cases := []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.9, 900 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}}
	for _, c := range cases {
		got := h.quantile(c.q)
		if diff := float64(got-c.want) / float64(c.want); diff < -1.0/histSub || diff > 1.0/histSub {
			t.Errorf("quantile(%v) = %v, want %v within 1/%d", c.q, got, c.want, histSub)
		}
	}
	if h.max != time.Second || h.n != 1000 {
		t.Errorf("max %v, n %d; want 1s, 1000", h.max, h.n)
	}
	var small, merged hist
	small.add(3 * time.Microsecond)
	small.add(-time.Microsecond)
	merged.merge(&small)
	merged.merge(&h)
	if merged.n != 1002 || merged.quantile(0) != 0 || merged.max != time.Second {
		t.Errorf("merged: n %d, min bucket %v, max %v", merged.n, merged.quantile(0), merged.max)
	}
}

func TestBuckets(t *testing.T) {
	for _, us := range []uint64{0, 1, 63, 64, 127, 128, 129, 1000, 65_432, 1 << 30} {
		i := bucketOf(us)
		if lo, hi := lowerBound(i), lowerBound(i+1); us < lo || us >= hi {
			t.Errorf("%d µs in bucket %d = [%d, %d)", us, i, lo, hi)
		}
	}
}
