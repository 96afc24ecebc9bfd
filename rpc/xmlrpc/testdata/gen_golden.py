#!/usr/bin/env python3
"""Regenerates the golden XML-RPC requests of the xmlrpc package's tests.

Run from anywhere:  python3 rpc/xmlrpc/testdata/gen_golden.py

For every case it writes, next to this script:
  <name>.xml   the request body, as Python's xmlrpc.client.dumps(params,
               method, allow_none=True) produces it (what Odoo's users send);
  <name>.json  {"method": ..., "params": [...]}: what DecodeCall must return,
               computed from Python's own xmlrpc.client.loads of that body and
               mapped to the Go rules (dateTime -> "YYYY-MM-DD HH:MM:SS",
               base64 -> its text without line breaks);
and a seed fuzz/FuzzDecodeCall/golden_<name> in Go's corpus format.

It also writes the hand-written seeds listed in ODD_SEEDS.
"""

import base64
import datetime
import json
import os
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_DIR = os.path.join(HERE, "fuzz", "FuzzDecodeCall")

DB, UID, PW = "odoo16", 2, "admin"

CASES = [
    (
        "execute_kw_search_read",
        "execute_kw",
        (
            DB, UID, PW, "res.partner", "search_read",
            [[
                "|", "&",
                ["name", "ilike", "a&b <c> \"d\" 'e'"],
                ["city", "=", "Liège — Zürich"],
                ["comment", "like", "rocket 🚀 & <b>bold</b>"],
                ["id", "in", [1, 2, 3]],
            ]],
            {
                "fields": ["name", "email", "is_company", "parent_id"],
                "limit": 80,
                "offset": 0,
                "order": "name asc, id desc",
                "context": {"lang": "fr_FR", "tz": "Europe/Brussels", "active_test": False},
            },
        ),
    ),
    (
        "execute_kw_write_values",
        "execute_kw",
        (
            DB, UID, PW, "res.partner", "write",
            [[7], {
                "name": "",
                "comment": None,
                "category_id": [],
                "properties": {},
                "active": True,
                "is_company": False,
                "credit_limit": 1500.75,
                "date": datetime.datetime(2024, 1, 31, 23, 59, 1),
                "image_1920": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2,
                "signature": xmlrpc.client.Binary(b"hello world"),
            }],
            {"context": {"tracking_disable": True}},
        ),
    ),
    (
        "execute_kw_create_floats",
        "execute_kw",
        (
            DB, UID, PW, "mqtt.value", "create",
            [[
                {"value": 0.1, "min": -0.0, "max": 3.0, "tiny": 1e-07, "huge": 1e300},
                {"value": -2147483648, "max": 2147483647, "neg": -42, "pi": 3.141592653589793},
            ]],
            {},
        ),
    ),
    (
        "execute_kw_big_ints",
        "execute_kw",
        (
            DB, UID, PW, "mqtt.counter", "write",
            [[9007199254740993], {"total": 2**62, "low": -(2**63), "small": 5}],
        ),
    ),
    (
        "common_authenticate",
        "authenticate",
        (DB, "admin", "admin", {}),
    ),
    (
        "common_version",
        "version",
        (),
    ),
    (
        "execute_kw_whitespace",
        "execute_kw",
        (
            DB, UID, PW, "res.partner", "create",
            [{"name": "  padded  ", "street": "line1\nline2\r\nline3", "ref": "\ttab"}],
            {"context": {"nested": {"deeper": {"deepest": [[[[["x"]]]]]}}}},
        ),
    ),
    (
        "execute_kw_none_args",
        "execute_kw",
        (DB, UID, PW, "res.partner", "name_search", ["", [], "ilike", None], {"limit": None}),
    ),
]

# Python's Marshaller refuses ints outside int32 ("int exceeds XML-RPC
# limits"); clients such as Apache XML-RPC and Node send them as <i8>, which
# Python's loads accepts. Those cases are dumped with <i8> for big ints.
I8_CASES = {"execute_kw_big_ints"}


def dump_i8(self, value, write):
    tag = "int" if xmlrpc.client.MININT <= value <= xmlrpc.client.MAXINT else "i8"
    write("<value><%s>%d</%s></value>\n" % (tag, value, tag))


def dumps(name, method, params):
    if name not in I8_CASES:
        return xmlrpc.client.dumps(params, method, allow_none=True)
    saved = xmlrpc.client.Marshaller.dispatch[int]
    xmlrpc.client.Marshaller.dispatch[int] = dump_i8
    try:
        return xmlrpc.client.dumps(params, method, allow_none=True)
    finally:
        xmlrpc.client.Marshaller.dispatch[int] = saved


def go_view(v):
    """Maps a value from xmlrpc.client.loads to what DecodeCall returns."""
    if isinstance(v, xmlrpc.client.DateTime):
        return datetime.datetime.strptime(v.value, "%Y%m%dT%H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, xmlrpc.client.Binary):
        return base64.b64encode(v.data).decode("ascii")
    if isinstance(v, (list, tuple)):
        return [go_view(x) for x in v]
    if isinstance(v, dict):
        return {k: go_view(x) for k, x in v.items()}
    return v


def go_bytes_literal(data):
    """Quotes bytes as a Go interpreted string literal for a corpus file."""
    out = []
    for b in data:
        c = chr(b)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\t":
            out.append("\\t")
        elif c == "\r":
            out.append("\\r")
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    return '"' + "".join(out) + '"'


def write_seed(name, data):
    with open(os.path.join(SEED_DIR, name), "w") as f:
        f.write("go test fuzz v1\n[]byte(%s)\n" % go_bytes_literal(data))


# Inputs no Python client produces but other clients (or attackers) do.
ODD_SEEDS = {
    "odd_untyped": "<methodCall><methodName>m</methodName><params><param><value>  raw text </value></param></params></methodCall>",
    "odd_empty_values": "<methodCall><methodName>m</methodName><params><param><value><array><data><value>1</value><value/><value><int>3</int></value></data></array></value></param>"
    "<param><value><struct><member><name>a</name><value/></member><member><name>b</name><value><i4>2</i4></value></member></struct></value></param></params></methodCall>",
    "odd_ext_types": "<methodCall><methodName>m</methodName><params><param><value><ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/></value></param>"
    "<param><value><i1>-5</i1></value></param><param><value><i2>300</i2></value></param><param><value><biginteger> 123456789012 </biginteger></value></param>"
    "<param><value><float>1.5</float></value></param><param><value><boolean>true</boolean></value></param></params></methodCall>",
    "odd_datetimes": "<methodCall><methodName>m</methodName><params><param><value><dateTime.iso8601>2024-01-31T23:59:01</dateTime.iso8601></value></param>"
    "<param><value><dateTime.iso8601>20240131T23:59:01</dateTime.iso8601></value></param><param><value><base64>aGVs\nbG8g\r\nd29y bGQ=</base64></value></param></params></methodCall>",
    "odd_no_params": "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<methodCall><methodName>caf\xe9</methodName></methodCall>",
    "bad_truncated": "<methodCall><methodName>m</methodName><params><param><value><array><data><value><int>1</int>",
    "bad_two_roots": "<methodCall><methodName>m</methodName></methodCall><methodCall/>",
    "bad_doctype": "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><methodCall><methodName>&a;</methodName></methodCall>",
    "bad_member_without_value": "<methodCall><methodName>m</methodName><params><param><value><struct><member><name>a</name></member></struct></value></param></params></methodCall>",
    "bad_deep": "<methodCall><methodName>m</methodName><params><param>" + "<value><array><data>" * 120 + "</data></array></value>" * 120 + "</param></params></methodCall>",
}


def main():
    os.makedirs(SEED_DIR, exist_ok=True)
    for name, method, params in CASES:
        body = dumps(name, method, params)
        got, got_method = xmlrpc.client.loads(body)
        assert got_method == method, (name, got_method)
        expected = {"method": method, "params": go_view(list(got))}
        with open(os.path.join(HERE, name + ".xml"), "w", encoding="utf-8", newline="") as f:
            f.write(body)
        with open(os.path.join(HERE, name + ".json"), "w", encoding="utf-8") as f:
            json.dump(expected, f, ensure_ascii=False, indent=1, sort_keys=True)
            f.write("\n")
        write_seed("golden_" + name, body.encode("utf-8"))
    for name, body in ODD_SEEDS.items():
        write_seed(name, body.encode("latin-1") if name == "odd_no_params" else body.encode("utf-8"))


if __name__ == "__main__":
    main()
