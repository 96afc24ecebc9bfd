#!/usr/bin/python3
"""An MQTT 5 device played by Python's paho-mqtt (Debian's python3-paho-mqtt
1.6 speaks MQTT 5), for server/e2e_mqtt5_test.go.

Usage: mqtt5_device.py HOST PORT CLIENT_ID

It connects with protocol MQTTv5 (clean start) and prints {"event": "ready"}.
Then it reads one JSON command a line on stdin and answers each on stdout
once the broker acknowledged it, so the test knows what the broker has:

  {"op": "subscribe", "topic": T, "qos": Q}
      -> {"event": "subscribed", "topic": T}
  {"op": "publish", "topic": T, "payload": TEXT, "qos": Q, "retain": BOOL,
   "props": {"content_type": S, "response_topic": S,
             "correlation_data_hex": HEX, "message_expiry": N,
             "user_properties": [[NAME, VALUE], ...]}}
      -> {"event": "published", "topic": T}  (after its PUBACK at QoS 1)
  {"op": "quit"} (or end of input) -> disconnects and exits 0

Every message it receives is printed as {"event": "message", "topic": T,
"payload_hex": HEX, "props": {...}}, props holding only the PUBLISH
properties the message carried, named as in the commands. A broker error
prints {"event": "error", ...} and exits 2.
"""

import json
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

out_lock = threading.Lock()


def say(**event):
    # One writer at a time: paho's network thread prints messages while the
    # main thread prints acknowledgements.
    with out_lock:
        print(json.dumps(event, ensure_ascii=False), flush=True)


def publish_properties(props):
    """The paho Properties for a command's props (None when empty)."""
    if not props:
        return None
    p = Properties(PacketTypes.PUBLISH)
    if "content_type" in props:
        p.ContentType = props["content_type"]
    if "response_topic" in props:
        p.ResponseTopic = props["response_topic"]
    if "correlation_data_hex" in props:
        p.CorrelationData = bytes.fromhex(props["correlation_data_hex"])
    if "message_expiry" in props:
        p.MessageExpiryInterval = props["message_expiry"]
    if "user_properties" in props:
        # Assigned once: paho appends on every assignment to UserProperty.
        p.UserProperty = [tuple(pair) for pair in props["user_properties"]]
    return p


def received_properties(p):
    """What a received message's properties were, as the commands name them."""
    out = {}
    if p is None:
        return out
    if hasattr(p, "ContentType"):
        out["content_type"] = p.ContentType
    if hasattr(p, "ResponseTopic"):
        out["response_topic"] = p.ResponseTopic
    if hasattr(p, "CorrelationData"):
        out["correlation_data_hex"] = bytes(p.CorrelationData).hex()
    if hasattr(p, "MessageExpiryInterval"):
        out["message_expiry"] = p.MessageExpiryInterval
    if hasattr(p, "UserProperty"):
        out["user_properties"] = [list(pair) for pair in p.UserProperty]
    return out


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, client_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    connected = threading.Event()
    suback = {}  # mid -> Event, set by on_subscribe
    suback_lock = threading.Lock()

    def on_connect(client, userdata, flags, rc, properties=None):
        if rc != 0:
            say(event="error", what="CONNACK", reason=str(rc))
            return
        connected.set()

    def on_subscribe(client, userdata, mid, reason_codes, properties=None):
        bad = [str(rc) for rc in reason_codes if rc.value >= 0x80]
        if bad:
            say(event="error", what="SUBACK", reason=bad)
        with suback_lock:
            ev = suback.setdefault(mid, threading.Event())
        ev.set()

    def on_message(client, userdata, msg):
        say(event="message", topic=msg.topic, payload_hex=msg.payload.hex(),
            props=received_properties(getattr(msg, "properties", None)))

    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, protocol=mqtt.MQTTv5)
    else:
        client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=30, clean_start=True)
    client.loop_start()
    try:
        if not connected.wait(10):
            say(event="error", what="no CONNACK")
            return 2
        say(event="ready")
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd["op"] == "quit":
                break
            if cmd["op"] == "subscribe":
                rc, mid = client.subscribe(cmd["topic"], qos=cmd.get("qos", 1))
                if rc != mqtt.MQTT_ERR_SUCCESS:
                    say(event="error", what="subscribe", reason=rc)
                    return 2
                with suback_lock:
                    ev = suback.setdefault(mid, threading.Event())
                if not ev.wait(10):
                    say(event="error", what="no SUBACK")
                    return 2
                say(event="subscribed", topic=cmd["topic"])
            elif cmd["op"] == "publish":
                res = client.publish(cmd["topic"], cmd.get("payload", "").encode("utf-8"), qos=cmd.get("qos", 1),
                                     retain=cmd.get("retain", False), properties=publish_properties(cmd.get("props")))
                res.wait_for_publish(10)
                if res.rc != mqtt.MQTT_ERR_SUCCESS or not res.is_published():
                    say(event="error", what="publish", topic=cmd["topic"], reason=res.rc)
                    return 2
                say(event="published", topic=cmd["topic"])
            else:
                say(event="error", what="unknown op", op=cmd["op"])
                return 2
        return 0
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    sys.exit(main())
