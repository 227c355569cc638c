#!/usr/bin/env bash
# The shared conformance kit through a cluster, as a platform team runs Warren: nginx in
# front of three `warren serve` replicas that share one bucket on a real S3-compatible
# server (Ceph radosgw, scripts/s3-server.sh) and one PostgreSQL 15 database. The real go
# command must get exactly what it gets through one node on disk. Afterwards every zip
# in the bucket must carry the h1: that the shared index recorded, and no multipart
# upload may be left open. Everything runs on loopback and is stopped at the end.
#   scripts/conformance-cluster.sh [WARREN_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib.sh
KIT="$(cd .. && pwd)/shared/conformance"
if [ ! -x "$KIT/goclient-check.sh" ]; then
  echo "conformance-cluster: kit not found at $KIT, not run"
  exit 0
fi
WARREN="${1:-$(swift build --show-bin-path)/warren}"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PGBIN=/usr/lib/postgresql/15/bin
OUT="${TMPDIR:-/tmp}/warren-conformance"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-cluster.XXXXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [ -d "$WORK/pg/data" ] && runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  RGW_DIR="$WORK/rgw" "$ROOT/scripts/s3-server.sh" stop >/dev/null 2>&1 || true
  # Cleaning up never decides the outcome.
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
fail() { echo "conformance-cluster: $*" >&2; for f in "$WORK"/r*.err; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }

"$KIT/make-corpus.sh" "$OUT" > "$WORK/corpus.log" 2>&1 || { cat "$WORK/corpus.log"; exit 1; }

# Object storage: radosgw, and a bucket made with curl's own SigV4 signing.
start_s3 "$WORK/rgw" warren-cluster
S3_ENDPOINT=$S3

# PostgreSQL: initdb as the postgres user (initdb refuses root), on a port of its own.
mkdir -p "$WORK/pg" && chown postgres:postgres "$WORK/pg"
PGPORT=$(free_port)
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U warren -E UTF8 --no-sync > "$WORK/pg/initdb.log" 2>&1 \
  || { cat "$WORK/pg/initdb.log"; exit 1; }
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
  -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null
psql() { command psql -h 127.0.0.1 -p "$PGPORT" -U warren -v ON_ERROR_STOP=1 "$@"; }
psql -d postgres -qc "CREATE DATABASE warren"
export WARREN_DATABASE="postgres://warren@127.0.0.1:$PGPORT/warren?sslmode=disable"

# Three replicas, each with its own data directory (its local tier).
PORTS=()
for i in 1 2 3; do
  "$WARREN" serve --listen 127.0.0.1:0 --upstream "file://$OUT/proxy" --data-dir "$WORK/r$i" --sumdb off \
    --storage s3://warren-cluster/proxy --s3-endpoint "$S3_ENDPOINT" --log-level warning > "$WORK/r$i.out" 2> "$WORK/r$i.err" &
  PIDS+=($!)
  for _ in $(seq 200); do grep -q "listening on" "$WORK/r$i.out" 2>/dev/null && break; kill -0 "${PIDS[-1]}" || fail "replica $i died"; sleep 0.1; done
  PORTS+=("$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/r$i.out")")
done

# nginx in front, streaming answers as they arrive, moving on from a replica that fails.
NPORT=$(free_port)
mkdir -p "$WORK/nginx-tmp"
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx-tmp;
  proxy_temp_path $WORK/nginx-tmp;
  fastcgi_temp_path $WORK/nginx-tmp;
  uwsgi_temp_path $WORK/nginx-tmp;
  scgi_temp_path $WORK/nginx-tmp;
  upstream warren {
    server 127.0.0.1:${PORTS[0]} max_fails=1 fail_timeout=2s;
    server 127.0.0.1:${PORTS[1]} max_fails=1 fail_timeout=2s;
    server 127.0.0.1:${PORTS[2]} max_fails=1 fail_timeout=2s;
    keepalive 32;
  }
  server {
    listen 127.0.0.1:$NPORT;
    location / {
      include $ROOT/deploy/nginx/warren-proxy.conf;
    }
  }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK"
URL="http://127.0.0.1:$NPORT"
for _ in $(seq 100); do curl -sf "$URL/healthz" > /dev/null && break; sleep 0.1; done
curl -sf "$URL/readyz" > /dev/null || fail "the cluster is not ready: $(curl -s "$URL/readyz")"

echo "conformance-cluster: go command through nginx ($URL) → 3 replicas → radosgw + PostgreSQL"
"$KIT/goclient-check.sh" "$URL" --corpus "$OUT" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; fail "the kit failed"; }
echo "conformance-cluster: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/check.log")"
"$KIT/client-demo.sh" --corpus "$OUT" "$URL" > "$WORK/demo.log" 2>&1 || { cat "$WORK/demo.log"; fail "the demo failed"; }
echo "(a module graph downloaded, built and run through the cluster)"
echo "conformance-cluster: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/demo.log")"

# Every zip the shared index recorded is in the bucket with the same h1:, and no upload
# is left open.
# GOPROXY case-escaping, then percent-encoding of ! @ + as SigV4 signs them.
escape() { printf '%s' "$1" | sed -e 's/[A-Z]/!\L&/g' -e 's/!/%21/g' -e 's/@/%40/g' -e 's/+/%2B/g'; }
checked=0; bad=0
while IFS='|' read -r module version hash; do
  [ -n "$module" ] || continue
  stored=$(s3 -I "$S3_ENDPOINT/warren-cluster/proxy/$(escape "$module")/%40v/$(escape "$version").zip" \
    | tr -d '\r' | sed -n 's/^x-amz-meta-warren-hash: //Ip')
  checked=$((checked + 1))
  if [ "$stored" != "$hash" ]; then bad=$((bad + 1)); echo "mismatch: $module@$version index $hash bucket $stored" >&2; fi
done < <(psql -d warren -At -c "SELECT module, version, zip_hash FROM module_versions WHERE zip_hash IS NOT NULL")
uploads=$(s3 "$S3_ENDPOINT/warren-cluster?uploads=") || fail "cannot list open uploads"
printf '%s' "$uploads" | grep -q "<ListMultipartUploadsResult" || fail "not an upload listing: $uploads"
open=$(printf "%s" "$uploads" | { grep -o "<Upload>" || true; } | wc -l)
echo "conformance-cluster: $checked zips in the bucket checked against the shared index, $bad mismatched, $open uploads left open"
[ "$checked" -gt 0 ] && [ "$bad" -eq 0 ] && [ "$open" -eq 0 ] || fail "the bucket and the index disagree"
