"""What rpc's Python probes share: the command line (BASE_URL DB
PASSWORD), an admin session over Python's own xmlrpc.client, and the same
call as plain JSON-RPC (urllib, the shape odoorpc sends).
"""
import json
import sys
import urllib.request
import xmlrpc.client

BASE, DB, PW = sys.argv[1], sys.argv[2], sys.argv[3]

common = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/2/common")
obj = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/2/object")
uid = common.authenticate(DB, "admin", PW, {})


def xml(model, method, args, kwargs=None):
    return obj.execute_kw(DB, uid, PW, model, method, args, kwargs or {})


class JSONRPCError(Exception):
    """A JSON-RPC error answer; its text is the error's data.message."""


def jsonrpc(model, method, args, kwargs=None):
    body = {"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw",
        "args": [DB, uid, PW, model, method, args, kwargs or {}]}}
    req = urllib.request.Request(f"{BASE}/jsonrpc", json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        answer = json.load(resp)
    if "error" in answer:
        raise JSONRPCError(answer["error"]["data"]["message"])
    return answer["result"]
