#!/usr/bin/env bash
# Runs a command with a Framehouse server on loopback as an OpenAI-Videos-API upstream (its
# procedural engine), and the gen_openai settings for it — its /v1 URL and an API key of a user
# made for the purpose — appended as --config key=value arguments (how the SDK's conformance
# runner takes them):
#   FRAMEHOUSE_BINARY=... FRAMEHOUSE_PLUGIN_DIR=... with_framehouse_upstream.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${FRAMEHOUSE_BINARY:?the framehouse binary}" "${FRAMEHOUSE_PLUGIN_DIR:?the plugin directory}"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=../service.sh
source "$here/../service.sh"

cat > "$work/framehouse.toml" <<TOML
[server]
listen = "127.0.0.1:0"
data_dir = "$work/var"
[database]
url = "sqlite:$work/var/framehouse.db"
[accounts]
password_ops_limit = 1
password_mem_limit_kib = 8
[plugins]
directory = "$FRAMEHOUSE_PLUGIN_DIR"
[plugins.storage_fs]
fsync = false
[plugins.email_outbox]
[plugins.gen_procedural]
preset = "ultrafast"
[generation]
plugin = "gen_procedural"
[plans.free]
max_seconds = 20
videos_per_day = 1000
concurrent_jobs = 64
watermark = false
TOML
"$FRAMEHOUSE_BINARY" serve --config "$work/framehouse.toml" > "$work/out" 2> "$work/err" &
pid=$!
url="$(wait_until_listening "the upstream Framehouse" "$work/out" "$work/err")"
[ -n "$url" ] || exit 1
echo "upstream pass phrase" | "$FRAMEHOUSE_BINARY" admin create-user --config "$work/framehouse.toml" \
  --email upstream@example.org --name Upstream > /dev/null
key="$(/usr/bin/python3 - "$url" <<'PY'
import json, sys, urllib.request
base = sys.argv[1]
def post(path, body, token=None):
    request = urllib.request.Request(base + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", "Bearer " + token)
    return json.load(urllib.request.urlopen(request))
session = post("/v1/sessions", {"email": "upstream@example.org", "password": "upstream pass phrase"})
print(post("/v1/api-keys", {"name": "conformance"}, session["token"])["key"])
PY
)"
status=0
"$@" --config "base_url=[$url/v1]" --config "api_key=$key" --config "models=[procedural-1]" \
  --config "sizes=[512x512, 640x360]" --config max_seconds=20 || status=$?
exit "$status"
