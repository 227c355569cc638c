# Shell pieces the test and benchmark scripts share; source it after `cd` to the project root.

# A loopback port nothing listens on now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# make_module WARREN TREE WORK NAME BYTES: a module bench.example/NAME@v1.0.0 of incompressible
# contents (so its zip has the size asked for) in the GOPROXY tree TREE.
make_module() {
  local warren=$1 tree=$2 work=$3 name=$4 bytes=$5
  local dir="$work/src/$name" v="$tree/bench.example/$name/@v"
  mkdir -p "$dir" "$v"
  printf 'module bench.example/%s\n\ngo 1.21\n' "$name" > "$dir/go.mod"
  head -c "$bytes" /dev/urandom > "$dir/data.bin"
  "$warren" mod zip "$dir" "bench.example/$name@v1.0.0" "$v/v1.0.0.zip" >/dev/null
  cp "$dir/go.mod" "$v/v1.0.0.mod"
  printf '{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}' > "$v/v1.0.0.info"
  echo v1.0.0 > "$v/list"
}

# start_s3 DIR BUCKET: a radosgw in DIR (scripts/s3-server.sh; stop it with
# `RGW_DIR=DIR scripts/s3-server.sh stop`), its credentials exported as AWS_*, S3 set to
# its endpoint, and BUCKET made with curl's own SigV4 signing.
start_s3() {
  RGW_DIR="$1" RGW_PORT=$(free_port) MON_PORT=$(free_port) scripts/s3-server.sh > "$1.env" 2> "$1.log" \
    || { cat "$1.log" >&2; return 1; }
  S3=$(sed -n 's/^S3_ENDPOINT=//p' "$1.env")
  export AWS_ACCESS_KEY_ID=$(sed -n 's/^AWS_ACCESS_KEY_ID=//p' "$1.env")
  export AWS_SECRET_ACCESS_KEY=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$1.env")
  s3 -X PUT "$S3/$2" > /dev/null
}

# s3 CURL-ARGS…: curl with the request signed for the test radosgw.
s3() {
  curl -sS --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# release_warren: sets WARREN to $WARREN_BIN when given (to compare another build on the
# same machine), else to a fresh release build of this checkout.
release_warren() {
  if [ -z "${WARREN_BIN:-}" ]; then
    swift build -c release --product warren >/dev/null
    WARREN="$(swift build -c release --show-bin-path)/warren"
  else
    WARREN="$WARREN_BIN"
  fi
}

# corpus_bench NAME: what the benchmarks on the conformance corpus share. Sets KIT (the
# kit), WARREN (release_warren), WORK (removed at exit, unless KEEP is set; PIDS are
# killed first) and CORPUS (the kit's corpus, built when missing).
corpus_bench() {
  KIT="$(cd .. && pwd)/shared/conformance"
  [ -x "$KIT/make-corpus.sh" ] || { echo "$1: the conformance kit is not at $KIT" >&2; exit 2; }
  release_warren
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/warren-$1.XXXXXX")"
  PIDS=()
  trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; chmod -R u+w "$WORK" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
  CORPUS="${TMPDIR:-/tmp}/warren-conformance"
  [ -f "$CORPUS/expected.tsv" ] || "$KIT/make-corpus.sh" "$CORPUS" > "$WORK/corpus.log" 2>&1
}
