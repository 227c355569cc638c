#!/usr/bin/env bash
# Runs Warren's whole test suite: installs what the tests need, then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
swift build --build-tests
swift test
