#!/usr/bin/env bash
# GoModule benchmark: module zip creation and h1: hashing, Warren against the go
# command's own golang.org/x/mod on the same Debian module trees, in one run.
#   scripts/bench-gomodule.sh [ROUNDS]      (default 7; medians are reported)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-7}"
scripts/install-deps.sh test >/dev/null

swift build -c release --product gomodule-bench >/dev/null
BIN="$(swift build -c release --show-bin-path)/gomodule-bench"
GOREF="${TMPDIR:-/tmp}/warren-goref-bench"
(cd Tools/goref && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= CGO_ENABLED=0 go build -o "$GOREF" .)

SRC=/usr/share/gocode/src
mkdir -p bench-results
OUT="bench-results/gomodule-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "GoModule benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, median of $ROUNDS rounds, $(go version | awk '{print $3}'), x/mod $(dpkg-query -W -f='${Version}' golang-golang-x-mod-dev)"
  echo
  "$BIN" "$GOREF" "$ROUNDS" \
    "$SRC/golang.org/x/sys" golang.org/x/sys v0.3.0 \
    "$SRC/golang.org/x/text" golang.org/x/text v0.7.0 \
    "$SRC/golang.org/x/tools" golang.org/x/tools v0.5.0 \
    "$SRC/github.com/Azure/go-autorest/autorest" github.com/Azure/go-autorest/autorest v0.11.28
} | tee "$OUT"
echo "(saved to $OUT)"
