#!/usr/bin/env bash
# Runs a command with the Stripe API stand-in (server.mjs) on loopback and the payment_stripe
# settings for it appended as --config key=value arguments (how the SDK's conformance runner
# takes them):
#   with_stripe_api.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck source=../service.sh
source "$here/../service.sh"
key=sk_test_conformance
secret=whsec_conformance_secret
# Events it sends go nowhere here: the conformance suite has no server to receive them.
API_KEY="$key" WEBHOOK_SECRET="$secret" WEBHOOK_URL=http://127.0.0.1:9/none PRICES=price_conformance \
  node "$here/server.mjs" > "$work/out" 2> "$work/err" &
pid=$!
url="$(wait_until_listening "the Stripe API stand-in" "$work/out" "$work/err")"
[ -n "$url" ] || exit 1  # (the reason is on stderr)
status=0
"$@" --config "api_key=$key" --config "webhook_secret=$secret" --config "api_base_url=$url" || status=$?
exit "$status"
