#!/usr/bin/env python3
"""Parity probe run by rpc's TestPythonClientParity: makes the calls of
issue 9's Odoo-parity items with Python's own xmlrpc.client and with plain
JSON-RPC (urllib, the shape odoorpc sends), and prints what the client
received as one JSON object on stdout. The Go test compares it with what
Odoo 16 answers.

Usage: python_parity.py BASE_URL DB PASSWORD
"""
import json
import sys
import xmlrpc.client

import odoo_probe
from odoo_probe import xml

out = {}


def jsonrpc(model, method, args, kwargs=None):
    """The JSON-RPC call, its error answered as {"error": message}."""
    try:
        return odoo_probe.jsonrpc(model, method, args, kwargs)
    except odoo_probe.JSONRPCError as e:
        return {"error": str(e)}


broker = xml("mqtt.broker", "create", [{"name": "Parity broker", "host": "127.0.0.1", "port": "1883"}])
sub = xml("mqtt.subscription", "create", [{"broker_id": broker, "topic": "parity/#"}])

def probe(key, fn):
    """Records what fn returns, or the fault it raises, under key."""
    try:
        out[key] = fn()
    except xmlrpc.client.Fault as f:
        out[key] = f.faultString


def last_update_is_write_date(call):
    rows = call("mqtt.broker", "read", [[broker], ["__last_update", "write_date"]])
    if isinstance(rows, dict):
        return rows["error"]
    rec = rows[0]
    return rec["__last_update"] == rec["write_date"] and rec["__last_update"] is not False


def fields_get(call, field):
    desc = call("mqtt.broker", "fields_get", [["__last_update", "name"]],
                {"attributes": ["type", "string", "default_export_compatible"]})
    return desc.get(field, desc.get("error", "missing"))


def first(rows, key):
    return rows["error"] if isinstance(rows, dict) else rows[0][key]


for via, call in (("xml", xml), ("json", jsonrpc)):
    probe(via + " display_name", lambda: first(call("mqtt.broker", "read", [[broker], ["display_name"]]), "display_name"))
    probe(via + " search_read display_name", lambda: first(call(
        "mqtt.broker", "search_read", [[["id", "=", broker]], ["display_name"]]), "display_name"))
    probe(via + " load default", lambda: first(call("mqtt.subscription", "read", [[sub], ["broker_id"]]), "broker_id"))
    probe(via + " load ''", lambda: first(call("mqtt.subscription", "read", [[sub], ["broker_id"]], {"load": ""}), "broker_id"))
    probe(via + " search_read load ''", lambda: first(call(
        "mqtt.subscription", "search_read", [[["id", "=", sub]], ["broker_id"]], {"load": ""}), "broker_id"))
    probe(via + " web_search_read", lambda: call(
        "mqtt.subscription", "web_search_read", [[["id", "=", sub]], ["broker_id"]])["records"][0]["broker_id"])
    probe(via + " __last_update is write_date", lambda: last_update_is_write_date(call))
    probe(via + " fields_get __last_update", lambda: fields_get(call, "__last_update"))
    probe(via + " fields_get name", lambda: fields_get(call, "name"))
# Only JSON can send None (xmlrpc.client refuses it without allow_none).
probe("json load None", lambda: first(jsonrpc("mqtt.subscription", "read", [[sub], ["broker_id"]], {"load": None}), "broker_id"))

gone = xml("mqtt.subscription", "create", [{"broker_id": broker, "topic": "parity/gone"}])
probe("xml unlink", lambda: xml("mqtt.subscription", "unlink", [[gone]]))
probe("xml unlink again", lambda: xml("mqtt.subscription", "unlink", [[gone]]))
probe("json unlink again", lambda: jsonrpc("mqtt.subscription", "unlink", [[gone]]))
probe("xml bad leaf", lambda: xml("mqtt.broker", "search", [[["name", "~", "x"]]]))
out["broker"], out["sub"] = broker, sub
json.dump(out, sys.stdout)
