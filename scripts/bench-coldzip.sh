#!/usr/bin/env bash
# Cold zips through Warren with checksum verification on: a 5 MB and a 70 MB module zip
# (the size of a golang.org/toolchain zip) from an upstream on loopback that sends at a
# throttled rate, verified against a checksum database on loopback (x/mod's server,
# Tools/sumdbtest). Compares time to first byte and total time with the upstream alone,
# and measures Warren's peak RSS while 50 clients download the 70 MB zip cold.
#
#   scripts/bench-coldzip.sh [ROUNDS] [RATE_BYTES_PER_S]     (default 3 rounds, 20000000)
#
# Each round starts Warren on an empty data directory and, as the go command does, asks
# for the .mod first (which also looks the version up in the checksum database).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ROUNDS="${1:-3}"
RATE="${2:-20000000}"
scripts/install-deps.sh test
command -v curl >/dev/null || { apt-get install -y -qq curl >/dev/null; }
swift build -c release --product warren >/dev/null 2>&1
W="$(swift build -c release --show-bin-path 2>/dev/null)/warren"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-coldzip.XXXXXX")"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

(cd Tools/sumdbtest && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= go build -o "$WORK/sumdbtest" .)

TREE="$WORK/tree"
make_module "$W" "$TREE" "$WORK" five 5000000
make_module "$W" "$TREE" "$WORK" seventy 70000000

"$WORK/sumdbtest" -dir "$TREE" -name sum.bench > "$WORK/sumdb.out" 2>&1 &
PIDS+=($!)
python3 scripts/throttled_upstream.py --dir "$TREE" --rate "$RATE" > "$WORK/upstream.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/sumdb.out" && grep -q listening "$WORK/upstream.out" && break; sleep 0.1; done
VKEY="$(sed -n 's/^vkey //p' "$WORK/sumdb.out")"
SUMDB="http://$(sed -n 's/^listening //p' "$WORK/sumdb.out")"
UP="http://127.0.0.1:$(sed -n 's/^listening //p' "$WORK/upstream.out")"

start_warren() { # → WARREN_PID, WURL
  rm -rf "$WORK/data"
  "$W" serve --listen 127.0.0.1:0 --upstream "$UP" --data-dir "$WORK/data" --sumdb "$VKEY $SUMDB" --log-level warning \
    > "$WORK/warren.out" 2> "$WORK/warren.err" &
  WARREN_PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/warren.out" 2>/dev/null && break; sleep 0.1; done
  WURL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren.out")"
}
stop_warren() { kill "$WARREN_PID"; wait "$WARREN_PID" 2>/dev/null || true; }

timed() { curl -sf -o /dev/null -w '%{time_starttransfer} %{time_total} %{size_download}\n' "$1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "cold zips through warren serve with checksum verification, upstream on loopback at $((RATE / 1000000)) MB/s, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| zip | upstream alone: first byte | total | through Warren: first byte | total | first byte + | total ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for m in five seventy; do
  path="bench.example/$m/@v/v1.0.0.zip"
  size=$(stat -c %s "$TREE/$path")
  : > "$WORK/rounds"
  for _ in $(seq "$ROUNDS"); do
    read -r uf ut us <<<"$(timed "$UP/$path")"
    start_warren
    curl -sf -o /dev/null "$WURL/bench.example/$m/@v/v1.0.0.mod"
    read -r wf wt ws <<<"$(timed "$WURL/$path")"
    stop_warren
    [ "$us" = "$size" ] && [ "$ws" = "$size" ] || { echo "incomplete download: $us $ws of $size" >&2; exit 1; }
    echo "$uf $ut $wf $wt" >> "$WORK/rounds"
  done
  col() { awk -v c="$1" '{ print $c }' "$WORK/rounds" | median; }
  awk -v n="$m ($(( size / 1000000 )) MB)" -v uf="$(col 1)" -v ut="$(col 2)" -v wf="$(col 3)" -v wt="$(col 4)" \
    'BEGIN { printf "| %s | %.1f ms | %.2f s | %.1f ms | %.2f s | %+.1f ms | %.3f× |\n", n, uf*1000, ut, wf*1000, wt, (wf-uf)*1000, wt/ut }'
done

# 50 clients on the cold 70 MB zip at once: one upstream fetch, streamed to all.
start_warren
curl -sf -o /dev/null "$WURL/bench.example/seventy/@v/v1.0.0.mod"
IDLE=$(awk '/VmRSS/ { print $2 }' "/proc/$WARREN_PID/status")
START=$(date +%s.%N)
CLIENTS=()
for i in $(seq 50); do curl -sf -o "$WORK/client-$i.zip" "$WURL/bench.example/seventy/@v/v1.0.0.zip" & CLIENTS+=($!); done
for c in "${CLIENTS[@]}"; do wait "$c" || true; done
END=$(date +%s.%N)
PEAK=$(awk '/VmHWM/ { print $2 }' "/proc/$WARREN_PID/status")
want=$(sha256sum < "$TREE/bench.example/seventy/@v/v1.0.0.zip")
good=0
for i in $(seq 50); do [ "$(sha256sum < "$WORK/client-$i.zip")" = "$want" ] && good=$((good + 1)); done
echo
echo "50 clients downloading the cold 70 MB zip at once: $good of 50 complete and identical in $(awk -v s="$START" -v e="$END" 'BEGIN { printf "%.1f", e - s }') s; Warren RSS $((IDLE / 1024)) MB idle, peak $((PEAK / 1024)) MB"
stop_warren
