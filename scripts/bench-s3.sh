#!/usr/bin/env bash
# Object storage figures, on a real S3-compatible server (Ceph radosgw on loopback,
# scripts/s3-server.sh):
#  1. a zip that must come from the bucket (a running replica whose local tier does not
#     hold it): time to first byte and to the last, through Warren and from radosgw itself;
#  2. `list` of a module with 5,000 versions on a fresh replica (read from the bucket);
#  3. cached hits with the S3 backend (from the local tier) against nginx:
#     scripts/bench-serve.sh with STORAGE=s3 gives the whole table.
#   scripts/bench-s3.sh [ROUNDS]   (default 7; medians)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
source scripts/lib.sh
ROUNDS="${1:-7}"
scripts/install-deps.sh build >/dev/null
release_warren
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-bench-s3.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  RGW_DIR="$WORK/rgw" "$ROOT/scripts/s3-server.sh" stop >/dev/null 2>&1 || true
  # Cleaning up never decides the outcome.
  rm -rf "$WORK" 2>/dev/null || true
}
trap cleanup EXIT
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

start_s3 "$WORK/rgw" bench

# Modules with incompressible contents, and one with 5,000 versions in its list.
for spec in small:100000 medium:5000000 large:35000000; do
  make_module "$WARREN" "$WORK/upstream" "$WORK" "${spec%%:*}" "${spec#*:}"
done
mkdir -p "$WORK/upstream/bench.example/many/@v"
for major in $(seq 0 49); do for minor in $(seq 0 99); do echo "v1.$major.$minor"; done; done > "$WORK/upstream/bench.example/many/@v/list"

start_replica() { # NAME UPSTREAM → sets URL
  "$WARREN" serve --listen 127.0.0.1:0 --upstream "$2" --data-dir "$WORK/$1" --sumdb off --log-level warning \
    --storage s3://bench/p --s3-endpoint "$S3" > "$WORK/$1.out" 2> "$WORK/$1.err" &
  PIDS+=($!)
  for _ in $(seq 200); do grep -q "listening on" "$WORK/$1.out" 2>/dev/null && break; sleep 0.05; done
  URL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/$1.out")"
}
stop_replica() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; unset 'PIDS[-1]'; }

# Fill the bucket through one replica.
start_replica filler "file://$WORK/upstream"
for m in small medium large; do for f in info mod zip; do curl -sf -o /dev/null "$URL/bench.example/$m/@v/v1.0.0.$f"; done; done
curl -sf -o /dev/null "$URL/bench.example/many/@v/list"
stop_replica

echo "object storage, radosgw $(radosgw --version | awk '{print $3}') on loopback, median of $ROUNDS rounds, $(nproc) cores, $(date -u +%Y-%m-%d)"
echo
echo "| zip | radosgw first byte | Warren first byte | added | radosgw total | Warren total | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for m in small:100KB medium:5MB large:35MB; do
  name=${m%%:*}
  : > "$WORK/rounds"
  for round in $(seq "$ROUNDS"); do
    # radosgw alone: the object's own first byte and last.
    read -r rf rt <<<"$(s3 -o /dev/null -w '%{time_starttransfer} %{time_total}' "$S3/bench/p/bench.example/$name/%40v/v1.0.0.zip")"
    # A running replica that has never served it: an empty local tier, no upstream, its
    # connection to the bucket already open (it has just served the .mod from there).
    rm -rf "$WORK/cold"
    start_replica cold off
    curl -sf -o /dev/null "$URL/bench.example/$name/@v/v1.0.0.mod"
    read -r wf wt <<<"$(curl -sf -o /dev/null -w '%{time_starttransfer} %{time_total}' "$URL/bench.example/$name/@v/v1.0.0.zip")"
    stop_replica
    echo "$rf $wf $rt $wt" >> "$WORK/rounds"
  done
  col() { awk -v c="$1" '{ print $c * 1000 }' "$WORK/rounds" | median; }
  awk -v z="${m#*:}" -v rf="$(col 1)" -v wf="$(col 2)" -v rt="$(col 3)" -v wt="$(col 4)" \
    'BEGIN { printf "| %s | %.1f ms | %.1f ms | +%.1f ms | %.1f ms | %.1f ms | %.2f× |\n", z, rf, wf, wf - rf, rt, wt, wt / rt }'
done
echo

# list of a module with 5,000 versions, asked of replicas that have never served it.
: > "$WORK/lists"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/cold"
  start_replica cold off
  curl -sf -o "$WORK/list.out" -w '%{time_total}\n' "$URL/bench.example/many/@v/list" >> "$WORK/lists"
  stop_replica
done
lines=$(wc -l < "$WORK/list.out")
echo "list of a module with $lines versions on a fresh replica (from the bucket): $(awk '{ print $1 * 1000 }' "$WORK/lists" | median) ms"
