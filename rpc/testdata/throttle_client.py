"""Login throttling as Python's xmlrpc.client sees it (rpc throttle test).

Usage: throttle_client.py URL DB LOGIN PASSWORD UID

Runs a fixed script of calls, each from a chosen source address on the
loopback network (127.0.0.1 or 127.0.0.2), and prints one JSON line per
call: {"step": ..., "result": ...} or {"step": ..., "fault": code, "string": ...}.
The Go test (throttle_rpc_test.go) compares the lines with what it expects.
"""
import http.client
import json
import sys
import xmlrpc.client

url, db, login, password, uid = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])


class SourceTransport(xmlrpc.client.Transport):
    """Transport.make_connection, but bound to a source address."""

    def __init__(self, source):
        super().__init__()
        self.source = source

    def make_connection(self, host):
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        chost, self._extra_headers, _ = self.get_host_info(host)
        self._connection = host, http.client.HTTPConnection(chost, source_address=(self.source, 0))
        return self._connection[1]


def proxy(path, source):
    return xmlrpc.client.ServerProxy(url + path, transport=SourceTransport(source), allow_none=True)


def step(name, fn):
    try:
        out = {"step": name, "result": fn()}
    except xmlrpc.client.Fault as f:
        out = {"step": name, "fault": f.faultCode, "string": f.faultString}
    print(json.dumps(out), flush=True)


a, b = "127.0.0.1", "127.0.0.2"
common_a, object_a = proxy("/xmlrpc/2/common", a), proxy("/xmlrpc/2/object", a)
common_b, object_b = proxy("/xmlrpc/2/common", b), proxy("/xmlrpc/2/object", b)
legacy_a = proxy("/xmlrpc/common", a)

step("authenticate wrong", lambda: common_a.authenticate(db, login, "wrong-1", {}))
step("login wrong", lambda: common_a.login(db, login, "wrong-2"))
step("execute_kw wrong", lambda: object_a.execute_kw(db, uid, "wrong-3", "res.users", "context_get", []))
step("login right, throttled", lambda: common_a.login(db, login, password))
step("authenticate right, throttled", lambda: common_a.authenticate(db, login, password, {}))
step("execute_kw right, throttled", lambda: object_a.execute_kw(db, uid, password, "res.users", "context_get", [])["uid"])
step("legacy login right, throttled", lambda: legacy_a.login(db, login, password))
step("login right, other address", lambda: common_b.login(db, login, password))
step("execute_kw right, other address", lambda: object_b.execute_kw(db, uid, password, "res.users", "context_get", [])["uid"])
