#!/usr/bin/python3
"""An MQTT client played by Python's paho-mqtt (Debian's python3-paho-mqtt
1.6) for server/e2e_rules_test.go: a device publishing what the rules
read, and a subscriber seeing what they publish.

Usage: rule_client.py HOST PORT CLIENT_ID [WILL_TOPIC]

With WILL_TOPIC the client connects with a retained last will "offline"
there (QoS 1) and publishes a retained "online" once connected. It prints
READY, then obeys lines on stdin:

  SUB <filter>            subscribe at QoS 1, print "SUBSCRIBED <filter>"
  PUB <topic> <payload>   publish at QoS 1 (the payload is the rest of the
                          line, maybe empty), wait for the PUBACK, print
                          "PUBLISHED <topic>"
  QUIT                    (or the end of stdin) disconnect cleanly, exit 0

Every message received is printed as "MSG <topic> <payload>" (a retained
one as "RETAINED <topic> <payload>"). Killed, the client leaves without a
DISCONNECT, so the broker sends its will. Exits 2 on a broker error.
"""

import sys
import threading

import paho.mqtt.client as mqtt


def new_client(client_id):
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION1, client_id=client_id, clean_session=True)
    return mqtt.Client(client_id=client_id, clean_session=True)


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    host, port, client_id = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    will = sys.argv[4] if len(sys.argv) == 5 else ""
    out = threading.Lock()
    acks = {}  # mid -> threading.Event, for SUBACK
    connected = threading.Event()

    def say(line):
        with out:
            print(line, flush=True)

    def on_connect(client, userdata, flags, rc, *rest):
        if rc == 0:
            connected.set()
        else:
            say("CONNECT REFUSED %s" % rc)

    def on_subscribe(client, userdata, mid, granted, *rest):
        codes = [getattr(g, "value", g) for g in granted]
        if any(c >= 0x80 for c in codes):
            say("SUBSCRIBE REFUSED %s" % codes)
            return
        ev = acks.setdefault(mid, threading.Event())
        ev.set()

    def on_message(client, userdata, msg):
        kind = "RETAINED" if msg.retain else "MSG"
        say("%s %s %s" % (kind, msg.topic, msg.payload.decode("utf-8", "replace")))

    client = new_client(client_id)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    if will:
        client.will_set(will, "offline", qos=1, retain=True)
    client.connect(host, port, keepalive=30)
    client.loop_start()
    try:
        if not connected.wait(10):
            say("no CONNACK")
            return 2

        def publish(topic, payload, retain=False):
            res = client.publish(topic, payload, qos=1, retain=retain)
            res.wait_for_publish()
            return res.rc == mqtt.MQTT_ERR_SUCCESS

        if will and not publish(will, "online", retain=True):
            say("publish failed")
            return 2
        say("READY")
        for line in sys.stdin:
            line = line.rstrip("\n")
            cmd, _, rest = line.partition(" ")
            if cmd == "SUB":
                rc, mid = client.subscribe(rest, qos=1)
                ev = acks.setdefault(mid, threading.Event())
                if rc != mqtt.MQTT_ERR_SUCCESS or not ev.wait(10):
                    say("no SUBACK")
                    return 2
                say("SUBSCRIBED %s" % rest)
            elif cmd == "PUB":
                topic, _, payload = rest.partition(" ")
                if not publish(topic, payload):
                    say("publish failed")
                    return 2
                say("PUBLISHED %s" % topic)
            elif cmd == "QUIT":
                break
        return 0
    finally:
        client.disconnect()
        client.loop_stop()


if __name__ == "__main__":
    sys.exit(main())
