#!/usr/bin/env python3
"""The driver of scripts/soak-hostile.sh: normal traffic and attacks against one
`warren serve` on loopback, for a bounded time, with a report at the end.

Normal traffic: `go mod download` of every fixture module into an empty module cache,
round after round, and keep-alive GETs of `.info`, `.mod`, `.zip` and `list`.
Attacks: slowloris (headers trickled a byte at a time), idle connections that never
send, and pipelined zip requests on connections that never read (they only peek, so
their receive window stays shut). Each attacker keeps
its connections open, reconnecting when Warren closes them, until the deadline.
"""
import argparse, http.client, json, os, random, socket, statistics, subprocess, threading, time

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--pid", type=int, required=True)
p.add_argument("--seconds", type=float, default=180)
p.add_argument("--modules", required=True)
p.add_argument("--work", required=True)
p.add_argument("--slowloris", type=int, default=200)
p.add_argument("--idle", type=int, default=300)
p.add_argument("--pipeliners", type=int, default=8)
a = p.parse_args()

HOST = "127.0.0.1"
deadline = time.monotonic() + a.seconds
modules = [l.strip() for l in open(a.modules) if l.strip()]

def escape(path):
    return "".join("!" + c.lower() if c.isupper() else c for c in path)

paths = []
for m in modules:
    mod, ver = m.split("@")
    base = f"/{escape(mod)}/@v/"
    paths += [base + "list", base + ver + ".info", base + ver + ".mod", base + ver + ".zip"]
zips = [x for x in paths if x.endswith(".zip")]

lock = threading.Lock()
stats = {"normal_requests": 0, "normal_5xx": 0, "normal_other_errors": 0, "latencies": [],
         "go_rounds_ok": 0, "go_rounds_failed": 0, "go_round_seconds": [],
         "attack_connections": 0, "peak_fds": 0, "peak_rss_kib": 0, "statuses": {}}

def alive():
    return time.monotonic() < deadline

def connect(rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((HOST, a.port))
    with lock:
        stats["attack_connections"] += 1
    return s

def closed(s, peek=False):
    """True when Warren has closed or reset the connection. With `peek`, nothing is
    read: a client that never reads stays one."""
    try:
        s.setblocking(False)
        data = s.recv(1, socket.MSG_PEEK) if peek else s.recv(65536)
        return data == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        try:
            s.settimeout(5)
        except OSError:
            pass

def slowloris():
    socks = []
    while alive():
        while len(socks) < a.slowloris and alive():
            try:
                s = connect()
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                socks.append(s)
            except OSError:
                time.sleep(0.05)
        for s in list(socks):
            try:
                s.sendall(b"X")
            except OSError:
                pass
            if closed(s):
                socks.remove(s)
                s.close()
        time.sleep(0.5)
    for s in socks:
        s.close()

def idle():
    socks = []
    while alive():
        while len(socks) < a.idle and alive():
            try:
                socks.append(connect())
            except OSError:
                time.sleep(0.05)
        for s in list(socks):
            if closed(s):
                socks.remove(s)
                s.close()
        time.sleep(0.3)
    for s in socks:
        s.close()

def pipeliner():
    while alive():
        try:
            s = connect(rcvbuf=4096)
            req = b"".join(b"GET " + random.choice(zips).encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n" for _ in range(500))
            s.setblocking(False)
            try:
                s.send(req)
            except BlockingIOError:
                pass
            while alive() and not closed(s, peek=True):
                time.sleep(0.5)
            s.close()
        except OSError:
            time.sleep(0.1)

def normal_client():
    conn = None
    while alive():
        path = random.choice(paths)
        start = time.monotonic()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, a.port, timeout=30)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            took = time.monotonic() - start
            with lock:
                stats["normal_requests"] += 1
                stats["latencies"].append(took)
                stats["statuses"][r.status] = stats["statuses"].get(r.status, 0) + 1
                if r.status >= 500:
                    stats["normal_5xx"] += 1
        except (OSError, http.client.HTTPException):
            with lock:
                stats["normal_other_errors"] += 1
            conn = None

def go_rounds():
    n = 0
    while alive():
        n += 1
        cache = os.path.join(a.work, f"gomodcache-{n}")
        env = dict(os.environ, GOPROXY=f"http://{HOST}:{a.port}", GOSUMDB="off", GOFLAGS="-modcacherw",
                   GOMODCACHE=cache, GOPATH=os.path.join(a.work, "gopath"), HOME=a.work, GO111MODULE="on")
        start = time.monotonic()
        r = subprocess.run(["go", "mod", "download"] + modules, env=env, cwd=a.work,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
        took = time.monotonic() - start
        with lock:
            if r.returncode == 0:
                stats["go_rounds_ok"] += 1
                stats["go_round_seconds"].append(took)
            else:
                stats["go_rounds_failed"] += 1
                print("go mod download failed:", r.stderr.decode()[-500:], flush=True)
        subprocess.run(["rm", "-rf", cache])

def monitor():
    while alive():
        try:
            fds = len(os.listdir(f"/proc/{a.pid}/fd"))
            rss = 0
            for line in open(f"/proc/{a.pid}/status"):
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
            with lock:
                stats["peak_fds"] = max(stats["peak_fds"], fds)
                stats["peak_rss_kib"] = max(stats["peak_rss_kib"], rss)
        except OSError:
            print("warren is gone", flush=True)
            return
        time.sleep(0.25)

baseline_fds = len(os.listdir(f"/proc/{a.pid}/fd"))
threads = [threading.Thread(target=f) for f in [slowloris, idle, monitor, go_rounds]]
threads += [threading.Thread(target=pipeliner) for _ in range(a.pipeliners)]
threads += [threading.Thread(target=normal_client) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()

# After the attack: the descriptors must come back.
settle_deadline = time.monotonic() + 30
fds_after = len(os.listdir(f"/proc/{a.pid}/fd"))
while fds_after > baseline_fds + 4 and time.monotonic() < settle_deadline:
    time.sleep(0.2)
    fds_after = len(os.listdir(f"/proc/{a.pid}/fd"))

metrics = http.client.HTTPConnection(HOST, a.port, timeout=10)
metrics.request("GET", "/metrics")
text = metrics.getresponse().read().decode()
closes = {}
for line in text.splitlines():
    if line.startswith("warren_client_connections_closed_total{"):
        reason = line.split('reason="')[1].split('"')[0]
        closes[reason] = float(line.split()[-1])
    if line.startswith("warren_client_connections_refused_total"):
        closes["refused (503)"] = float(line.split()[-1])
server_5xx = sum(float(l.split()[-1]) for l in text.splitlines()
                 if l.startswith("warren_http_requests_total{") and 'status="5' in l)

lat = sorted(stats["latencies"])
def pct(q):
    return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

report = {
    "seconds": a.seconds,
    "normal_requests": stats["normal_requests"],
    "normal_statuses": stats["statuses"],
    "normal_p50_ms": round(pct(0.50), 2),
    "normal_p99_ms": round(pct(0.99), 2),
    "normal_connection_errors": stats["normal_other_errors"],
    "go_mod_download_rounds_ok": stats["go_rounds_ok"],
    "go_mod_download_rounds_failed": stats["go_rounds_failed"],
    "go_mod_download_median_s": round(statistics.median(stats["go_round_seconds"]), 2) if stats["go_round_seconds"] else None,
    "attack_connections": stats["attack_connections"],
    "peak_fds": stats["peak_fds"],
    "baseline_fds": baseline_fds,
    "fds_after": fds_after,
    "peak_rss_mib": round(stats["peak_rss_kib"] / 1024, 1),
    "server_5xx": server_5xx,
    "client_5xx": stats["normal_5xx"],
    "closed_by_warren": closes,
}
print(json.dumps(report, indent=2))
ok = (report["server_5xx"] == 0 and report["client_5xx"] == 0 and stats["go_rounds_failed"] == 0
      and stats["go_rounds_ok"] > 0 and fds_after <= baseline_fds + 4)
print("soak:", "PASS" if ok else "FAIL")
raise SystemExit(0 if ok else 1)
