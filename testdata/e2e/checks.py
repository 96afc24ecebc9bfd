"""What the end-to-end Python clients share: the command line (BASE_URL DB
ADMIN_PASSWORD), the check bookkeeping, and admin proxies over Python's own
xmlrpc.client. A client imports it, runs its checks and ends with done().
"""
import sys
import xmlrpc.client

BASE, DB, PW = sys.argv[1], sys.argv[2], sys.argv[3]
failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else f"  -- {detail!r}"))
    if not cond:
        failures.append(name)


def fault_of(fn):
    """Runs fn and returns the xmlrpc Fault it raised (or None)."""
    try:
        fn()
    except xmlrpc.client.Fault as f:
        return f
    return None


def done():
    """Prints the summary and exits 1 if any check failed."""
    print(f"{len(failures)} failed" if failures else "all checks passed")
    sys.exit(1 if failures else 0)


common = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/2/common")
models = xmlrpc.client.ServerProxy(f"{BASE}/xmlrpc/2/object")
