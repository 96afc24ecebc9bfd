package rpc

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPythonClientBigIDs: a history row, its broker and its subscription
// numbered beyond 2^31 travel to Python's xmlrpc.client as exact floats
// (<double>: <int> is 32-bit and xmlrpc.client cannot send a bigger int),
// which it sends back to read and search the row; JSON-RPC carries them
// as integers. On PostgreSQL this needs bigint ids.
func TestPythonClientBigIDs(t *testing.T) {
	const big = int64(1)<<31 + 10
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			reg := modelstest.NewFor(t, kind).Registry
			broker, sub, hist := big, big+1000, big+2000
			modelstest.SetNextID(t, reg, "mqtt.broker", broker)
			modelstest.SetNextID(t, reg, "mqtt.subscription", sub)
			modelstest.SetNextID(t, reg, "mqtt.signal.history", hist)
			ts := httptest.NewServer(newHandler(reg, Options{DBName: testDB, Logger: modelstest.Logger(t)}, nil))
			t.Cleanup(ts.Close)
			raw := runPython(t, "python_bigids.py", ts.URL, testDB, testPW)
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber() // Python's json prints a float as 2147483658.0, an int as 2147483658
			var got map[string]any
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("python_bigids.py printed %q: %v", raw, err)
			}
			float := func(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10) + ".0") }
			integer := func(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }
			want := map[string]any{
				"xml created":     []any{float(broker), float(sub), float(hist)},
				"xml read":        []any{float(hist), float(broker), float(sub), "42"},
				"xml search_read": []any{[]any{float(hist), float(broker)}},
				"xml int id":      "OverflowError: int exceeds XML-RPC limits",
				"json read":       []any{integer(hist), integer(broker), integer(sub), "42"},
			}
			for key, w := range want {
				if !reflect.DeepEqual(got[key], w) {
					t.Errorf("%s: the client got %v, want %v", key, got[key], w)
				}
			}
		})
	}
}
