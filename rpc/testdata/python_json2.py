"""Same operations through XML-RPC (xmlrpc.client) and JSON-2 (urllib.request),
standard library only, as an Odoo 19 script would call: prints a JSON object
{operation: {"xml": result, "json2": result}} and the JSON-2 error statuses.

usage: python_json2.py URL DB LOGIN PASSWORD
"""
import json
import sys
import urllib.error
import urllib.request
import xmlrpc.client

url, db, login, password = sys.argv[1:5]
common = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/common")
obj = xmlrpc.client.ServerProxy(url + "/xmlrpc/2/object", allow_none=True)
uid = common.authenticate(db, login, password, {})
key = obj.execute_kw(db, uid, password, "res.users.apikeys", "generate", ["python json2"])


def xml(model, method, args, kw=None):
    try:
        return obj.execute_kw(db, uid, password, model, method, args, kw or {})
    except xmlrpc.client.Fault as f:
        return {"fault": f.faultCode, "text": f.faultString}


def json2(model, method, body, bearer=None):
    req = urllib.request.Request(
        url + "/json/2/%s/%s" % (model, method),
        data=json.dumps(body).encode(),
        headers={"Authorization": "bearer " + (bearer or key), "Content-Type": "application/json; charset=utf-8",
                 "X-Odoo-Database": db, "User-Agent": "python_json2 urllib"},
        method="POST")
    try:
        with urllib.request.urlopen(req) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        err = json.loads(e.read())
        return {"status": e.code, "name": err["name"], "message": err["message"]}


out = {}
made = xml("mqtt.broker", "create", [[{"name": "Py broker A", "host": "a.example"}]])
made += json2("mqtt.broker", "create", {"vals_list": [{"name": "Py broker B", "host": "b.example", "port": "8883"}]})
out["created"] = made
dom = [["name", "like", "Py broker"]]
ops = [
    ("search_read", [dom], {"fields": ["name", "host", "port"], "order": "name"},
     {"domain": dom, "fields": ["name", "host", "port"], "order": "name"}),
    ("search", [dom], {"order": "name desc"}, {"domain": dom, "order": "name desc"}),
    ("search_count", [dom], {}, {"domain": dom}),
    ("read", [made], {"fields": ["name", "url_scheme", "clean_session"]}, {"ids": made, "fields": ["name", "url_scheme", "clean_session"]}),
    ("name_search", ["Py broker"], {"args": [["host", "=", "b.example"]]}, {"name": "Py broker", "domain": [["host", "=", "b.example"]]}),
    ("fields_get", [], {"allfields": ["name", "port", "protocol"], "attributes": ["string", "type", "selection"]},
     {"allfields": ["name", "port", "protocol"], "attributes": ["string", "type", "selection"]}),
    ("read_group", [dom, ["port"], ["port"]], {"lazy": False}, {"domain": dom, "fields": ["port"], "groupby": ["port"], "lazy": False}),
    ("write", [made[:1], {"port": "1884"}], {}, None),
]
for name, args, kw, body in ops:
    if body is None:  # a write: once each way, then compare what reads back
        a = xml("mqtt.broker", name, args, kw)
        b = json2("mqtt.broker", name, {"ids": made[1:], "vals": {"port": "1884"}})
        out[name] = {"xml": a, "json2": b}
        continue
    out[name] = {"xml": xml("mqtt.broker", name, args, kw), "json2": json2("mqtt.broker", name, body)}
out["read after write"] = {
    "xml": xml("mqtt.broker", "read", [made], {"fields": ["port"]}),
    "json2": json2("mqtt.broker", "read", {"ids": made, "fields": ["port"]}),
}
# The same error both ways: the message is the same, the status JSON-2's.
out["unexpected keyword"] = {
    "xml": xml("mqtt.broker", "search", [dom], {"limt": 1}),
    "json2": json2("mqtt.broker", "search", {"domain": dom, "limt": 1}),
}
out["unlink"] = {"xml": xml("mqtt.broker", "unlink", [made[:1]]), "json2": json2("mqtt.broker", "unlink", {"ids": made[1:]})}
out["bad key"] = json2("mqtt.broker", "search", {"domain": []}, bearer="0" * 40)
print(json.dumps(out, sort_keys=True))
