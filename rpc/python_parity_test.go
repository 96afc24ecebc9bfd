package rpc

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/odoo-iot-mqtt/odoo-iot-mqtt/models/modelstest"
)

// TestPythonClientParity drives a real handler with Python's xmlrpc.client
// and JSON-RPC (testdata/python_parity.py) on each database, and checks
// what those clients receive against Odoo 16: display_name is the name,
// many2one values are bare ids for any load but '_classic_read',
// __last_update is there, unlink of a deleted id is True, and a domain
// error quotes the leaf as a Python tuple.
func TestPythonClientParity(t *testing.T) {
	for _, kind := range modelstest.Kinds(t) {
		t.Run(kind, func(t *testing.T) {
			reg := modelstest.NewFor(t, kind).Registry
			ts := httptest.NewServer(newHandler(reg, Options{DBName: testDB, Logger: modelstest.Logger(t)}, nil))
			t.Cleanup(ts.Close)
			raw := runPython(t, "python_parity.py", ts.URL, testDB, testPW)
			var got map[string]any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("python_parity.py printed %q: %v", raw, err)
			}
			broker := got["broker"].(float64)
			named := []any{broker, "Parity broker"}
			lastUpdate := map[string]any{"type": "datetime", "string": "Last Modified on", "default_export_compatible": false}
			name := map[string]any{"type": "char", "string": "Broker Name", "default_export_compatible": false}
			want := map[string]any{"json load None": broker, "xml unlink": true, "xml unlink again": true, "json unlink again": true,
				"xml bad leaf": "ValueError: Invalid leaf ('name', '~', 'x')"}
			for _, via := range []string{"xml", "json"} {
				want[via+" display_name"] = "Parity broker"
				want[via+" search_read display_name"] = "Parity broker"
				want[via+" load default"] = named
				want[via+" load ''"] = broker
				want[via+" search_read load ''"] = broker
				want[via+" web_search_read"] = named
				want[via+" __last_update is write_date"] = true
				want[via+" fields_get __last_update"] = lastUpdate
				want[via+" fields_get name"] = name
			}
			for key, w := range want {
				if !reflect.DeepEqual(got[key], w) {
					t.Errorf("%s: the client got %#v, want %#v", key, got[key], w)
				}
			}
		})
	}
}
