#!/usr/bin/env bash
# What hedging buys: cold `go mod download all` of a real module graph (the conformance
# kit's example module: 14 requirements, 15 modules) through Warren, whose upstream chain
# is a slow mirror then a good one (`slow|good`). The slow mirror answers every EVERY-th
# small request (list, @latest, .info, .mod) DELAY seconds late; zips never. Each round
# starts Warren on an empty data directory and the go command on an empty module cache,
# once with hedging (--hedge-budget 10) and once without (0), interleaved.
#
#   scripts/bench-hedging.sh [ROUNDS] [EVERY] [DELAY]      (default 15 rounds, 20, 2)
#
# Prints p50 and p99 (with 15 rounds, the slowest) of the download's wall time for both,
# and how many hedged requests went to the good mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ROUNDS="${1:-15}"
EVERY="${2:-20}"
DELAY="${3:-2}"
corpus_bench bench-hedging
SLOW_PORT=$(free_port) GOOD_PORT=$(free_port)
python3 scripts/slow_goproxy.py "$CORPUS/proxy" "$SLOW_PORT" "$EVERY" "$DELAY" > "$WORK/slow.out" 2>&1 &
PIDS+=($!)
python3 scripts/slow_goproxy.py "$CORPUS/proxy" "$GOOD_PORT" 0 0 > "$WORK/good.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q listening "$WORK/slow.out" && grep -q listening "$WORK/good.out" && break; sleep 0.1; done

# round BUDGET N: one cold download; appends its seconds to $WORK/times-BUDGET and the
# hedges sent to $WORK/hedges-BUDGET.
round() {
  local budget=$1 n=$2 dir="$WORK/r-$1-$2"
  mkdir -p "$dir/app"
  "$WARREN" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --sumdb off --log-level warning \
    --upstream "http://127.0.0.1:$SLOW_PORT|http://127.0.0.1:$GOOD_PORT" --hedge-budget "$budget" > "$dir/serve.out" 2> "$dir/serve.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$dir/serve.out" && break; sleep 0.05; done
  local url="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$dir/serve.out")"
  cp "$KIT/example-module/go.mod" "$KIT/example-module/main.go" "$dir/app/"
  local start end
  start=$(date +%s.%N)
  (cd "$dir/app" && env GOPROXY="$url" GOFLAGS=-mod=mod GOSUMDB=off GONOSUMDB= GOPRIVATE= GOMODCACHE="$dir/mc" \
     GOPATH="$dir/gopath" GOCACHE="$dir/gocache" GO111MODULE=on GOWORK=off GOENV=off go mod download all) > "$dir/go.log" 2>&1 \
    || { cat "$dir/go.log" >&2; kill "$pid"; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }' >> "$WORK/times-$budget"
  curl -s "$url/metrics" | awk '/^warren_upstream_hedges_total/ {s += $2} END {print s + 0}' >> "$WORK/hedges-$budget"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  chmod -R u+w "$dir" 2>/dev/null; rm -rf "$dir"
}

for n in $(seq "$ROUNDS"); do
  round 10 "$n"
  round 0 "$n"
done

stats() {
  sort -n "$WORK/times-$1" | awk -v label="$2" -v hedges="$(awk '{ s += $1 } END { print s + 0 }' "$WORK/hedges-$1")" '
    { t[NR] = $1 } END {
      p50 = t[int((NR + 1) / 2)]; p99 = t[int(NR * 0.99 + 0.999)]
      printf "| %s | %d | %.2f s | %.2f s | %d |\n", label, NR, p50, p99, hedges }'
}
echo "cold go mod download all of the kit's example module, slow|good upstreams (every ${EVERY}th small answer ${DELAY} s late), ${ROUNDS} rounds"
echo "| chain | rounds | p50 | p99 | hedged requests |"
echo "|---|---:|---:|---:|---:|"
stats 10 "hedging (--hedge-budget 10)"
stats 0 "no hedging (--hedge-budget 0)"
