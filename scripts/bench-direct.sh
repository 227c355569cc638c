#!/usr/bin/env bash
# Direct mode against the go command: the same module versions fetched from local bare
# git repositories (built from Debian's golang-*-dev sources, reached through git's
# url.<base>.insteadOf as if they were on github.com), by
#   A) `GOPROXY=direct go mod download`                      (the go command alone)
#   B) `GOPROXY=<warren --upstream direct> go mod download`  (Warren builds the zips)
# cold (no mirror, no module cache) and warm (mirrors/VCS cache kept, artifacts gone),
# and the time of a `list` of a repository with 1000 tags, mirror warm.
#   scripts/bench-direct.sh [ROUNDS]   (default 5; the medians are reported)
# The repositories are read as file:// URLs, or with GIT_RTT_MS=N over git's smart HTTP
# protocol (scripts/git-http-server.py: git http-backend, every connection and every
# request delayed N ms, a simulated network round trip).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
scripts/install-deps.sh test >/dev/null
need=()
for p in bc curl golang-github-pkg-errors-dev golang-github-davecgh-go-spew-dev golang-github-pmezard-go-difflib-dev \
         golang-github-stretchr-testify-dev golang-github-spf13-pflag-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
swift build -c release --product warren >/dev/null
WARREN="$(swift build -c release --show-bin-path)/warren"

# Everything lives on a tmpfs when there is one. On this project's ext4 machine, creating
# files gets slower with every rm -rf of a module cache (ext4 scans past recently deleted
# inodes): go alone went from 1.5 s to 4.1 s cold over five rounds, Warren likewise, so
# the rounds measured the disk's history rather than the tools. BENCH_DIR overrides.
BENCH_DIR="${BENCH_DIR:-$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")}"
WORK=$(mktemp -d "$BENCH_DIR/warren-bench-direct.XXXXXX")
cleanup() {
  [ -n "${WARREN_PID:-}" ] && kill "$WARREN_PID" 2>/dev/null || true
  [ -n "${GIT_SERVER_PID:-}" ] && kill "$GIT_SERVER_PID" 2>/dev/null || true
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
export GIT_CONFIG_GLOBAL="$WORK/gitconfig" GIT_CONFIG_NOSYSTEM=1 HOME="$WORK/home"
mkdir -p "$HOME"
SRC=/usr/share/gocode/src
g() { git -c user.name=bench -c user.email=bench@warren.invalid "$@"; }

# One bare repository per module, three tagged versions each.
MODULES=(github.com/kr/text github.com/google/go-cmp github.com/BurntSushi/toml github.com/pkg/errors
         github.com/davecgh/go-spew github.com/pmezard/go-difflib github.com/stretchr/testify github.com/spf13/pflag)
TARGETS=()
for m in "${MODULES[@]}"; do
  [ -d "$SRC/$m" ] || continue
  w="$WORK/work/$m"; mkdir -p "$w"; cp -r "$SRC/$m/." "$w/"
  [ -f "$w/go.mod" ] || printf 'module %s\n' "$m" > "$w/go.mod"
  (cd "$w" && g init -q -b master && g add -A && g commit -q -m v1 && g tag v1.0.0 \
     && echo "// v1.1" >> go.mod && g commit -qam v1.1 && g tag v1.1.0 \
     && echo "// v1.2" >> go.mod && g commit -qam v1.2 && g tag v1.2.0)
  g clone -q --bare "$w" "$WORK/repos/$m.git"
  # Packed, as a hosting server keeps its repositories (a loose-object repository makes
  # every clone and fetch recompress each object).
  git -C "$WORK/repos/$m.git" gc -q
  TARGETS+=("$m@v1.0.0" "$m@v1.2.0")
done
# A repository with 1000 tags.
w="$WORK/work/tags"; mkdir -p "$w"
(cd "$w" && g init -q -b master && printf 'module github.com/bench/tags\n' > go.mod && g add -A && g commit -q -m one \
   && for i in $(seq 0 999); do echo "refs/tags/v1.$i.0 $(git rev-parse HEAD)"; done | awk '{print "create " $1 " " $2}' | git update-ref --stdin)
g clone -q --bare "$w" "$WORK/repos/github.com/bench/tags.git"
git -C "$WORK/repos/github.com/bench/tags.git" gc -q
if [ -n "${GIT_RTT_MS:-}" ]; then
  python3 scripts/git-http-server.py --root "$WORK/repos" --rtt-ms "$GIT_RTT_MS" --port-file "$WORK/git-port" &
  GIT_SERVER_PID=$!
  for _ in $(seq 100); do [ -f "$WORK/git-port" ] && break; sleep 0.1; done
  BASE="http://127.0.0.1:$(cat "$WORK/git-port")"
  WHERE="git smart HTTP, ${GIT_RTT_MS} ms per connection and per request"
else
  BASE="file://$WORK/repos"
  WHERE="file:// repositories"
fi
for m in $(cd "$WORK/repos" && find . -name '*.git' -prune | sed 's|^\./||; s|\.git$||'); do
  printf '[url "%s/%s.git"]\n\tinsteadOf = https://%s\n' "$BASE" "$m" "$m" >> "$GIT_CONFIG_GLOBAL"
done
echo "modules: ${#TARGETS[@]} versions of $(( ${#TARGETS[@]} / 2 )) repositories ($WHERE); working directory on $(df --output=fstype "$WORK" | tail -1)"

goenv() { env GOPATH="$WORK/gopath" GOMODCACHE="$1" GOCACHE="$WORK/gocache" GOSUMDB=off GOFLAGS=-modcacherw \
  GONOSUMDB= GOPRIVATE= GO111MODULE=on GOPROXY="$2" "${@:3}"; }
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

start_warren() { # DATA
  "$WARREN" serve --listen 127.0.0.1:0 --upstream direct --data-dir "$1" --sumdb off --list-ttl 0 \
    --log-level warning > "$WORK/warren.out" 2> "$WORK/warren.err" &
  WARREN_PID=$!
  for _ in $(seq 100); do grep -q "listening on" "$WORK/warren.out" 2>/dev/null && break; sleep 0.1; done
  W="http://127.0.0.1:$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$WORK/warren.out")"
}
stop_warren() { kill "$WARREN_PID"; wait "$WARREN_PID" 2>/dev/null || true; WARREN_PID=; }

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: > "$WORK/go-cold"; : > "$WORK/go-warm"; : > "$WORK/w-cold"; : > "$WORK/w-warm"; : > "$WORK/list"
: > "$WORK/floor"; : > "$WORK/srv-cold"; : > "$WORK/srv-warm"
# Every artifact the go command asks for, fetched by curl, 8 at a time: Warren's own time.
urls() { for t in "${TARGETS[@]}"; do for x in info mod zip; do echo "$W/${t%@*}/@v/${t#*@}.$x"; done; done | sed 's/[A-Z]/!\L&/g'; }
fetch_all() { urls | xargs -P 8 -n 1 curl -s -f -o /dev/null; }
for r in $(seq "$ROUNDS"); do
  # A) the go command alone. Warm: its VCS cache kept, downloads and extracted trees gone.
  rm -rf "$WORK/mc-go"; chmod -R u+w "$WORK/mc-go" 2>/dev/null || true
  t=$(now); goenv "$WORK/mc-go" direct go mod download "${TARGETS[@]}"; elapsed "$t" >> "$WORK/go-cold"
  find "$WORK/mc-go" -mindepth 1 -maxdepth 1 ! -name cache -exec rm -rf {} +; rm -rf "$WORK/mc-go/cache/download"
  t=$(now); goenv "$WORK/mc-go" direct go mod download "${TARGETS[@]}"; elapsed "$t" >> "$WORK/go-warm"
  rm -rf "$WORK/mc-go"

  # B) through Warren. Warm: mirrors kept, stored artifacts and the client cache gone.
  rm -rf "$WORK/data" "$WORK/mc-w"
  start_warren "$WORK/data"
  t=$(now); goenv "$WORK/mc-w" "$W" go mod download "${TARGETS[@]}"; elapsed "$t" >> "$WORK/w-cold"
  stop_warren
  rm -rf "$WORK/data/modules" "$WORK/mc-w"
  start_warren "$WORK/data"
  t=$(now); goenv "$WORK/mc-w" "$W" go mod download "${TARGETS[@]}"; elapsed "$t" >> "$WORK/w-warm"
  rm -rf "$WORK/mc-w"
  # The floor: the go command downloading the same, already built, artifacts from a
  # file:// proxy (Warren's store) — its own verifying and unpacking, no git at all.
  t=$(now); goenv "$WORK/mc-w" "file://$WORK/data/modules" go mod download "${TARGETS[@]}"; elapsed "$t" >> "$WORK/floor"
  rm -rf "$WORK/mc-w"
  # Warren alone (curl as the client), cold and warm mirror.
  stop_warren
  rm -rf "$WORK/data-srv"; start_warren "$WORK/data-srv"
  t=$(now); fetch_all; elapsed "$t" >> "$WORK/srv-cold"
  stop_warren; rm -rf "$WORK/data-srv/modules"; start_warren "$WORK/data-srv"
  t=$(now); fetch_all; elapsed "$t" >> "$WORK/srv-warm"

  # The 1000-tag list, mirror warm, no stored answer. Warren runs with --list-ttl 0, so
  # each sample asks the repository whether anything changed (one ls-remote; a fetch if
  # something did), then reads the tags and computes the list again.
  stop_warren
  curl_list() { curl -s -o "$WORK/list.out" -w '%{time_total}\n' "$W/github.com/bench/tags/@v/list"; }
  forget_list() { rm -f "$WORK/data/modules/github.com/bench/tags/@v/list" "$WORK/data/modules/github.com/bench/tags/@v/list.meta"; }
  start_warren "$WORK/data"; forget_list; curl_list >/dev/null
  for _ in $(seq 5); do
    forget_list; curl_list; [ "$(wc -l < "$WORK/list.out")" = 1000 ] || { echo "list is not 1000 versions"; exit 1; }
  done | median >> "$WORK/list"
  stop_warren
done

GC=$(median < "$WORK/go-cold"); GW=$(median < "$WORK/go-warm")
WC=$(median < "$WORK/w-cold"); WW=$(median < "$WORK/w-warm"); L=$(median < "$WORK/list")
FL=$(median < "$WORK/floor"); SC=$(median < "$WORK/srv-cold"); SW=$(median < "$WORK/srv-warm")
echo
echo "repositories: $WHERE"
echo "| ${#TARGETS[@]} module versions, $ROUNDS rounds (median) | go alone (GOPROXY=direct) | through Warren direct mode | ratio |"
echo "|---|---|---|---|"
printf '| cold (no mirror, empty module cache) | %.2f s | %.2f s | %.1f× |\n' "$GC" "$WC" "$(echo "$GC / $WC" | bc -l)"
printf '| warm (mirrors kept, artifacts gone)  | %.2f s | %.2f s | %.1f× |\n' "$GW" "$WW" "$(echo "$GW / $WW" | bc -l)"
printf '\nthe go command alone from a file:// proxy of the same built artifacts (its own floor): %.2f s\n' "$FL"
printf 'Warren alone, every .info/.mod/.zip fetched by curl (8 at a time): cold %.2f s, warm mirror %.2f s\n' "$SC" "$SW"
printf '\nlist of a repository with 1000 tags, mirror warm, no stored answer (ls-remote included): %.1f ms (median of 5)\n' "$(echo "$L * 1000" | bc -l)"
