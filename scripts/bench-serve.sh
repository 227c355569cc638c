#!/usr/bin/env bash
# Load benchmark of `warren serve` on cached artifacts, side by side with nginx serving
# the same files from disk, on loopback, with wrk. Also Warren's peak RSS while 200
# clients download a 35 MB zip at once.
#   scripts/bench-serve.sh [SECONDS] [ROUNDS] [LOGS]   (default 10 s per run, 3 rounds, both)
# Each round runs nginx then Warren on the same artifact; the table shows the medians
# over the rounds (one machine, loopback: single runs vary by ±15%). LOGS: `off` (Warren
# --log-level warning, nginx access_log off), `on` (Warren's default --log-level info,
# one line per request to a file; nginx access_log to a file with buffer=64k), or `both`.
# STORAGE=s3 runs Warren on object storage (radosgw on loopback, scripts/s3-server.sh):
# cached hits then come from its local tier.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
DURATION="${1:-10}"
ROUNDS="${2:-3}"
LOGS="${3:-both}"
scripts/install-deps.sh build >/dev/null
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# WARREN_BIN=path compares another build (e.g. the previous commit's) on the same machine.
if [ -z "${WARREN_BIN:-}" ]; then
  swift build -c release --product warren >/dev/null
  WARREN="$(swift build -c release --show-bin-path)/warren"
else
  WARREN="$WARREN_BIN"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-bench.XXXXXX")
cleanup() {
  [ -n "${WARREN_PID:-}" ] && kill "$WARREN_PID" 2>/dev/null || true
  [ -n "${WARREN_LOG_PID:-}" ] && kill "$WARREN_LOG_PID" 2>/dev/null || true
  for f in "$WORK"/nginx*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  [ -d "$WORK/rgw" ] && RGW_DIR="$WORK/rgw" scripts/s3-server.sh stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Modules with incompressible contents, so zip sizes are what they say.
for spec in small:100000 medium:5000000 large:35000000; do
  make_module "$WARREN" "$WORK/upstream" "$WORK" "${spec%%:*}" "${spec#*:}"
done
chmod -R a+rX "$WORK"   # nginx workers run as www-data

STORAGE_ARGS=()
if [ "${STORAGE:-dir}" = s3 ]; then
  start_s3 "$WORK/rgw" bench
  STORAGE_ARGS=(--storage s3://bench/p --s3-endpoint "$S3")
fi

# Two Warrens on the same data: without request logs, and with the default one line per
# request (written to a file, as a service's stderr usually is).
start_warren() { # NAME LEVEL
  "$WARREN" serve --listen 127.0.0.1:0 --upstream "file://$WORK/upstream" --data-dir "$WORK/data" --sumdb off \
    "${STORAGE_ARGS[@]}" --log-level "$2" > "$WORK/$1.out" 2> "$WORK/$1.err" &
  echo $! > "$WORK/$1.pid"
  for _ in $(seq 100); do grep -q "listening on" "$WORK/$1.out" 2>/dev/null && break; sleep 0.1; done
}
start_warren warren warning
WARREN_PID=$(cat "$WORK/warren.pid")
W="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren.out")"
# Warm Warren's cache: every artifact fetched once.
for m in small medium large; do
  for f in v1.0.0.info v1.0.0.mod v1.0.0.zip; do curl -sf -o /dev/null "$W/bench.example/$m/@v/$f"; done
done
start_warren warren-logs info
WARREN_LOG_PID=$(cat "$WORK/warren-logs.pid")
WL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren-logs.out")"

# nginx serves the upstream tree (the same bytes Warren serves) with sendfile: one
# without an access log, one with a buffered one.
start_nginx() { # NAME PORT ACCESS_LOG_DIRECTIVE
  cat > "$WORK/$1.conf" <<CONF
worker_processes auto;
pid $WORK/$1.pid;
error_log $WORK/$1-error.log;
events { worker_connections 4096; }
http {
  $3
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types { application/zip zip; application/json info; }
  default_type text/plain;
  client_body_temp_path $WORK/nginx-tmp;
  proxy_temp_path $WORK/nginx-tmp;
  fastcgi_temp_path $WORK/nginx-tmp;
  uwsgi_temp_path $WORK/nginx-tmp;
  scgi_temp_path $WORK/nginx-tmp;
  server { listen 127.0.0.1:$2; root $WORK/upstream; etag on; }
}
CONF
  "$NGINX" -c "$WORK/$1.conf" -p "$WORK"
}
mkdir -p "$WORK/nginx-tmp"
NPORT=$(( $(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren.out") + 1 ))
start_nginx nginx "$NPORT" "access_log off;"
start_nginx nginx-logs "$((NPORT + 1))" "access_log $WORK/nginx-access.log combined buffer=64k;"
N="http://127.0.0.1:$NPORT"
NL="http://127.0.0.1:$((NPORT + 1))"

# wrk's summary → "req/s MB/s p99ms"
run_wrk() { # URL CONNECTIONS
  wrk -t2 -c"$2" -d"${DURATION}s" --latency "$1" 2>/dev/null | awk '
    /Requests\/sec/ { rps=$2 }
    /Transfer\/sec/ { v=$2; if (v ~ /GB/) { sub("GB","",v); v*=1024 } else if (v ~ /MB/) { sub("MB","",v) } else if (v ~ /KB/) { sub("KB","",v); v/=1024 } else { sub("B","",v); v/=1048576 }; mbs=v }
    / 99%/ { l=$2; if (l ~ /ms/) { sub("ms","",l) } else if (l ~ /us/) { sub("us","",l); l/=1000 } else if (l ~ /s/) { sub("s","",l); l*=1000 }; p99=l }
    END { printf "%.0f %.1f %.2f\n", rps, mbs, p99 }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

table() { # WARREN_URL NGINX_URL TITLE
  local wurl="$1" nurl="$2"
  echo "warren serve (storage: ${STORAGE:-dir}) vs nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), cached artifacts, $3, wrk -t2 -d${DURATION}s on loopback, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%Y-%m-%d)"
  echo
  echo "| artifact | conns | nginx req/s | Warren req/s | ratio | nginx MB/s | Warren MB/s | ratio | nginx p99 | Warren p99 |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for spec in "small/@v/v1.0.0.info .info 50" "small/@v/v1.0.0.mod .mod 50" "small/@v/v1.0.0.zip zip-100KB 50" "medium/@v/v1.0.0.zip zip-5MB 20"; do
    set -- $spec "$wurl" "$nurl"
    : > "$WORK/rounds"
    for round in $(seq "$ROUNDS"); do
      # Alternate who goes first, so neither always runs on a warmer (or more tired) machine.
      if [ $((round % 2)) = 1 ]; then
        read -r nr nm np <<<"$(run_wrk "$5/bench.example/$1" "$3")"
        read -r wr wm wp <<<"$(run_wrk "$4/bench.example/$1" "$3")"
      else
        read -r wr wm wp <<<"$(run_wrk "$4/bench.example/$1" "$3")"
        read -r nr nm np <<<"$(run_wrk "$5/bench.example/$1" "$3")"
      fi
      echo "$nr $wr $nm $wm $np $wp" >> "$WORK/rounds"
    done
    col() { awk -v c="$1" '{ print $c }' "$WORK/rounds" | median; }
    awk -v a="$2" -v c="$3" -v nr="$(col 1)" -v wr="$(col 2)" -v nm="$(col 3)" -v wm="$(col 4)" -v np="$(col 5)" -v wp="$(col 6)" \
      'BEGIN { printf "| %s | %s | %d | %d | %.2f× | %.1f | %.1f | %.2f× | %.2f ms | %.2f ms |\n", a, c, nr, wr, wr/nr, nm, wm, wm/nm, np, wp }'
  done
  echo
}
case "$LOGS" in
  off|both) table "$W" "$N" "request logs off (Warren --log-level warning, nginx access_log off)" ;;
esac
case "$LOGS" in
  on|both) table "$WL" "$NL" "request logs on (Warren --log-level info to a file, nginx access_log buffer=64k)"
    echo "request log lines written: Warren $(grep -c ' request ' "$WORK/warren-logs.err" || true), nginx $(wc -l < "$WORK/nginx-access.log")"
    echo ;;
esac

# Peak memory: a fresh Warren on the same data (the zip is cached), 200 clients
# downloading the 35 MB zip at once; VmHWM is the process's high-water mark.
kill "$WARREN_PID" "$WARREN_LOG_PID"; wait "$WARREN_PID" "$WARREN_LOG_PID" 2>/dev/null || true
"$WARREN" serve --listen 127.0.0.1:0 --upstream off --data-dir "$WORK/data" --sumdb off "${STORAGE_ARGS[@]}" --log-level warning > "$WORK/warren2.out" 2>/dev/null &
WARREN_PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/warren2.out" 2>/dev/null && break; sleep 0.1; done
W2="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren2.out")"
IDLE=$(awk '/VmRSS/ { print $2 }' "/proc/$WARREN_PID/status")
read -r lr lm lp <<<"$(run_wrk "$W2/bench.example/large/@v/v1.0.0.zip" 200)"
PEAK=$(awk '/VmHWM/ { print $2 }' "/proc/$WARREN_PID/status")
echo
echo "200 concurrent clients downloading a 35 MB zip: $lm MB/s; Warren RSS $((IDLE / 1024)) MB idle, peak $((PEAK / 1024)) MB"
