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

"$here/../make_test_ca.sh" "$work"
mkdir "$work/mail"
/usr/bin/python3 "$here/server.py" --folder "$work/mail" --cert "$work/server.pem" --key "$work/server.key" \
  --user framehouse --password "relay secret" > "$work/out" 2> "$work/err" &
pid=$!
for _ in $(seq 200); do
  grep -q "^listening on" "$work/out" && break
  sleep 0.1
done
port="$(sed -n 's/^listening on //p' "$work/out")"
if [ -z "$port" ]; then
  echo "with_smtp_server.sh: the SMTP server did not start:" >&2
  cat "$work/err" >&2
  exit 1
fi
status=0
"$@" --config "url=smtp://127.0.0.1:$port" --config username=framehouse --config "password=relay secret" \
  --config "ca_file=$work/ca.pem" || status=$?
exit "$status"
