#!/usr/bin/python3
"""A device that answers commands, played by Python's paho-mqtt (Debian's
python3-paho-mqtt 1.6), for server/e2e_commands_test.go.

Usage: command_device.py HOST PORT DEVICE_ID PROTOCOL

PROTOCOL is 311 (MQTT 3.1.1) or 5 (MQTT 5). The device connects with a
retained last will "offline" on device/<id>/availability, subscribes to
device/<id>/request/+ (QoS 1), says "offline" (retained) and prints READY.
It then obeys lines on stdin: ONLINE and OFFLINE publish that retained
availability (each waited for, then printed back); QUIT (or the end of
stdin) disconnects and exits 0.

Every request, {"method": m, "params": p}, is printed as
"REQUEST <topic> <response topic or -> <correlation data as hex or ->"
and answered, unless m is "ignore", with
{"method": m, "params": p, "device": <id>, "protocol": PROTOCOL}:
on MQTT 5 to the request's Response Topic with its Correlation Data when
it has both, else on device/<id>/response/<request id of the topic>.
Exits 2 on a broker error.
"""

import json
import sys
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def new_client(client_id, v5):
    args = {"client_id": client_id}
    if v5:
        args["protocol"] = mqtt.MQTTv5
    else:
        args["clean_session"] = True
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, **args)
    return mqtt.Client(**args)


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("311", "5"):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, device, protocol = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    v5 = protocol == "5"
    availability = "device/%s/availability" % device
    request_prefix = "device/%s/request/" % device
    subscribed = threading.Event()
    out = threading.Lock()

    def say(line):
        with out:
            print(line, flush=True)

    def on_subscribe(client, userdata, mid, granted, *rest):
        codes = [getattr(g, "value", g) for g in granted]
        if any(c >= 0x80 for c in codes):
            say("SUBSCRIBE REFUSED %s" % codes)
            return
        subscribed.set()

    def on_message(client, userdata, msg):
        if not msg.topic.startswith(request_prefix):
            return
        request_id = msg.topic[len(request_prefix):]
        props = getattr(msg, "properties", None)
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        corr = getattr(props, "CorrelationData", None) if props is not None else None
        say("REQUEST %s %s %s" % (msg.topic, response_topic or "-", corr.hex() if corr else "-"))
        try:
            req = json.loads(msg.payload)
        except ValueError:
            return
        if req.get("method") == "ignore":
            return
        answer = json.dumps({"method": req.get("method"), "params": req.get("params"), "device": device, "protocol": protocol})
        if v5 and response_topic and corr:
            reply = Properties(PacketTypes.PUBLISH)
            reply.CorrelationData = corr
            client.publish(response_topic, answer, qos=1, properties=reply)
        else:
            client.publish("device/%s/response/%s" % (device, request_id), answer, qos=1)

    client = new_client("py-cmd-" + device, v5)
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.will_set(availability, "offline", qos=1, retain=True)
    if v5:
        client.connect(host, port, keepalive=30, clean_start=True)
    else:
        client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        client.subscribe(request_prefix + "+", qos=1)
        if not subscribed.wait(10):
            say("no SUBACK")
            return 2

        def publish(payload):
            res = client.publish(availability, payload, qos=1, retain=True)
            res.wait_for_publish()
            return res.rc == mqtt.MQTT_ERR_SUCCESS

        if not publish("offline"):
            say("publish failed")
            return 2
        say("READY")
        for line in sys.stdin:
            cmd = line.strip()
            if cmd in ("ONLINE", "OFFLINE"):
                if not publish(cmd.lower()):
                    say("publish failed")
                    return 2
                say(cmd)
            elif cmd == "QUIT":
                break
        return 0
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    sys.exit(main())
