#!/usr/bin/env bash
# Quick start: installs what Warren needs to build (Debian packages), builds it in
# release mode, and starts `warren serve` with the embedded defaults: 127.0.0.1:3000,
# upstream https://proxy.golang.org, modules stored under ~/.cache/warren.
# Extra arguments go to `warren serve` (e.g. --upstream file:///srv/goproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
swift build -c release --product warren
exec "$(swift build -c release --show-bin-path)/warren" serve "$@"
