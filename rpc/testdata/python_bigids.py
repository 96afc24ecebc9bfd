#!/usr/bin/env python3
"""Big-id probe run by rpc's TestPythonClientBigIDs: with Python's own
xmlrpc.client and plain JSON-RPC, creates a broker, a subscription and a
history row (the server numbers them beyond 2^31), reads the row back by
the ids the client received and by a domain on id, and prints what the
client got as one JSON object on stdout, floats as floats ("1.0"), so the
Go test sees the types too.

XML-RPC's <int> is 32-bit: the server sends bigger ints as <double>,
which xmlrpc.client reads as float, and xmlrpc.client refuses to send a
Python int beyond 2^31 - 1 (OverflowError), so the ids it got (floats)
are what it sends back.

Usage: python_bigids.py BASE_URL DB PASSWORD
"""
import json
import sys

from odoo_probe import jsonrpc, xml

out = {}


broker = xml("mqtt.broker", "create", [{"name": "Big broker", "host": "127.0.0.1", "port": "1883"}])
sub = xml("mqtt.subscription", "create", [{"broker_id": broker, "topic": "big/#"}])
hist = xml("mqtt.signal.history", "create", [{"broker_id": broker, "subscription_id": sub, "topic": "big/1",
                                              "payload": "42", "direction": "receive"}])
out["xml created"] = [broker, sub, hist]
fields = ["id", "broker_id", "subscription_id", "payload"]
row = xml("mqtt.signal.history", "read", [[hist], fields])[0]
out["xml read"] = [row["id"], row["broker_id"][0], row["subscription_id"][0], row["payload"]]
found = xml("mqtt.signal.history", "search_read", [[["id", ">", float(2**31)], ["broker_id", "=", broker]], fields])
out["xml search_read"] = [[r["id"], r["broker_id"][0]] for r in found]
try:
    xml("mqtt.signal.history", "read", [[int(hist)], fields])
    out["xml int id"] = "sent"
except OverflowError as e:
    out["xml int id"] = "OverflowError: " + str(e)

jhist = jsonrpc("mqtt.signal.history", "search", [[["id", "=", int(hist)]]])
row = jsonrpc("mqtt.signal.history", "read", [jhist, fields])[0]
out["json read"] = [row["id"], row["broker_id"][0], row["subscription_id"][0], row["payload"]]
json.dump(out, sys.stdout)
