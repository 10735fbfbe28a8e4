#!/usr/bin/env bash
# Runs a command with a real S3-compatible store on loopback — s3rver behind the verifying
# front (server.mjs), over HTTPS with a certificate from a throwaway CA — and the storage_s3
# settings for it appended as --config key=value arguments (how the SDK's conformance runner
# takes them):
#   with_s3_server.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck source=../service.sh
source "$here/../service.sh"
make_test_ca "$work"
mkdir "$work/store"
bucket=conformance
key_id=CONFORMANCEKEY
secret="conformance/secret"
node "$here/server.mjs" --directory "$work/store" --bucket "$bucket" --access-key-id "$key_id" \
  --secret-access-key "$secret" --cert "$work/server.pem" --key "$work/server.key" > "$work/out" 2> "$work/err" &
pid=$!
read -r port _ < <(wait_until_listening "the S3 store" "$work/out" "$work/err")
[ -n "$port" ] || exit 1  # (the reason is on stderr)
status=0
"$@" --config "endpoint=https://127.0.0.1:$port" --config "bucket=$bucket" --config "access_key_id=$key_id" \
  --config "secret_access_key=$secret" --config force_path_style=true --config "ca_file=$work/ca.pem" \
  --config part_size_mib=5 || status=$?
exit "$status"
