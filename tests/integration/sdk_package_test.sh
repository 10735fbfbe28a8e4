#!/usr/bin/env bash
# The SDK as a third party uses it: install it into a fresh prefix, build the installed example
# plugin out of tree with find_package(FramehouseSDK 1.1), run its conformance test, inspect
# it, and serve with it as the storage.
#   sdk_package_test.sh SOURCE_DIR BUILD_DIR FRAMEHOUSE_BINARY
set -euo pipefail
source_dir="$1"; build_dir="$2"; framehouse="$3"
work="$(mktemp -d)"
trap 'kill "${server:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")"

cmake --install "$build_dir" --prefix "$work/prefix" --component Unspecified > "$work/install.log"
test -f "$work/prefix/include/framehouse/sdk/plugin.hpp"
test -f "$work/prefix/lib/cmake/FramehouseSDK/FramehouseSDKConfig.cmake"
test -f "$work/prefix/lib/cmake/FramehouseSDK/testkit/include/framehouse/testkit/fake_host.hpp"

# The installed example is the starting point: it builds, passes its conformance test, loads.
cp -r "$work/prefix/share/framehouse/examples/memory_storage" "$work/plugin-src"
cmake -S "$work/plugin-src" -B "$work/plugin-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE="$build_type" > "$work/configure.log"
cmake --build "$work/plugin-build" > "$work/build.log"
plugin="$work/plugin-build/memory_storage.so"
test -f "$plugin"
ctest --test-dir "$work/plugin-build" --output-on-failure | tee "$work/conformance.log"
grep -q "memory_storage_conformance .* Passed" "$work/conformance.log"

# A new plugin from the template: it builds, passes its conformance test and is compatible.
"$framehouse" plugin new email acme_mail --dir "$work/acme_mail"
bash "$work/acme_mail/ci.sh" "$work/prefix" > "$work/acme_mail.log" 2>&1 || { cat "$work/acme_mail.log" >&2; exit 1; }
grep -q "acme_mail_conformance .* Passed" "$work/acme_mail.log"
grep -q "verdict:       compatible" "$work/acme_mail.log"
grep -q "email_conformance" "$work/acme_mail/build/Testing/Temporary/LastTest.log"

# Hidden visibility: the only dynamic symbols the plugin defines are the SDK's three.
exported="$(nm -D --defined-only "$plugin" | awk '{print $3}' | grep -v '^_' | sort | tr '\n' ' ')"
[ "$exported" = "framehouse_plugin_build framehouse_plugin_create framehouse_plugin_manifest " ] || {
  echo "unexpected exported symbols: $exported" >&2; exit 1; }

"$framehouse" plugin inspect "$plugin" | tee "$work/inspect.txt"
grep -q "verdict:       compatible" "$work/inspect.txt"
grep -q "max_objects" "$work/inspect.txt"

cat > "$work/framehouse.toml" <<TOML
[server]
listen = "127.0.0.1:0"
data_dir = "$work/var"
[database]
url = "sqlite:$work/var/framehouse.db"
[plugins]
directory = "$build_dir/plugins"
[plugins.memory_storage]
path = "$plugin"
max_objects = 10
[plugins.acme_mail]
path = "$work/acme_mail/build/acme_mail.so"
[storage]
plugin = "memory_storage"
[email]
plugin = "acme_mail"
TOML
"$framehouse" serve --config "$work/framehouse.toml" > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 1 200); do grep -q listening "$work/out" && break; sleep 0.05; done
url="$(sed -n 's/^framehouse listening on //p' "$work/out")"
[ -n "$url" ] || { cat "$work/err" >&2; exit 1; }
ready="$(curl -sS "$url/readyz")"
echo "$ready"
grep -q '"memory_storage":"started"' <<<"$ready"
grep -q '"acme_mail":"started"' <<<"$ready"  # the plugin made from the template loads
kill -TERM "$server"; wait "$server"
grep -q 'memory storage ready' "$work/err"
echo "out-of-tree plugins (the example, and one made from the template) built, tested, inspected and served"
