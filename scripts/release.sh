#!/usr/bin/env bash
# Builds Warren's release binary with the Swift runtime linked in (--static-swift-stdlib),
# so it runs on a Linux machine without Swift, strips it, and prints its path and size on
# its last line. scripts/check-static-binary.sh proves it needs no toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product warren --static-swift-stdlib >&2
mkdir -p .build/release-static
cp .build/release/warren .build/release-static/warren
strip .build/release-static/warren
path="$(pwd)/.build/release-static/warren"
echo "$path $(stat -c %s "$path") bytes"
