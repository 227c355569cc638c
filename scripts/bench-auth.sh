#!/usr/bin/env bash
# What access control costs on cached hits: the same artifacts from two `warren serve`
# on one data directory, one with the door open (no credentials looked at) and one
# whose rules protect the module, asked with a token in every request
# (`Authorization: Bearer`), on loopback with wrk. Target: at most 10% fewer requests/s.
#   scripts/bench-auth.sh [SECONDS] [ROUNDS]   (default 10 s per run, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
DURATION="${1:-10}"
ROUNDS="${2:-3}"
scripts/install-deps.sh build >/dev/null
if ! command -v wrk >/dev/null; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
release_warren
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-bench-auth.XXXXXX")
# Each server's pid goes to a file: start runs in a command substitution (a subshell),
# whose variables never reach the exit handler.
cleanup() { for f in "$WORK"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

for spec in small:100000 medium:5000000; do
  make_module "$WARREN" "$WORK/upstream" "$WORK" "${spec%%:*}" "${spec#*:}"
done
start() { # NAME ARGS...
  local name=$1; shift
  "$WARREN" serve --listen 127.0.0.1:0 --upstream "file://$WORK/upstream" --data-dir "$WORK/data" --sumdb off \
    --log-level warning "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  echo $! > "$WORK/$name.pid"
  for _ in $(seq 100); do grep -q "listening on" "$WORK/$name.out" 2>/dev/null && break; sleep 0.1; done
  echo "http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/$name.out")"
}
OPEN=$(start open)
for m in small medium; do for f in v1.0.0.info v1.0.0.mod v1.0.0.zip; do curl -sf -o /dev/null "$OPEN/bench.example/$m/@v/$f"; done; done
TOKEN=$("$WARREN" token create --user bench --group corp --data-dir "$WORK/data" 2>/dev/null)
RULED=$(start ruled --permissions "group:corp read,fetch bench.example/*; user:root admin *")
for m in small medium; do for f in v1.0.0.info v1.0.0.mod v1.0.0.zip; do
  curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "$RULED/bench.example/$m/@v/$f"; done; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "$RULED/bench.example/small/@v/v1.0.0.info")" = 401 ] || { echo "the rules do not protect the module" >&2; exit 1; }

run_wrk() { # URL CONNECTIONS [HEADER]
  local header=()
  [ -n "${3:-}" ] && header=(-H "$3")
  wrk -t2 -c"$2" -d"${DURATION}s" "${header[@]}" "$1" 2>/dev/null | awk '/Requests\/sec/ { printf "%.0f\n", $2 }'
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "warren serve, cached artifacts: open door vs rules + a token on every request, wrk -t2 -d${DURATION}s on loopback, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| artifact | conns | open req/s | with token req/s | ratio |"
echo "|---|---:|---:|---:|---:|"
for spec in "small/@v/v1.0.0.info .info 50" "small/@v/v1.0.0.mod .mod 50" "small/@v/v1.0.0.zip zip-100KB 50" "medium/@v/v1.0.0.zip zip-5MB 20"; do
  set -- $spec
  : > "$WORK/rounds"
  for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then
      o=$(run_wrk "$OPEN/bench.example/$1" "$3"); a=$(run_wrk "$RULED/bench.example/$1" "$3" "Authorization: Bearer $TOKEN")
    else
      a=$(run_wrk "$RULED/bench.example/$1" "$3" "Authorization: Bearer $TOKEN"); o=$(run_wrk "$OPEN/bench.example/$1" "$3")
    fi
    echo "$o $a" >> "$WORK/rounds"
  done
  o=$(awk '{ print $1 }' "$WORK/rounds" | median); a=$(awk '{ print $2 }' "$WORK/rounds" | median)
  printf "| %s | %s | %s | %s | %.2f× |\n" "$2" "$3" "$o" "$a" "$(echo "$a / $o" | bc -l)"
done
