#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, through swiftc -sanitize=fuzzer) of everything
# Warren reads from the network or from files it did not write:
#   http-request  raw request bytes through the connection pipeline (Fuzz/HTTPRequest:
#                 guard, HTTP/1 decoder, Warren's HTTP/1 rules, the fast path, and
#                 ProxyRequest's path parser), with every timer run forward;
#   parsers       every parser of untrusted bytes, the first byte choosing which
#                 (Fuzz/Parsers: paths, versions, go.mod, go-get pages, checksum database
#                 notes, Range and date headers, .netrc, GOPROXY-style lists, zips).
#
#   scripts/fuzz.sh [SECONDS] [--keep]          SECONDS per target (default 60);
#                                               FUZZ_CONFIG=release for a faster binary
#
# Each target starts from its committed corpus (Fuzz/corpus/NAME) and prints
# executions, coverage and crashes; a crash fails the script (the input is kept under
# .build/fuzz-crashes). --keep merges new coverage-increasing inputs into the committed
# corpus, which the test suite replays (FuzzCorpusTests).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-60}"
KEEP="${2:-}"
CONFIG="${FUZZ_CONFIG:-debug}"
# libFuzzer without its main, from the toolchain's compiler-rt (see Package.swift).
TOOLCHAIN="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")"
LIB="$(find "$TOOLCHAIN/lib/clang" -name 'libclang_rt.fuzzer_no_main-*.a' | head -1)"
[ -n "$LIB" ] || { echo "fuzz: no libclang_rt.fuzzer_no_main in $TOOLCHAIN" >&2; exit 1; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-fuzz.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p .build/fuzz-crashes
BINDIR="$(swift build -c "$CONFIG" --show-bin-path 2>/dev/null)"
failed=0
for target in http-request:FuzzHTTPRequest parsers:FuzzParsers; do
  name="${target%%:*}" product="${target##*:}"
  # Only Warren's own targets are rebuilt instrumented; the next ordinary build
  # rebuilds them back.
  if ! WARREN_FUZZ="$LIB" swift build -c "$CONFIG" --product "$product" >"$WORK/build.log" 2>&1; then
    grep -E "error" "$WORK/build.log" | head -20 >&2
    exit 1
  fi
  seeds="Fuzz/corpus/$name"
  mkdir -p "$WORK/$name"
  cp "$seeds"/* "$WORK/$name/"
  before="$(ls .build/fuzz-crashes | wc -l)"
  status=0
  "$BINDIR/$product" -max_total_time="$DURATION" -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix=".build/fuzz-crashes/$name-" "$WORK/$name" >"$WORK/$name.log" 2>&1 || status=$?
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$WORK/$name.log" | tail -1 || true)"
  execs="$(grep -E '^stat::number_of_executed_units' "$WORK/$name.log" | awk '{print $2}')"
  rate="$(grep -E '^stat::average_exec_per_sec' "$WORK/$name.log" | awk '{print $2}')"
  cov="$(echo "$done_line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')"
  features="$(echo "$done_line" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')"
  crashes=$(( $(ls .build/fuzz-crashes | wc -l) - before ))
  echo "fuzz $name: ${DURATION}s ($CONFIG), ${execs:-0} executions (${rate:-0}/s), coverage ${cov:-?} edges, ${features:-?} features, corpus $(ls "$WORK/$name" | wc -l) inputs, crashes: $crashes"
  if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
    tail -40 "$WORK/$name.log"
    failed=1
    continue
  fi
  if [ "$KEEP" = "--keep" ]; then
    "$BINDIR/$product" -merge=1 -max_len=4096 "$seeds" "$WORK/$name" >/dev/null 2>&1
    echo "  corpus now $(ls "$seeds" | wc -l) inputs in $seeds"
  fi
done
exit "$failed"
