#!/usr/bin/env python3
"""Concurrent clients against a SchoolHealth server on loopback: latency per page under load.

Each client signs in once (the demo's synthetic accounts and password), then fetches its pages in turn for
DURATION seconds, over one keep-alive connection. Prints p50, p95 and max per page, and the request rate.

Usage: web-load.py BASE_URL CLIENTS DURATION LABEL PAGE...   where PAGE is login:path (e.g. health-office:/dashboard)
With STOP_FILE set, the clients stop as soon as that file exists (e.g. when an upload under way has finished).
"""
import http.client, os, re, sys, threading, time, urllib.parse

base, clients, duration, label = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
pages = [tuple(p.split(":", 1)) for p in sys.argv[5:]]
url = urllib.parse.urlsplit(base)
PASSWORD = "demo-password"


class Client:
    def __init__(self, login):
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.cookie = ""
        body = self.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]*)"', body).group(1)
        form = urllib.parse.urlencode({"csrf": csrf, "login": login, "password": PASSWORD})
        self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = self.cookie
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                pair = v.split(";", 1)[0]
                jar = dict(c.split("=", 1) for c in self.cookie.split("; ") if "=" in c)
                name, value = pair.split("=", 1)
                jar[name] = value
                self.cookie = "; ".join(f"{a}={b}" for a, b in jar.items())
        return r.status, data

    def get(self, path):
        status, data = self.request("GET", path)
        return data.decode("utf-8", "replace")


times = {f"{login}:{path}": [] for login, path in pages}
errors = []
lock = threading.Lock()
start_gate = threading.Barrier(clients + 1)


def work(n):
    try:
        mine = {}
        for login, path in pages:
            if login not in mine:
                mine[login] = Client(login)
        start_gate.wait()
        end = time.monotonic() + duration
        i = n
        stop = os.environ.get("STOP_FILE")
        while time.monotonic() < end and not (stop and os.path.exists(stop)):
            login, path = pages[i % len(pages)]
            i += 1
            t0 = time.monotonic()
            status, _ = mine[login].request("GET", path)
            dt = (time.monotonic() - t0) * 1000
            with lock:
                if status != 200:
                    errors.append(f"{login}:{path} HTTP {status}")
                times[f"{login}:{path}"].append(dt)
    except Exception as e:  # a failed client is reported, not hidden
        with lock:
            errors.append(repr(e))
        try:
            start_gate.abort()
        except Exception:
            pass


threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
start_gate.wait()
t0 = time.monotonic()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0


def pct(a, p):
    a = sorted(a)
    return a[min(len(a) - 1, max(0, int(round(p * len(a) + 0.5)) - 1))] if a else float("nan")


total = sum(len(v) for v in times.values())
print(f"{label}: {clients} clients, {elapsed:.1f} s, {total} requests ({total / elapsed:.0f}/s)")
worst = 0.0
for key, a in times.items():
    worst = max(worst, pct(a, 0.95))
    print(f"  {key:<44} p50 {pct(a, 0.5):7.1f} ms  p95 {pct(a, 0.95):7.1f} ms  max {max(a) if a else float('nan'):7.1f} ms  ({len(a)} requests)")
print(f"  worst page p95 {worst:.1f} ms")
if errors:
    print(f"  {len(errors)} errors, e.g. {errors[:3]}")
    sys.exit(1)
