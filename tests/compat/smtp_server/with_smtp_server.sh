#!/usr/bin/env bash
# Runs a command with a real SMTP relay on loopback — Debian's aiosmtpd (server.py) with
# STARTTLS and AUTH, its certificate from a throwaway CA — and the email_smtp settings for it
# appended as --config key=value arguments (how the SDK's conformance runner takes them):
#   with_smtp_server.sh COMMAND [ARGS...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

# shellcheck source=../service.sh
source "$here/../service.sh"
make_test_ca "$work"
mkdir "$work/mail"
/usr/bin/python3 "$here/server.py" --folder "$work/mail" --cert "$work/server.pem" --key "$work/server.key" \
  --user framehouse --password "relay secret" > "$work/out" 2> "$work/err" &
pid=$!
port="$(wait_until_listening "the SMTP server" "$work/out" "$work/err")"
[ -n "$port" ] || exit 1  # (the reason is on stderr)
status=0
"$@" --config "url=smtp://127.0.0.1:$port" --config username=framehouse --config "password=relay secret" \
  --config "ca_file=$work/ca.pem" || status=$?
exit "$status"
