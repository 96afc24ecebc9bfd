#!/usr/bin/env python3
"""Regenerates the XML-RPC request bodies in this folder with Python's own
xmlrpc.client, the marshaller Odoo's official clients use, so the tests run
on real wire samples. Run from this folder: python3 gen_testdata.py"""
import xmlrpc.client as x

DB, PW = "testdb", "admin-test-pw"

bodies = {
    # common.authenticate as in Odoo's external API docs.
    "py_authenticate.xml": (("testdb", "admin", PW, {}), "authenticate"),
    # search_read with a domain and kwargs, as the docs show.
    "py_execute_kw_search_read.xml": (
        (DB, 2, PW, "mqtt.broker", "search_read",
         [[["name", "ilike", "no such plant"]]], {"fields": ["name", "host", "port"], "limit": 5}),
        "execute_kw"),
    # erppeek/odooly (<=2.1) send None as <nil/> (allow_none=True clients).
    "py_execute_kw_nil_kwargs.xml": (
        (DB, 2, PW, "mqtt.broker", "search", [[]], None), "execute_kw"),
    # The uid as a digit string is accepted by Odoo's int().
    "py_execute_kw_uid_string.xml": (
        (DB, "2", PW, "mqtt.broker", "search_count", [[]]), "execute_kw"),
}

for name, (params, method) in bodies.items():
    with open(name, "w") as f:
        f.write(x.dumps(params, method, allow_none=True))

# The response common.version() gets from Odoo 16, for an exact comparison.
with open("py_version_response.xml", "w") as f:
    f.write(x.dumps(({"server_version": "16.0",
                      "server_version_info": [16, 0, 0, "final", 0, ""],
                      "server_serie": "16.0", "protocol_version": 1},),
                    methodresponse=True))
