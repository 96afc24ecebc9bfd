#!/usr/bin/python3
"""An ESPHome-like node announcing itself by Home Assistant's MQTT
discovery, played by Python's paho-mqtt (Debian's python3-paho-mqtt), for
server/e2e_ha_test.go.

Usage: ha_device.py HOST PORT NODE

The node connects with a retained last will "offline" on <node>/status,
subscribes to <node>/switch/relay/command (QoS 1), publishes retained
discovery configs (abbreviated, with a "~" base topic, as ESPHome does)
for a temperature sensor and a relay on homeassistant/<component>/<node>/
<object>/config, then retained "online" on <node>/status, "21.5" on its
temperature state topic and "OFF" on its relay state topic, and prints
READY. A command on the relay's command topic is printed as
"COMMAND <topic> <payload>" and its state published back (retained).
Lines on stdin: TEMP <value> publishes a temperature; OFFLINE publishes
retained "offline" on <node>/status (printed back); QUIT (or the end of
stdin) disconnects and exits 0. Exits 2 on a broker error.
"""

import json
import sys
import threading

import paho.mqtt.client as mqtt


def new_client(client_id):
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, clean_session=True)
    return mqtt.Client(client_id=client_id, clean_session=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, node = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    status = "%s/status" % node
    command = "%s/switch/relay/command" % node
    subscribed = threading.Event()
    out = threading.Lock()

    def say(line):
        with out:
            print(line, flush=True)

    def publish(client, topic, payload, retain=True):
        res = client.publish(topic, payload, qos=1, retain=retain)
        res.wait_for_publish()
        if res.rc != mqtt.MQTT_ERR_SUCCESS:
            say("publish %s failed: %s" % (topic, res.rc))
            sys.exit(2)

    def on_subscribe(client, userdata, mid, granted_qos):
        if any(q == 0x80 for q in granted_qos):
            say("SUBSCRIBE REFUSED")
            return
        subscribed.set()

    def on_message(client, userdata, msg):
        say("COMMAND %s %s" % (msg.topic, msg.payload.decode("utf-8", "replace")))
        # Published from another thread: on_message runs in paho's loop.
        threading.Thread(target=publish, args=(client, "%s/switch/relay/state" % node, msg.payload)).start()

    client = new_client("ha-node-" + node)
    client.will_set(status, "offline", qos=1, retain=True)
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        client.subscribe(command, qos=1)
        if not subscribed.wait(10):
            say("no SUBACK")
            return 2
        dev = {"ids": "a4cf12" + node, "name": node, "sw": "esphome v2024.4.1", "mdl": "esp32dev", "mf": "espressif"}
        configs = {
            "homeassistant/sensor/%s/temperature/config" % node: {
                "dev_cla": "temperature", "unit_of_meas": "°C", "stat_cla": "measurement", "name": "Temperature",
                "stat_t": "~/sensor/temperature/state", "avty_t": "~/status", "uniq_id": node + "temperature", "dev": dev, "~": node},
            "homeassistant/switch/%s/relay/config" % node: {
                "name": "Relay", "stat_t": "~/switch/relay/state", "cmd_t": "~/switch/relay/command", "avty_t": "~/status",
                "uniq_id": node + "relay", "dev": dev, "~": node},
        }
        for topic, config in configs.items():
            publish(client, topic, json.dumps(config, ensure_ascii=False).encode("utf-8"))
        publish(client, status, "online")
        publish(client, "%s/sensor/temperature/state" % node, "21.5")
        publish(client, "%s/switch/relay/state" % node, "OFF")
        say("READY")
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            if words[0] == "TEMP" and len(words) == 2:
                publish(client, "%s/sensor/temperature/state" % node, words[1], retain=False)
                say("TEMP " + words[1])
            elif words[0] == "OFFLINE":
                publish(client, status, "offline")
                say("OFFLINE")
            elif words[0] == "QUIT":
                break
        return 0
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    sys.exit(main())
