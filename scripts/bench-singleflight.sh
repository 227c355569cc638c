#!/usr/bin/env bash
# Single-flight at scale: N clients (default 1000), each on a connection of its own,
# ask `warren serve` for the same cold zip, every request sent before the upstream
# answers anything (it holds zips until the script releases them). Counts the upstream's
# zip fetches (must be 1), checks every client's copy, and reports how long the crowd
# took and Warren's peak RSS and descriptors.
#
#   scripts/bench-singleflight.sh [CLIENTS] [RATE_BYTES_PER_S]   (default 1000, 50000000)
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS="${1:-1000}"
RATE="${2:-50000000}"
scripts/install-deps.sh build
swift build -c release --product warren >/dev/null 2>&1
W="$(swift build -c release --show-bin-path 2>/dev/null)/warren"
ulimit -n $((CLIENTS * 3 + 256))

WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-singleflight.XXXXXX")"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

TREE="$WORK/tree" v="$WORK/tree/bench.example/crowd/@v"
mkdir -p "$WORK/src" "$v"
printf 'module bench.example/crowd\n\ngo 1.21\n' > "$WORK/src/go.mod"
head -c 2000000 /dev/urandom > "$WORK/src/data.bin"
"$W" mod zip "$WORK/src" "bench.example/crowd@v1.0.0" "$v/v1.0.0.zip" >/dev/null
cp "$WORK/src/go.mod" "$v/v1.0.0.mod"
printf '{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}' > "$v/v1.0.0.info"

python3 scripts/throttled_upstream.py --dir "$TREE" --rate "$RATE" --hold "$WORK/release" > "$WORK/upstream.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/upstream.out" && break; sleep 0.1; done
UP="http://127.0.0.1:$(sed -n 's/^listening //p' "$WORK/upstream.out")"
"$W" serve --listen 127.0.0.1:0 --upstream "$UP" --data-dir "$WORK/data" --sumdb off --log-level warning \
  > "$WORK/warren.out" 2> "$WORK/warren.err" &
WARREN_PID=$!
PIDS+=($WARREN_PID)
for _ in $(seq 100); do grep -q "listening on" "$WORK/warren.out" 2>/dev/null && break; sleep 0.1; done
PORT="$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren.out")"
curl -sf -o /dev/null "http://127.0.0.1:$PORT/bench.example/crowd/@v/v1.0.0.mod"

python3 - "$PORT" "$CLIENTS" "$WORK/release" "$v/v1.0.0.zip" "$WARREN_PID" "$UP" <<'PY'
import hashlib, json, os, selectors, socket, sys, time, urllib.request
port, n, release, zip_path, pid, up = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
want = hashlib.sha256(open(zip_path, "rb").read()).hexdigest()
request = b"GET /bench.example/crowd/@v/v1.0.0.zip HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(request)
    socks.append(s)
def fds():
    return len(os.listdir(f"/proc/{pid}/fd"))
peak_fds = fds()
start = time.monotonic()
open(release, "w").close()  # only now may the upstream answer
buffers = {s.fileno(): bytearray() for s in socks}
selector = selectors.DefaultSelector()  # epoll: select() stops at 1024 descriptors
for s in socks:
    s.setblocking(False)
    selector.register(s, selectors.EVENT_READ)
remaining = len(socks)
deadline = time.monotonic() + 300
while remaining and time.monotonic() < deadline:
    for key, _ in selector.select(timeout=1):
        data = key.fileobj.recv(1 << 20)
        if data:
            buffers[key.fileobj.fileno()] += data
        else:
            selector.unregister(key.fileobj)
            remaining -= 1
    peak_fds = max(peak_fds, fds())
took = time.monotonic() - start
good = 0
for fd, buf in buffers.items():
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    if head.startswith(b"HTTP/1.1 200") and hashlib.sha256(body).hexdigest() == want:
        good += 1
rss = [l for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM")][0].split()[1]
stats = json.load(urllib.request.urlopen(up + "/_stats"))
fetches = stats.get("/bench.example/crowd/@v/v1.0.0.zip", 0)
print(f"{n} clients, every request sent before the upstream answered: {good} of {n} got the whole zip "
      f"({os.path.getsize(zip_path) / 1e6:.1f} MB) in {took:.2f} s; upstream zip fetches: {fetches}; "
      f"Warren peak RSS {int(rss) // 1024} MB, peak descriptors {peak_fds}")
sys.exit(0 if good == n and fetches == 1 else 1)
PY
