#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, through swiftc -sanitize=fuzzer) of what Warren
# does with bytes from the network: raw requests through the connection pipeline
# (Fuzz/HTTPRequest: guard, HTTP/1 decoder, Warren's HTTP/1 rules, the fast path, and
# ProxyRequest's path parser), with every timer run forward.
#
#   scripts/fuzz.sh [SECONDS] [--keep]          FUZZ_CONFIG=release for a faster binary
#
# Runs for SECONDS (default 60) from the committed corpus (Fuzz/corpus/http-request)
# and prints executions, coverage and crashes; exits 1 on a crash (the input is kept
# under .build/fuzz-crashes). --keep merges new coverage-increasing inputs into the
# committed corpus, which the test suite replays (FuzzCorpusTests).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-60}"
KEEP="${2:-}"
CONFIG="${FUZZ_CONFIG:-debug}"
# libFuzzer without its main, from the toolchain's compiler-rt (see Package.swift).
TOOLCHAIN="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")"
LIB="$(find "$TOOLCHAIN/lib/clang" -name 'libclang_rt.fuzzer_no_main-*.a' | head -1)"
[ -n "$LIB" ] || { echo "fuzz: no libclang_rt.fuzzer_no_main in $TOOLCHAIN" >&2; exit 1; }
# Only Warren's own targets are rebuilt instrumented; the next ordinary build rebuilds
# them back.
if ! WARREN_FUZZ="$LIB" swift build -c "$CONFIG" --product FuzzHTTPRequest >"${TMPDIR:-/tmp}/warren-fuzz-build.log" 2>&1; then
  grep -E "error" "${TMPDIR:-/tmp}/warren-fuzz-build.log" | head -20 >&2
  exit 1
fi
BIN="$(swift build -c "$CONFIG" --show-bin-path 2>/dev/null)/FuzzHTTPRequest"
mkdir -p .build/fuzz-crashes
SEEDS=Fuzz/corpus/http-request
WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus"
cp "$SEEDS"/* "$WORK/corpus/"
status=0
"$BIN" -max_total_time="$DURATION" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
  -artifact_prefix=.build/fuzz-crashes/ "$WORK/corpus" >"$WORK/log" 2>&1 || status=$?
done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$WORK/log" | tail -1 || true)"
execs="$(grep -E '^stat::number_of_executed_units' "$WORK/log" | awk '{print $2}')"
rate="$(grep -E '^stat::average_exec_per_sec' "$WORK/log" | awk '{print $2}')"
cov="$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
features="$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')"
corpus="$(ls "$WORK/corpus" | wc -l)"
crashes="$(ls .build/fuzz-crashes | wc -l)"
echo "fuzz http-request: ${DURATION}s, ${execs:-0} executions (${rate:-0}/s), coverage ${cov:-?} edges, ${features:-?} features, corpus ${corpus} inputs, crashes: ${crashes}"
if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
  tail -40 "$WORK/log"
  exit 1
fi
if [ "$KEEP" = "--keep" ]; then
  "$BIN" -merge=1 -max_len=4096 "$SEEDS" "$WORK/corpus" >/dev/null 2>&1
  echo "corpus now $(ls "$SEEDS" | wc -l) inputs in $SEEDS"
fi
