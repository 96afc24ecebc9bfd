#!/usr/bin/env python3
"""End-to-end client: drives a running odoo-iot-mqtt server exactly as Odoo
integrators do, with Python's standard xmlrpc.client and plain JSON-RPC over
urllib (the shapes odoorpc, odooly, erppeek and the web client send).

Usage: odoo_client.py BASE_URL DB ADMIN_PASSWORD
Prints one line per check; exits 1 if any check failed.
"""
import http.cookiejar
import json
import urllib.error
import urllib.request
import xmlrpc.client

from checks import BASE, DB, PW, check, common, done, fault_of, models

# --- common service -------------------------------------------------------
v = common.version()
check("version is Odoo 16", v.get("server_version", "").startswith("16.0") and v.get("protocol_version") == 1, v)
check("version has exactly the 4 keys", sorted(v) == ["protocol_version", "server_serie", "server_version", "server_version_info"], sorted(v))
uid = common.authenticate(DB, "admin", PW, {})
check("authenticate admin", uid == 2, uid)
check("authenticate wrong password is False", common.authenticate(DB, "admin", "nope", {}) is False)
check("login alias", common.login(DB, "admin", PW) == uid)
f = fault_of(lambda: common.authenticate("nosuchdb", "admin", PW, {}))
check("unknown database faults with 'does not exist'", f is not None and "does not exist" in f.faultString, f)
check("about", common.about() == "See http://openerp.com")


def kw(model, method, args, kwargs=None, password=PW, user=None):
    return models.execute_kw(DB, user or uid, password, model, method, args, kwargs or {})


# --- CRUD on every MQTT model ---------------------------------------------
broker = kw("mqtt.broker", "create", [{"name": "E2E broker", "host": "127.0.0.1", "port": "1883", "password": "broker-secret"}])
check("create broker returns an int", isinstance(broker, int), broker)
rec = kw("mqtt.broker", "read", [[broker]], {"fields": ["name", "port", "password", "client_id", "connection_status", "clean_session", "note"]})[0]
check("read broker", rec["name"] == "E2E broker" and rec["port"] == "1883" and rec["connection_status"] == "unknown" and rec["clean_session"] is True, rec)
check("broker password is never returned", rec["password"] is False, rec)
check("empty text reads False", rec["note"] is False, rec)
check("client_id generated like the addon", rec["client_id"].startswith("client_") and len(rec["client_id"]) == 15, rec)
subs = kw("mqtt.subscription", "create", [[{"broker_id": broker, "topic": "sensors/+/temp", "qos": 1}, {"broker_id": broker, "topic": "cmd/lamp"}]])
check("create with a list returns a list", isinstance(subs, list) and len(subs) == 2, subs)
sub = kw("mqtt.subscription", "read", [subs[0]], {"fields": ["broker_id", "display_name", "subscription_status"]})[0]
check("many2one reads [id, name]", sub["broker_id"] == [broker, "E2E broker"], sub)
check("subscription display_name", sub["display_name"] == "E2E broker - sensors/+/temp", sub)
signal = kw("mqtt.signal", "create", [{"broker_id": broker, "subscription_id": subs[1], "payload": '{"on": true}', "qos": 1}])
sig = kw("mqtt.signal", "read", [[signal]], {"fields": ["topic", "display_name", "history_ids", "send_at"]})[0]
check("related stored topic", sig["topic"] == "cmd/lamp" and sig["history_ids"] == [] and sig["send_at"] is False, sig)
hist = kw("mqtt.signal.history", "create", [[
    {"payload": "21.5", "topic": "sensors/a/temp", "direction": "receive", "qos": 1, "broker_id": broker, "timestamp": "2026-03-01 10:00:00"},
    {"payload": "22.0", "topic": "sensors/b/temp", "direction": "receive", "qos": 0, "broker_id": broker, "timestamp": "2026-03-01 11:00:00"},
    {"payload": "on", "topic": "cmd/lamp", "direction": "send", "qos": 1, "signal_id": signal, "broker_id": broker, "timestamp": "2026-03-02 09:00:00"},
]])
rows = kw("mqtt.signal.history", "search_read", [[["broker_id", "=", broker]]], {"fields": ["timestamp", "topic"]})
check("history default order is timestamp desc", [r["timestamp"] for r in rows] == ["2026-03-02 09:00:00", "2026-03-01 11:00:00", "2026-03-01 10:00:00"], rows)
check("one2many lists history", kw("mqtt.signal", "read", [[signal]], {"fields": ["history_ids"]})[0]["history_ids"] == [hist[2]])
check("write returns True", kw("mqtt.broker", "write", [[broker], {"keepalive": 30, "note": "line"}]) is True)
check("write with a bare int id (odoo-await)", kw("mqtt.broker", "write", [broker, {"note": "again"}]) is True)
svc = kw("mqtt.service", "create", [{}])
check("mqtt.service defaults", kw("mqtt.service", "read", [[svc]], {"fields": ["name", "status", "connection_status"]})[0] == {"id": svc, "name": "MQTT Listener Service", "status": "stop", "connection_status": "unknown"})
check("copy returns a new id", isinstance(kw("mqtt.broker", "copy", [broker], {"default": {"name": "E2E copy"}}), int))
check("unlink history", kw("mqtt.signal.history", "unlink", [[hist[0]]]) is True)
check("exists", kw("mqtt.signal.history", "exists", [[hist[0], hist[1]]]) == [hist[1]])

# --- domains, counts, names, fields_get -------------------------------------
check("search_count with ilike", kw("mqtt.subscription", "search_count", [[["topic", "ilike", "SENSORS"]]]) == 1)
check("search count=True (16)", kw("mqtt.broker", "search", [[]], {"count": True}) == 2)
check("dotted path through many2one", kw("mqtt.subscription", "search", [[["broker_id.name", "=", "E2E broker"]]]) == sorted(subs))
check("'|' and '!' operators", kw("mqtt.signal.history", "search_count", [["|", ["direction", "=", "send"], "!", ["qos", "=", 1]]]) == 2)
check("!= matches NULL (Odoo semantics)", kw("mqtt.broker", "search_count", [[["note", "!=", "nothing"]]]) == 2)
check("in [] matches nothing", kw("mqtt.broker", "search", [[["id", "in", []]]]) == [])
check("=like keeps the pattern", kw("mqtt.subscription", "search_count", [[["topic", "=like", "cmd/%"]]]) == 1)
check("limit 0 means no limit", len(kw("mqtt.broker", "search_read", [[]], {"fields": ["name"], "offset": 0, "limit": 0, "order": "", "context": {}})) == 2)
check("name_get", kw("mqtt.broker", "name_get", [[broker]]) == [[broker, "E2E broker"]])
check("name_search", kw("mqtt.subscription", "name_search", ["lamp"]) == [[subs[1], "E2E broker - cmd/lamp"]])
fg = kw("mqtt.broker", "fields_get", [], {"attributes": ["string", "help", "type", "selection", "required"]})
check("fields_get types and selection", fg["port"]["type"] == "char" and fg["url_scheme"]["selection"][0] == ["mqtt://", "MQTT"] and fg["name"]["required"] is True, fg.get("url_scheme"))
check("fields_get attributes=[] gives empty dicts", kw("mqtt.broker", "fields_get", [], {"attributes": []})["name"] == {})
check("default_get", kw("mqtt.broker", "default_get", [["port", "keepalive", "clean_session"]]) == {"port": "1883", "keepalive": 60, "clean_session": True})
check("check_access_rights", kw("mqtt.broker", "check_access_rights", ["unlink"], {"raise_exception": False}) is True)
groups = kw("mqtt.signal.history", "read_group", [[["broker_id", "=", broker]], ["qos"], ["direction"]])
by_dir = {g["direction"]: g for g in groups}
check("read_group counts and sums", by_dir["receive"]["direction_count"] == 1 and by_dir["send"]["qos"] == 1, groups)
check("'mqtt.broker' in env (odoorpc)", kw("ir.model", "search", [[["model", "=", "mqtt.broker"]]]) != [])
check("context_get", kw("res.users", "context_get", [])["lang"] == "en_US")
check("execute with positional args (erppeek)", models.execute(DB, uid, PW, "mqtt.broker", "search", [], 0, 1, "name desc") != [])

# --- faults for bad input -------------------------------------------------
cases = [
    ("unknown model -> 2", lambda: kw("no.such.model", "search", [[]]), 2, "doesn't exist"),
    ("private method -> 4", lambda: kw("mqtt.broker", "_private", [[]]), 4, "Private methods"),
    ("unknown method -> 1", lambda: kw("mqtt.broker", "no_such_method", [[]]), 1, "no_such_method"),
    ("wrong password -> 3", lambda: kw("mqtt.broker", "search", [[]], password="bad"), 3, "Access Denied"),
    ("unknown field -> 1", lambda: kw("mqtt.broker", "read", [[broker]], {"fields": ["nope"]}), 1, "nope"),
    ("bad domain -> 1", lambda: kw("mqtt.broker", "search", [["|", ["name", "=", "x"]]]), 1, "domain"),
    ("bad operator -> 1", lambda: kw("mqtt.broker", "search", [[["name", "~~", "x"]]]), 1, "Invalid leaf"),
    ("bad order -> 2", lambda: kw("mqtt.broker", "search", [[]], {"order": "name; DROP TABLE res_users"}), 2, "order"),
    ("validation -> 2", lambda: kw("mqtt.broker", "create", [{"name": "x", "port": "99999"}]), 2, "Port"),
    ("missing record -> 2", lambda: kw("mqtt.broker", "write", [[987654], {"note": "x"}]), 2, "does not exist"),
    ("bad uid -> 1", lambda: models.execute_kw(DB, "abc", PW, "mqtt.broker", "search", [[]]), 1, ""),
    ("unknown kwarg -> 1", lambda: kw("mqtt.broker", "search", [[]], {"bogus": 1}), 1, "bogus"),
]
for name, fn, code, text in cases:
    f = fault_of(fn)
    check("fault " + name, f is not None and f.faultCode == code and text in f.faultString and "Traceback" not in f.faultString, f)
check("server still answers after faults", common.version()["server_serie"] == "16.0")

legacy = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/object")
f = fault_of(lambda: legacy.execute_kw(DB, uid, PW, "mqtt.broker", "create", [{"name": "x", "port": "0"}]))
check("legacy /xmlrpc string fault code", f is not None and isinstance(f.faultCode, str) and f.faultCode.startswith("warning -- UserError"), f)
f = fault_of(lambda: legacy.execute_kw(DB, uid, "bad", "mqtt.broker", "search", [[]]))
check("legacy AccessDenied", f is not None and f.faultCode == "AccessDenied", f)

# --- API keys in the password slot -----------------------------------------
key = kw("res.users.apikeys", "generate", ["e2e script"])
check("api key generated", isinstance(key, str) and len(key) == 40, key)
check("api key authenticates over XML-RPC", common.authenticate(DB, "admin", key, {}) == uid)
check("api key works in execute_kw", kw("mqtt.broker", "search_count", [[]], password=key) == 2)
keys = kw("res.users.apikeys", "search_read", [[]], {"fields": ["name", "key", "index"]})
check("api key hash never read", all(k["key"] is False and k["index"] is False for k in keys), keys)

# --- JSON-RPC ----------------------------------------------------------------
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def post_json(path, params, raw=None, ctype="application/json"):
    body = raw if raw is not None else json.dumps({"jsonrpc": "2.0", "method": "call", "id": 7, "params": params}).encode()
    req = urllib.request.Request(BASE + path, data=body, headers={"Content-Type": ctype})
    try:
        with opener.open(req) as r:
            return r.status, json.loads(r.read()), r.headers
    except urllib.error.HTTPError as e:
        data = e.read()
        try:
            return e.code, json.loads(data), e.headers
        except ValueError:
            return e.code, data.decode(errors="replace"), e.headers


st, resp, _ = post_json("/jsonrpc", {"service": "object", "method": "execute_kw", "args": [DB, uid, PW, "mqtt.broker", "search_read", [[["id", "=", broker]]], {"fields": ["name"]}]})
check("/jsonrpc execute_kw", st == 200 and resp["id"] == 7 and resp["result"] == [{"id": broker, "name": "E2E broker"}], resp)
st, resp, _ = post_json("/jsonrpc", {"service": "common", "method": "login", "args": [DB, "admin", "bad"]})
check("/jsonrpc login failure is false", resp.get("result") is False, resp)
st, resp, _ = post_json("/jsonrpc", {"service": "object", "method": "execute_kw", "args": [DB, uid, "bad", "mqtt.broker", "search", [[]]]})
err = resp.get("error", {})
check("/jsonrpc AccessDenied envelope", err.get("code") == 200 and err.get("message") == "Odoo Server Error" and err["data"]["name"] == "odoo.exceptions.AccessDenied" and err["data"]["message"] == "Access Denied", resp)
st, resp, _ = post_json("/jsonrpc", {"service": "object", "method": "execute_kw", "args": [DB, uid, PW, "mqtt.broker", "create", [{"name": "x", "port": "abc"}]]})
check("/jsonrpc ValidationError name", resp.get("error", {}).get("data", {}).get("name") == "odoo.exceptions.ValidationError" and resp["error"]["data"]["arguments"], resp)
st, resp, _ = post_json("/jsonrpc", {"service": "db", "method": "list", "args": []})
check("/jsonrpc db.list", resp.get("result") == [DB], resp)
st, resp, _ = post_json("/jsonrpc", None, raw=b'{"jsonrpc": "2.0", "params": {')
check("truncated JSON -> 400 with an envelope", st == 400 and isinstance(resp, dict) and "error" in resp, (st, resp))
st, resp, _ = post_json("/jsonrpc", {"service": "common", "method": "version", "args": []}, ctype="text/plain")
check("wrong content type -> 400", st == 400, (st, resp))

# --- NaN and infinity are refused in float fields, naming the field ---------
# Python's xmlrpc.client sends float('nan') as <double>nan</double>; JSON has
# no NaN, but 1e400 decodes to infinity and a float field also reads strings.
for val in (float("nan"), float("inf"), float("-inf")):
    f = fault_of(lambda val=val: kw("mqtt.broker", "write", [[broker], {"reconnect_factor": val}]))
    check(f"xmlrpc reconnect_factor={val!r} is a ValidationError naming the field",
          f is not None and f.faultCode == 2 and "(reconnect_factor)" in f.faultString and "finite" in f.faultString, f)
for raw in (b"1e400", b"-1e400", b'"NaN"', b'"Infinity"'):
    body = (b'{"jsonrpc": "2.0", "method": "call", "id": 8, "params": {"service": "object", "method": "execute_kw", "args": [%s, %d, %s, "mqtt.broker", "write", [[%d], {"reconnect_initial": %s}]]}}'
            % (json.dumps(DB).encode(), uid, json.dumps(PW).encode(), broker, raw))
    st, resp, _ = post_json("/jsonrpc", None, raw=body)
    data = resp.get("error", {}).get("data", {}) if isinstance(resp, dict) else {}
    check(f"/jsonrpc reconnect_initial={raw.decode()} is a ValidationError naming the field",
          data.get("name") == "odoo.exceptions.ValidationError" and "(reconnect_initial)" in data.get("message", ""), resp)
rec = kw("mqtt.broker", "read", [[broker]], {"fields": ["reconnect_initial", "reconnect_factor"]})[0]
check("refused floats left the record as it was", rec["reconnect_initial"] == 5.0 and rec["reconnect_factor"] == 1.5, rec)

# --- web session routes (odooly / rlizana / web client) ---------------------
st, resp, hdr = post_json("/web/webclient/version_info", {})
check("version_info", resp["result"]["server_serie"] == "16.0", resp)
anon = {c.name: c.value for c in jar}.get("session_id")
st, resp, hdr = post_json("/web/session/authenticate", {"db": DB, "login": "admin", "password": "bad"})
check("web authenticate bad password is an AccessDenied error", resp.get("error", {}).get("data", {}).get("name") == "odoo.exceptions.AccessDenied", resp)
st, resp, hdr = post_json("/web/session/authenticate", {"db": DB, "login": "admin", "password": key})
check("api keys are refused interactively", "error" in resp, resp)
st, resp, hdr = post_json("/web/session/authenticate", {"db": DB, "login": "admin", "password": PW})
info = resp.get("result", {})
check("web authenticate returns session_info", info.get("uid") == uid and info.get("user_context", {}).get("lang") == "en_US" and info.get("db") == DB, resp)
cookie = hdr.get("Set-Cookie", "")
sid = {c.name: c.value for c in jar}.get("session_id")
check("session cookie rotated, HttpOnly, SameSite", sid and sid != anon and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie)
st, resp, _ = post_json("/web/dataset/call_kw/mqtt.broker/search_read", {"model": "mqtt.broker", "method": "search_read", "args": [], "kwargs": {"domain": [["id", "=", broker]], "fields": ["name", "port"], "context": {"lang": "en_US"}}})
check("call_kw search_read", resp.get("result") == [{"id": broker, "name": "E2E broker", "port": "1883"}], resp)
st, resp, _ = post_json("/web/dataset/call_kw", {"model": "mqtt.broker", "method": "write", "args": [[broker], {"note": "web"}], "kwargs": {}})
check("call_kw write", resp.get("result") is True, resp)
st, resp, _ = post_json("/web/dataset/call_kw", {"model": "mqtt.broker", "method": "write", "args": [[broker]]})
check("call_kw without kwargs is a TypeError", resp.get("error", {}).get("data", {}).get("name") == "builtins.TypeError", resp)
st, resp, _ = post_json("/web/dataset/search_read", {"model": "mqtt.subscription", "fields": ["topic"], "domain": [["broker_id", "=", broker]], "limit": 1, "sort": "topic asc"})
check("/web/dataset/search_read", resp.get("result", {}).get("length") == 2 and resp["result"]["records"][0]["topic"] == "cmd/lamp", resp)
st, resp, _ = post_json("/web/dataset/call_button", {"model": "mqtt.broker", "method": "check_access_rights", "args": ["read"], "kwargs": {}})
check("call_button with a non-action result returns false", resp.get("result") is False, resp)
st, resp, _ = post_json("/web/session/get_session_info", {})
check("get_session_info", resp.get("result", {}).get("username") == "admin", resp)
st, resp, _ = post_json("/web/session/check", {})
check("session check has no result key", "result" not in resp and "error" not in resp, resp)
st, resp, _ = post_json("/web/session/destroy", {})
check("destroy", "error" not in resp, resp)
st, resp, _ = post_json("/web/dataset/call_kw", {"model": "mqtt.broker", "method": "search", "args": [[]], "kwargs": {}})
check("after destroy: code 100 session expired", resp.get("error", {}).get("code") == 100, resp)

done()
