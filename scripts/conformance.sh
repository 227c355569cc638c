#!/usr/bin/env bash
# Runs the shared conformance kit (../shared/conformance beside the project root) against
# a freshly started `warren serve`: the real go command downloads every module of a
# corpus built from Debian's golang-*-dev packages through Warren, and every h1: hash,
# version list and @latest must equal the go command's own. Then a real module graph is
# built and run through Warren.
#   scripts/conformance.sh [WARREN_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
KIT="$(cd .. && pwd)/shared/conformance"
if [ ! -x "$KIT/goclient-check.sh" ]; then
  echo "conformance: kit not found at $KIT, not run"
  exit 0
fi
WARREN="${1:-$(swift build --show-bin-path)/warren}"
OUT="${TMPDIR:-/tmp}/warren-conformance"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/warren-conformance-run.XXXXXX")
trap '[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT

"$KIT/make-corpus.sh" "$OUT" > "$WORK/corpus.log" 2>&1 || { cat "$WORK/corpus.log"; exit 1; }
# The corpus is built from Debian's trees, whose hashes are not in sum.golang.org.
"$WARREN" serve --listen 127.0.0.1:0 --upstream "file://$OUT/proxy" --data-dir "$WORK/data" --sumdb off \
  --log-level warning > "$WORK/warren.out" 2> "$WORK/warren.err" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/warren.out" 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren.out")"

echo "conformance: go command through warren serve ($URL), corpus $OUT"
"$KIT/goclient-check.sh" "$URL" --corpus "$OUT" > "$WORK/check.log" 2>&1 || { cat "$WORK/check.log"; exit 1; }
echo "(go mod download, versions and @latest of every corpus module)"
echo "conformance: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/check.log")"
"$KIT/client-demo.sh" --corpus "$OUT" "$URL" > "$WORK/demo.log" 2>&1 || { cat "$WORK/demo.log"; exit 1; }
echo "(a module graph downloaded, built and run)"
echo "conformance: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/demo.log")"

# warren mirror fills a fresh cache from the example module's go.mod alone (its build
# graph by minimal version selection); then, with no upstream at all, the go command
# downloads, builds and runs the module through Warren.
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
"$WARREN" mirror "$KIT/example-module/go.mod" --data-dir "$WORK/data-mirror" --upstream "file://$OUT/proxy" --sumdb off \
  --no-progress > "$WORK/mirror.log" 2>&1 || { cat "$WORK/mirror.log"; exit 1; }
"$WARREN" serve --listen 127.0.0.1:0 --upstream off --data-dir "$WORK/data-mirror" --sumdb off \
  --log-level warning > "$WORK/warren-offline.out" 2> "$WORK/warren-offline.err" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/warren-offline.out" 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren-offline.out")"
"$KIT/client-demo.sh" --corpus "$OUT" "$URL" > "$WORK/offline.log" 2>&1 || { cat "$WORK/mirror.log" "$WORK/offline.log"; exit 1; }
# And every version the mirror stored answers with Disable-Module-Fetch: true, the header
# mirroring tools send to be served only what is held.
HELD=$(python3 - "$URL" <<'PY'
import json, re, sys, urllib.request
base = sys.argv[1]
esc = lambda s: re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), s)
lines = urllib.request.urlopen(base + "/index").read().decode().splitlines()
n = 0
for v in map(json.loads, filter(None, lines)):
    for ext in ("info", "mod"):
        req = urllib.request.Request(f"{base}/{esc(v['Path'])}/@v/{esc(v['Version'])}.{ext}", headers={"Disable-Module-Fetch": "true"})
        urllib.request.urlopen(req).read()
    n += 1
print(n)
PY
) || { echo "a mirrored version was not served with Disable-Module-Fetch: true"; exit 1; }
echo "(warren mirror go.mod, then the module graph downloaded, built and run with --upstream off; $HELD versions answered with Disable-Module-Fetch: true)"
echo "conformance: $(tail -1 "$WORK/mirror.log"); offline $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/offline.log")"

# Direct mode: Warren fetches from the kit's git corpus (reached through git's insteadOf
# rewrites), and the go command must see exactly what it sees with GOPROXY=direct.
kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
GIT_CONFIG_GLOBAL="$OUT/git/gitconfig" GIT_CONFIG_NOSYSTEM=1 \
  "$WARREN" serve --listen 127.0.0.1:0 --upstream direct --data-dir "$WORK/data-direct" --sumdb off \
  --log-level warning > "$WORK/warren-direct.out" 2> "$WORK/warren-direct.err" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/warren-direct.out" 2>/dev/null && break; sleep 0.1; done
URL="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren-direct.out")"
GIT_CONFIG_GLOBAL="$OUT/git/gitconfig" GIT_CONFIG_NOSYSTEM=1 \
  "$KIT/goclient-check.sh" "$URL" --corpus "$OUT" --set git > "$WORK/git.log" 2>&1 || { cat "$WORK/git.log"; exit 1; }
echo "(direct mode: tags, latest and master of the git corpus through warren serve --upstream direct)"
echo "conformance: $(grep -E '^[0-9]+ passed, [0-9]+ failed' "$WORK/git.log")"
