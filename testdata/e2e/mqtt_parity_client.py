#!/usr/bin/env python3
"""Odoo 16 parity of the MQTT models, driven with Python's xmlrpc.client and
plain JSON-RPC against a running server (issue 9, item 13): deletes that
another record needs, session_info's keys, the Subscribe button on an
unreachable broker, and check_mqtt_status before anything is configured.

Usage: mqtt_parity_client.py BASE_URL DB ADMIN_PASSWORD
Prints one line per check; exits 1 if any check failed.
"""
import http.cookiejar
import json
import socket
import urllib.request
import xmlrpc.client

from checks import BASE, DB, PW, check, common, done, fault_of, models
legacy = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/object")
uid = common.authenticate(DB, "admin", PW, {})


def kw(model, method, args, kwargs=None):
    return models.execute_kw(DB, uid, PW, model, method, args, kwargs or {})


def restrict(description, model, constraint):
    """Odoo 16's rewrite of a foreign key violation on delete."""
    return ("The operation cannot be completed: another model requires the record being deleted. "
            "If possible, archive it instead.\n\n"
            f"Model: {description} ({model}), Constraint: {constraint}")


def free_port():
    """A local port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- check_mqtt_status before anything is configured (kept on purpose) ------
status = kw("mqtt.service", "check_mqtt_status", [])
check("check_mqtt_status with no service row is not_configured",
      status == {"status": "not_configured", "message": "MQTT Service is not configured"}, status)

jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def post_json(path, params):
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}).encode()
    req = urllib.request.Request(BASE + path, data=body, headers={"Content-Type": "application/json"})
    with opener.open(req) as r:
        return json.loads(r.read())


# --- session_info -------------------------------------------------------------
added = {
    "user_id": uid, "notification_type": "email", "odoobot_initialized": False, "iap_company_enrich": False,
    "profile_session": None, "profile_collectors": None, "profile_params": None, "tour_disable": False, "web_tours": [],
}
resp = post_json("/web/session/authenticate", {"db": DB, "login": "admin", "password": PW})
info = resp.get("result", {})
check("authenticate's session_info has Odoo 16's keys", {k: info.get(k, "missing") for k in added} == added, info)
info = post_json("/web/session/get_session_info", {}).get("result", {})
check("get_session_info has Odoo 16's keys", {k: info.get(k, "missing") for k in added} == added, info)

# --- subscribe_mqtt on an unreachable broker --------------------------------
port = free_port()
ubroker = kw("mqtt.broker", "create", [{"name": "Unreachable", "host": "127.0.0.1", "port": str(port), "connect_timeout": 3}])
usub = kw("mqtt.subscription", "create", [{"broker_id": ubroker, "topic": "cmd/lamp"}])
f = fault_of(lambda: kw("mqtt.subscription", "subscribe_mqtt", [[usub]]))
check("subscribe_mqtt on an unreachable broker: fault 2 'Error subscribing to topic: ...'",
      f is not None and f.faultCode == 2 and f.faultString.startswith(f"Error subscribing to topic: cannot connect to tcp://127.0.0.1:{port}"), f)
rec = kw("mqtt.subscription", "read", [[usub]], {"fields": ["subscription_status", "last_error", "subscribed"]})[0]
check("the subscription says Fail, with the reason", rec["subscription_status"] == "fail" and rec["subscribed"] is False
      and f is not None and f.faultString == "Error subscribing to topic: " + (rec["last_error"] or ""), rec)


# --- deletes another record needs -------------------------------------------
def deletes():
    """A section of its own: a fault stops it, not the checks above."""
    broker = kw("mqtt.broker", "create", [{"name": "Parity broker"}])
    sub, lone = kw("mqtt.subscription", "create", [[{"broker_id": broker, "topic": "cmd/lamp"}, {"broker_id": broker, "topic": "sensors/#"}]])
    signal = kw("mqtt.signal", "create", [{"broker_id": broker, "subscription_id": sub, "payload": "on"}])
    hist = kw("mqtt.signal.history", "create", [{"payload": "on", "direction": "send", "broker_id": broker, "subscription_id": sub, "signal_id": signal}])

    def left():
        return (kw("mqtt.broker", "search", [[["id", "=", broker]]]), kw("mqtt.subscription", "search", [[["broker_id", "=", broker]]], {"order": "id"}),
                kw("mqtt.signal", "search", [[["broker_id", "=", broker]]]))

    everything = ([broker], [sub, lone], [signal])
    cases = [
        ("broker with subscriptions and a signal", "mqtt.broker", broker, restrict("MQTT Signal", "mqtt.signal", "mqtt_signal_broker_id_fkey")),
        ("subscription with a signal", "mqtt.subscription", sub, restrict("MQTT Signal", "mqtt.signal", "mqtt_signal_subscription_id_fkey")),
    ]
    for name, model, rid, msg in cases:
        f = fault_of(lambda: kw(model, "unlink", [[rid]]))  # noqa: B023 (called at once)
        check(f"unlink {name}: fault 2 with Odoo's message", f is not None and f.faultCode == 2 and f.faultString == msg, f)
        check(f"unlink {name}: nothing deleted", left() == everything, left())
        f = fault_of(lambda: legacy.execute_kw(DB, uid, PW, model, "unlink", [[rid]]))  # noqa: B023
        check(f"unlink {name}: legacy string fault", f is not None and f.faultCode == "warning -- UserError\n\n" + msg, f)

    resp = post_json("/jsonrpc", {"service": "object", "method": "execute_kw", "args": [DB, uid, PW, "mqtt.broker", "unlink", [[broker]]]})
    data = resp.get("error", {}).get("data", {})
    check("unlink over JSON-RPC: ValidationError", data.get("name") == "odoo.exceptions.ValidationError"
          and data.get("message") == restrict("MQTT Signal", "mqtt.signal", "mqtt_signal_broker_id_fkey"), resp)

    check("unlink the signal", kw("mqtt.signal", "unlink", [[signal]]) is True)
    f = fault_of(lambda: kw("mqtt.broker", "unlink", [[broker]]))
    check("then the broker names its subscriptions", f is not None and f.faultCode == 2
          and f.faultString == restrict("MQTT Subscription", "mqtt.subscription", "mqtt_subscription_broker_id_fkey"), f)

    check("unlink the subscriptions", kw("mqtt.subscription", "unlink", [[sub, lone]]) is True)
    check("the history stays, unlinked", kw("mqtt.signal.history", "read", [[hist]], {"fields": ["signal_id", "subscription_id", "broker_id"]})
          == [{"id": hist, "signal_id": False, "subscription_id": False, "broker_id": [broker, "Parity broker"]}])
    check("then the broker goes, with its history", kw("mqtt.broker", "unlink", [[broker]]) is True
          and kw("mqtt.signal.history", "search", [[["id", "=", hist]]]) == [])


try:
    deletes()
except xmlrpc.client.Fault as e:
    check("deletes ran to the end", False, e)

done()
