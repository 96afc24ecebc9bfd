package main

import "testing"

// TestPythonMQTTParity drives the real binary with Python's xmlrpc.client
// (testdata/e2e/mqtt_parity_client.py) through the Odoo 16 parity points
// of the MQTT models (issue 9, item 13): a delete another record needs is
// fault 2 with Odoo's message and deletes nothing, session_info has Odoo
// 16's keys, Subscribe on an unreachable broker is the addon's fault, on
// SQLite and PostgreSQL.
func TestPythonMQTTParity(t *testing.T) { runPythonChecks(t, "mqtt_parity_client.py", "parity") }
