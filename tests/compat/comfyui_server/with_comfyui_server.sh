#!/usr/bin/env bash
# Runs a command with the ComfyUI stand-in (server.py) on loopback and the gen_comfyui settings
# for it — its URL and the test workflows — appended as --config key=value arguments (how the
# SDK's conformance runner takes them):
#   with_comfyui_server.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
workflows="$(cd "$here/../../fixtures/comfyui" && pwd)"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck source=../service.sh
source "$here/../service.sh"
/usr/bin/python3 "$here/server.py" --root "$work/comfyui" > "$work/out" 2> "$work/err" &
pid=$!
port="$(wait_until_listening "the ComfyUI stand-in" "$work/out" "$work/err")"
[ -n "$port" ] || exit 1  # (the reason is on stderr)
status=0
"$@" --config "base_url=[http://127.0.0.1:$port]" \
  --config "workflows=[wan-t2v=$workflows/wan_t2v.json, wan-i2v=$workflows/wan_i2v.json]" \
  --config "sizes=[512x512, 640x360]" --config max_seconds=8 || status=$?
exit "$status"
