#!/usr/bin/env bash
# Air-gapped bundles, measured. A Warren that verifies against a checksum database on
# loopback (x/mod's own server, Tools/sumdbtest) caches every zip of the conformance
# corpus; between two versions the database's log grows by GROW other records, so that
# the records sit in different tiles, as they do on sum.golang.org. Then:
#   export   `warren export -o bundle.tar` (records looked up, tiles fetched and checked);
#   import   `warren import bundle.tar` on a second Warren with no upstream and an
#            unreachable database (everything checked offline, then stored);
#   download the go command, GOSUMDB on, downloads and verifies every version through
#            the second Warren alone (its /sumdb/ relay answering from the bundle).
#
#   scripts/bench-bundle.sh [GROW]      (default 2000)
#
# Prints the versions, the bundle's size and tiles, and the seconds of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
GROW="${1:-2000}"
corpus_bench bench-bundle

GO111MODULE=off GOPATH=/usr/share/gocode go build -o "$WORK/sumdbtest" ./Tools/sumdbtest
"$WORK/sumdbtest" -dir "$CORPUS/proxy" -name sum.bench > "$WORK/sumdb.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening' "$WORK/sumdb.out" 2>/dev/null && break; sleep 0.1; done
VKEY=$(sed -n 's/^vkey //p' "$WORK/sumdb.out")
SUMDB="http://$(sed -n 's/^listening //p' "$WORK/sumdb.out")"

# serve NAME ARGS…: starts warren serve on DATA NAME; sets URL.
serve() {
  local name=$1; shift
  "$WARREN" serve --listen 127.0.0.1:0 --data-dir "$WORK/$name" --log-level warning "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$WORK/$name.out" 2>/dev/null && break; sleep 0.1; done
  URL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/$name.out")"
}
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Every zip of the corpus: "escaped-path escaped-version module@version".
python3 - "$CORPUS/proxy" > "$WORK/versions.txt" <<'PY'
import os, re, sys
root = sys.argv[1]
unescape = lambda s: re.sub(r"!([a-z])", lambda m: m.group(1).upper(), s)
for dirpath, _, files in os.walk(root):
    if not dirpath.endswith("/@v"):
        continue
    escaped = os.path.relpath(dirpath, root)[:-3]
    for f in sorted(files):
        if f.endswith(".zip"):
            v = f[:-4]
            print(escaped, v, unescape(escaped) + "@" + unescape(v))
PY
COUNT=$(wc -l < "$WORK/versions.txt")

serve online --upstream "file://$CORPUS/proxy" --sumdb "$VKEY $SUMDB"
ONLINE=$URL
while read -r path version _; do
  curl -sf -X POST "$SUMDB/grow?n=$GROW" > /dev/null
  for ext in info mod zip; do curl -sf "$ONLINE/$path/@v/$version.$ext" -o /dev/null; done
  # Returns once the zip is stored (a zip reaches its client before its commit ends).
  curl -sf -H 'Disable-Module-Fetch: true' "$ONLINE/$path/@v/$version.zip" -o /dev/null
done < "$WORK/versions.txt"

T0=$(now)
"$WARREN" export -o "$WORK/bundle.tar" --data-dir "$WORK/online" --sumdb "$VKEY $SUMDB" > "$WORK/export.out"
T1=$(now)
"$WARREN" import "$WORK/bundle.tar" --data-dir "$WORK/offline" --sumdb "$VKEY http://127.0.0.1:9" > "$WORK/import.out"
T2=$(now)
serve offline --upstream off --sumdb "$VKEY http://127.0.0.1:9"
mkdir -p "$WORK/go"
T3=$(now)
env -i HOME="$WORK/go" PATH=/usr/bin:/bin GOPATH="$WORK/go/path" GOMODCACHE="$WORK/go/mod" GOCACHE="$WORK/go/cache" \
  GOPROXY="$URL" GOSUMDB="$VKEY" GONOSUMDB= GOPRIVATE= GOFLAGS=-mod=mod GO111MODULE=on \
  go mod download -json $(cut -d' ' -f3 "$WORK/versions.txt") > "$WORK/download.json" 2> "$WORK/download.err" \
  || { cat "$WORK/download.err" "$WORK/download.json" >&2; exit 1; }
T4=$(now)
VERIFIED=$(grep -c '"Sum": "h1:' "$WORK/download.json")
[ "$VERIFIED" -eq "$COUNT" ] || { echo "bench-bundle: $VERIFIED of $COUNT versions downloaded" >&2; exit 1; }
SIZE=$(stat -c %s "$WORK/bundle.tar")
TILES=$(tar -tf "$WORK/bundle.tar" | grep -c '^sumdb/')

echo "bench-bundle: $COUNT versions, log of $(sed -n 's/.*proved in a tree of \([0-9]*\).*/\1/p' "$WORK/export.out") records, bundle $((SIZE / 1024)) KiB with $TILES tiles"
echo "bench-bundle: export $(seconds "$T0" "$T1") s, import (all checked offline) $(seconds "$T1" "$T2") s, go mod download of all $COUNT verified through the importer $(seconds "$T3" "$T4") s"
