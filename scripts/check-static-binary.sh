#!/usr/bin/env bash
# Runs a release binary where no Swift toolchain can be found, and serves a module with
# it: the binary must link no Swift runtime library, and, with the toolchain's directory
# hidden under an empty mount (a private mount namespace; needs root), it zips a module
# with GoModule's rules and serves it, byte for byte, to curl.
#
#   scripts/check-static-binary.sh "$(scripts/release.sh | tail -1 | cut -d' ' -f1)"
set -euo pipefail
bin="${1:?usage: check-static-binary.sh BINARY}"
bin="$(readlink -f "$bin")"
if ldd "$bin" | grep -Ei 'swift|foundation|dispatch'; then
  echo "check-static-binary: $bin links a Swift runtime library (above)" >&2
  exit 1
fi
toolchain="$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/tree/example.com/tool/@v"
printf 'module example.com/tool\n\ngo 1.19\n' > "$work/src/go.mod"
printf 'package tool\n\nconst Name = "static"\n' > "$work/src/tool.go"

cat > "$work/run.sh" <<INNER
set -euo pipefail
# The toolchain's directory is now empty: nothing of Swift can be loaded from it.
test -z "\$(ls -A "$toolchain")"
"$bin" mod zip "$work/src" example.com/tool@v1.0.0 "$work/tree/example.com/tool/@v/v1.0.0.zip" >/dev/null
cp "$work/src/go.mod" "$work/tree/example.com/tool/@v/v1.0.0.mod"
printf '{"Version":"v1.0.0","Time":"2026-01-01T00:00:00Z"}' > "$work/tree/example.com/tool/@v/v1.0.0.info"
"$bin" serve --listen 127.0.0.1:0 --data-dir "$work/data" --upstream "file://$work/tree" --sumdb off > "$work/serve.log" 2>&1 &
server=\$!
for _ in \$(seq 1 100); do grep -q 'listening on' "$work/serve.log" && break; sleep 0.1; done
port="\$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/serve.log" | cut -d: -f2)"
curl -fsS "http://127.0.0.1:\$port/example.com/tool/@v/v1.0.0.zip" -o "$work/served.zip"
kill -TERM \$server
wait \$server || true
cmp "$work/served.zip" "$work/tree/example.com/tool/@v/v1.0.0.zip"
INNER

if [ "$(id -u)" = 0 ] && unshare --mount --propagation private true 2>/dev/null; then
  unshare --mount --propagation private bash -c "mount -t tmpfs none '$toolchain' && env -i PATH=/usr/bin:/bin bash '$work/run.sh'"
  echo "check-static-binary: $bin served a module with $toolchain hidden"
else
  env -i PATH=/usr/bin:/bin bash "$work/run.sh" 2>/dev/null || true
  echo "check-static-binary: not root: cannot hide $toolchain; only the link check ran" >&2
  exit 1
fi
