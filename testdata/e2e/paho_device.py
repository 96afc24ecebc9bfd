#!/usr/bin/python3
"""A device played by Python's paho-mqtt (Debian's python3-paho-mqtt), for
server/e2e_paho_test.go.

Usage: paho_device.py HOST PORT DEVICE_ID [TIMEOUT_SECONDS]

It connects, subscribes to device/<id>/action/# (QoS 1), publishes a
retained JSON descriptor on device/<id>/info, a JSON temperature on
device/<id>/telemetry/temperature and a binary, non-UTF-8 payload on
device/<id>/telemetry/raw (all QoS 1, each waited for), prints READY, then
waits for one action message. It prints "ACTION <topic> <payload as hex>"
and exits 0 when one arrives, exits 3 on timeout and 2 on a broker error.
Works with paho-mqtt 1.x (Debian 12) and 2.x.
"""

import json
import sys
import threading

import paho.mqtt.client as mqtt

# The binary payload: NUL, bytes that are never UTF-8 (0xff, 0xfe), a lone
# continuation byte (0x80), some text and a control byte.
BINARY = b"\x00\xff\xfe\x80binary\x01"


def new_client(client_id):
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, clean_session=True)
    return mqtt.Client(client_id=client_id, clean_session=True)


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, device = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 30.0
    subscribed = threading.Event()
    got = threading.Event()
    action = {}

    def on_subscribe(client, userdata, mid, granted_qos):
        if any(q == 0x80 for q in granted_qos):
            print("SUBSCRIBE REFUSED", flush=True)
            return
        subscribed.set()

    def on_message(client, userdata, msg):
        action["topic"], action["payload"] = msg.topic, msg.payload
        got.set()

    client = new_client("py-device-" + device)
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        client.subscribe("device/%s/action/#" % device, qos=1)
        if not subscribed.wait(10):
            print("no SUBACK", flush=True)
            return 2
        info = {"deviceId": device, "producer": "paho-python", "softwareVersion": mqtt.__name__}
        telemetry = {"timestamp": 1700000000000, "type": "TEMPERATURE_SENSOR", "value": 21.5, "unit": "°C"}
        for topic, payload, retain in (
            ("device/%s/info" % device, json.dumps(info), True),
            ("device/%s/telemetry/temperature" % device, json.dumps(telemetry, ensure_ascii=False).encode("utf-8"), False),
            ("device/%s/telemetry/raw" % device, BINARY, False),
        ):
            res = client.publish(topic, payload, qos=1, retain=retain)
            res.wait_for_publish()
            if res.rc != mqtt.MQTT_ERR_SUCCESS:
                print("publish %s failed: %s" % (topic, res.rc), flush=True)
                return 2
        print("READY", flush=True)
        if not got.wait(timeout):
            print("TIMEOUT waiting for an action", flush=True)
            return 3
        print("ACTION %s %s" % (action["topic"], action["payload"].hex()), flush=True)
        return 0
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    sys.exit(main())
