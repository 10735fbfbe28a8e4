#!/usr/bin/env bash
# This plugin's CI: configure against an installed Framehouse SDK, build, run the conformance
# test, and have a Framehouse server check the file as it would before loading it.
#   ./ci.sh [SDK_PREFIX]        (default /usr/local; the server: $SDK_PREFIX/bin/framehouse)
set -euo pipefail
prefix="${1:-/usr/local}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmake -S "$here" -B "$here/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
cmake --build "$here/build"
ctest --test-dir "$here/build" --output-on-failure
server="$prefix/bin/framehouse"
if [ -x "$server" ]; then
  "$server" plugin inspect "$here/build/{{plugin}}.so" | tee "$here/build/inspect.txt"
  grep -q "verdict:       compatible" "$here/build/inspect.txt"
fi
