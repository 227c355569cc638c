#!/usr/bin/env bash
# Soak test: real `go mod download` traffic and keep-alive GETs through `warren serve`
# while hostile clients attack it on loopback (slowloris, idle floods, pipelined readers
# that never read), for a bounded time. Reports requests served, latency of the normal
# traffic, peak descriptors and RSS, and 5xx answers (which must be 0).
#
#   scripts/soak-hostile.sh [SECONDS] [FILE_LIMIT]     (defaults: 180 s, ulimit -n 1024)
#
# Everything stays on 127.0.0.1; every attack loop stops at the deadline.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-180}"
FILE_LIMIT="${2:-1024}"
scripts/install-deps.sh test
swift build -c release --product warren >/dev/null
W="$(swift build -c release --show-bin-path)/warren"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-soak.XXXXXX")"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

# A GOPROXY tree built from Debian's module sources.
TREE="$WORK/tree"
add() {  # DIR MODULE VERSION
  local esc; esc="$(echo "$2" | sed -E 's/([A-Z])/!\L\1/g')"
  mkdir -p "$TREE/$esc/@v"
  "$W" mod zip "/usr/share/gocode/src/$1" "$2@$3" "$TREE/$esc/@v/$3.zip" >/dev/null
  if [ -f "/usr/share/gocode/src/$1/go.mod" ]; then cp "/usr/share/gocode/src/$1/go.mod" "$TREE/$esc/@v/$3.mod"
  else printf 'module %s\n' "$2" > "$TREE/$esc/@v/$3.mod"; fi
  printf '{"Version":"%s","Time":"2023-01-01T00:00:00Z"}' "$3" > "$TREE/$esc/@v/$3.info"
  echo "$3" >> "$TREE/$esc/@v/list"
  echo "$2@$3" >> "$WORK/modules.txt"
}
add github.com/kr/text github.com/kr/text v0.2.0
add gopkg.in/yaml.v3 gopkg.in/yaml.v3 v3.0.1
add github.com/BurntSushi/toml github.com/BurntSushi/toml v1.2.1
add golang.org/x/text golang.org/x/text v0.7.0
add golang.org/x/sys golang.org/x/sys v0.3.0
add github.com/google/go-cmp github.com/google/go-cmp v0.5.9

bash -c "ulimit -n $FILE_LIMIT; exec \"$W\" serve --listen 127.0.0.1:0 --upstream file://$TREE --data-dir $WORK/data --sumdb off --log-level notice" \
  >"$WORK/stdout" 2>"$WORK/stderr" &
PID=$!
for _ in $(seq 100); do grep -q "listening on" "$WORK/stdout" 2>/dev/null && break; sleep 0.1; done
PORT="$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/stdout")"
[ -n "$PORT" ] || { cat "$WORK/stderr"; exit 1; }
echo "warren pid $PID on 127.0.0.1:$PORT, ulimit -n $FILE_LIMIT, $DURATION s" >&2
python3 scripts/soak_hostile.py --port "$PORT" --pid "$PID" --seconds "$DURATION" --modules "$WORK/modules.txt" --work "$WORK"
