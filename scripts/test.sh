#!/usr/bin/env bash
# Runs Warren's whole test suite: installs what the tests need, runs `swift test`, then
# the shared conformance kit (the real go command through warren serve) when present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh test
swift build --build-tests
swift test
scripts/conformance.sh
# The same kit through nginx in front of three replicas on radosgw and PostgreSQL.
scripts/conformance-cluster.sh
# A short pass of coverage-guided fuzzing over raw request bytes (the README gives the
# longer run's figures).
scripts/fuzz.sh 30
# The release binary (static Swift runtime) serves a module where no toolchain can be
# found (a release build: about 7 minutes on two cores).
RELEASE="$(scripts/release.sh | tail -1 | cut -d' ' -f1)"
scripts/check-static-binary.sh "$RELEASE"
# The same release binary carries the conformance corpus across an air gap with its
# checksum proofs, and the go command verifies it on the other side (release builds have
# misbehaved where debug builds did not, so the bundle path is run optimized too).
WARREN_BIN="$RELEASE" scripts/bench-bundle.sh
