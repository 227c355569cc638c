#!/usr/bin/env bash
# Installs what Warren needs from Debian's packages, only when something is missing.
#   scripts/install-deps.sh build   — to build and run Warren (zlib)
#   scripts/install-deps.sh test    — also the go command, git, golang.org/x/mod, the
#                                     real module sources and the servers the tests use
set -euo pipefail
MODE="${1:-build}"

packages=(zlib1g-dev pkg-config)
if [ "$MODE" = test ]; then
  packages+=(
    golang-go git golang-golang-x-mod-dev
    # Real module trees for the differential zip tests (/usr/share/gocode/src).
    golang-golang-x-sys-dev golang-golang-x-text-dev golang-golang-x-tools-dev
    golang-github-kr-text-dev golang-gopkg-yaml.v3-dev golang-github-azure-go-autorest-dev
    golang-github-dgrijalva-jwt-go-dev golang-github-burntsushi-toml-dev
    golang-github-masterminds-semver-dev golang-github-google-go-cmp-dev
    # warren doctor probe / warren bench tests: a self-signed HTTPS server, and a real
    # browser to render the HTML report.
    openssl python3 chromium-headless-shell
    # A real S3-compatible server (Ceph radosgw on a single-node cluster) for the object
    # storage tests: scripts/s3-server.sh.
    radosgw ceph-mon ceph-osd ceph-common curl
    # PostgreSQL 15 for the shared metadata index and the replicas' fetch locks (the
    # tests run initdb into a temporary directory; the packaged cluster is not used).
    postgresql-15 postgresql-client-15
    # nginx in front of three replicas in scripts/conformance-cluster.sh.
    nginx-light
    # Prometheus and promtool: the shipped alert rules and dashboard queries are checked
    # against a real Prometheus scraping Warren (PrometheusTests).
    prometheus
    # systemd-analyze checks the shipped unit (verify, and security --offline).
    systemd
    # A Python virtual environment for the OpenID Connect provider the login tests run
    # (Flask and authlib from PyPI; see test_python below).
    python3-venv
  )
fi

# The login tests' provider (Flask and authlib), the browser driver (websocket-client, for
# Chromium's DevTools protocol) and the console test's HTML checker (html5lib) in
# .build/test-python, pinned.
test_python() {
  [ "$MODE" = test ] || return 0
  local venv
  venv="$(cd "$(dirname "$0")/.." && pwd)/.build/test-python"
  if [ ! -x "$venv/bin/python3" ] || ! "$venv/bin/python3" -c "import authlib, flask, websocket, kubernetes_validate, html5lib" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check authlib==1.9.10 flask==3.1.3 websocket-client==1.9.2 kubernetes-validate==1.37.0 html5lib==1.1
  fi
}

# `kubectl kustomize` renders the Kubernetes manifests (Debian's kubernetes-client, unless a
# kubectl is there already).
if [ "$MODE" = test ] && ! command -v kubectl >/dev/null; then packages+=(kubernetes-client); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then test_python; exit 0; fi

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
test_python
