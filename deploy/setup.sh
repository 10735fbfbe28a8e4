#!/usr/bin/env bash
# Framehouse: one idempotent script that installs what the project needs on Debian 12,
# configures and builds it, then either runs the server or runs the whole test suite.
#
#   deploy/setup.sh run    install, build, and serve on the embedded defaults
#   deploy/setup.sh test   install (with PostgreSQL 15), build, and run every test
#   deploy/setup.sh build  install and build only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-build}"
build_dir="${FRAMEHOUSE_BUILD_DIR:-$here/build}"
build_type="${FRAMEHOUSE_BUILD_TYPE:-Release}"

build_packages=(
  build-essential cmake ninja-build pkg-config ca-certificates
  libboost1.81-dev libboost-system1.81-dev libboost-filesystem1.81-dev
  libboost-json1.81-dev libboost-url1.81-dev
  libsoci-dev libsqlite3-dev libpq-dev
  libtomlplusplus-dev libsodium-dev libssl-dev libfmt-dev
  libavcodec-dev libavformat-dev libavutil-dev libswscale-dev libfreetype-dev fonts-dejavu-core
  libyaml-cpp-dev libqrencode-dev zlib1g-dev libcurl4-openssl-dev libgtest-dev libgmock-dev
)
test_packages=(postgresql curl openssl ffmpeg wrk nodejs chromium oathtool python3-aiosmtpd python3-aiohttp)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  # The unversioned libboost-dev means Boost 1.74, which conflicts with 1.81: keep it out.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" libboost-dev- >&2
}

build() {
  cmake -S "$here" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >&2
  cmake --build "$build_dir" --parallel "$(nproc)" >&2
}

case "$mode" in
  build)
    install_packages "${build_packages[@]}"
    build
    ;;
  run)
    install_packages "${build_packages[@]}"
    build
    cd "$here"
    exec "$build_dir/framehouse" serve --config "${FRAMEHOUSE_CONFIG:-$here/config/framehouse.toml}"
    ;;
  test)
    install_packages "${build_packages[@]}" "${test_packages[@]}"
    # Some Node.js builds bring their own npm, which Debian's npm package would conflict with.
    command -v npm > /dev/null || install_packages npm
    build
    # What the end-to-end tests drive besides HTTP: the official OpenAI client and a browser
    # driver, at the versions their package-lock.json files pin.
    for package in "$here"/tests/compat/*/package.json; do
      (cd "$(dirname "$package")" && npm ci --no-audit --no-fund --loglevel=error >&2)
    done
    exec "$here/tests/run-all.sh" "$build_dir"
    ;;
  *)
    echo "usage: deploy/setup.sh run|test|build" >&2
    exit 2
    ;;
esac
