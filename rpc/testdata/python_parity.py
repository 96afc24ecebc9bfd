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
import urllib.request
import xmlrpc.client

BASE, DB, PW = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}

common = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/2/common")
obj = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/2/object")
uid = common.authenticate(DB, "admin", PW, {})


def xml(model, method, args, kwargs=None):
    return obj.execute_kw(DB, uid, PW, model, method, args, kwargs or {})


def jsonrpc(model, method, args, kwargs=None):
    body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw",
        "args": [DB, uid, PW, model, method, args, kwargs or {}]}}
    req = urllib.request.Request(f"{BASE}/jsonrpc", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        answer = json.load(resp)
    if "error" in answer:
        return {"error": answer["error"]["data"]["message"]}
    return answer["result"]


broker = xml("mqtt.broker", "create", [{"name": "Parity broker", "host": "127.0.0.1", "port": "1883"}])
sub = xml("mqtt.subscription", "create", [{"broker_id": broker, "topic": "parity/#"}])

for via, call in (("xml", xml), ("json", jsonrpc)):
    out[via + " display_name"] = call("mqtt.broker", "read", [[broker], ["display_name"]])[0]["display_name"]
    out[via + " search_read display_name"] = call(
        "mqtt.broker", "search_read", [[["id", "=", broker]], ["display_name"]])[0]["display_name"]
    out[via + " load default"] = call("mqtt.subscription", "read", [[sub], ["broker_id"]])[0]["broker_id"]
    out[via + " load ''"] = call("mqtt.subscription", "read", [[sub], ["broker_id"]], {"load": ""})[0]["broker_id"]
    out[via + " search_read load ''"] = call(
        "mqtt.subscription", "search_read", [[["id", "=", sub]], ["broker_id"]], {"load": ""})[0]["broker_id"]
    out[via + " web_search_read"] = call(
        "mqtt.subscription", "web_search_read", [[["id", "=", sub]], ["broker_id"]])["records"][0]["broker_id"]
    rec = call("mqtt.broker", "read", [[broker], ["__last_update", "write_date"]])[0]
    out[via + " __last_update is write_date"] = rec["__last_update"] == rec["write_date"] and rec["__last_update"] is not False
    desc = call("mqtt.broker", "fields_get", [["__last_update", "name"]], {"attributes": ["type", "string", "default_export_compatible"]})
    out[via + " fields_get __last_update"] = desc["__last_update"]
    out[via + " fields_get name"] = desc["name"]
# Only JSON can send None (xmlrpc.client refuses it without allow_none).
out["json load None"] = jsonrpc("mqtt.subscription", "read", [[sub], ["broker_id"]], {"load": None})[0]["broker_id"]

gone = xml("mqtt.subscription", "create", [{"broker_id": broker, "topic": "parity/gone"}])
out["xml unlink"] = xml("mqtt.subscription", "unlink", [[gone]])
out["xml unlink again"] = xml("mqtt.subscription", "unlink", [[gone]])
out["json unlink again"] = jsonrpc("mqtt.subscription", "unlink", [[gone]])

try:
    xml("mqtt.broker", "search", [[["name", "~", "x"]]])
    out["xml bad leaf"] = "no fault"
except xmlrpc.client.Fault as f:
    out["xml bad leaf"] = f.faultString
out["broker"], out["sub"] = broker, sub
json.dump(out, sys.stdout)
