#!/usr/bin/env bash
# HTTP benchmark, run by hand (not a test), all in one run on one machine:
#   - GET /healthz on framehouse against a bare Beast hello-world built with the same flags;
#   - authenticated GET /v1/me (bearer session token, SQLite) against /healthz;
#   - sign-in cost (POST /v1/sessions) with the default argon2id parameters;
#   - idle RSS and start-up time with every default plugin loaded.
#
#   tests/bench/run.sh [BUILD_DIR]        (needs wrk: apt-get install wrk)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"  # absolute: the config file below lives elsewhere
duration="${BENCH_DURATION:-10s}"
connections="${BENCH_CONNECTIONS:-64}"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/framehouse.toml" <<TOML
[server]
listen = "127.0.0.1:18080"
threads = 2
data_dir = "$work/var"
[log]
level = "warn"
[database]
url = "sqlite:$work/var/framehouse.db"
[plugins]
directory = "$build/plugins"
[plugins.storage_fs]
[plugins.email_outbox]
TOML

wait_for_line() {  # file, needle
  for _ in $(seq 1 500); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.01; done
  echo "timed out waiting for '$2' in $1" >&2; return 1
}

load() {  # url -> "requests/s p99"
  load_with_token "$1" ""
}

load_with_token() {  # url token -> "requests/s p99"
  local out
  if [ -n "$2" ]; then
    out="$(wrk -t2 -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $2" "$1")"
  else
    out="$(wrk -t2 -c"$connections" -d"$duration" --latency "$1")"
  fi
  local rps p99
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  echo "$rps $p99"
}

# Start-up time: from exec to "listening", median of 5 cold-ish starts on a fresh data dir.
startups=()
for i in 1 2 3 4 5; do
  rm -rf "$work/var"
  start=$(date +%s%N)
  "$build/framehouse" serve --config "$work/framehouse.toml" > "$work/out.$i" 2> "$work/err.$i" &
  pid=$!
  wait_for_line "$work/out.$i" listening
  end=$(date +%s%N)
  startups+=($(( (end - start) / 1000000 )))
  kill -TERM $pid; wait $pid || true
done
startup_ms=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n 3p)

"$build/framehouse" serve --config "$work/framehouse.toml" > "$work/out" 2> "$work/err" &
fh=$!
wait_for_line "$work/out" listening
sleep 1
idle_rss_kb=$(awk '/VmRSS/ {print $2}' /proc/$fh/status)

"$build/tests/bench/bench_beast_hello" 18081 2 > "$work/hello.out" &
hello=$!
wait_for_line "$work/hello.out" listening

wrk -t2 -c"$connections" -d2s http://127.0.0.1:18081/healthz > /dev/null  # warm-up
read -r hello_rps hello_p99 < <(load http://127.0.0.1:18081/healthz)
wrk -t2 -c"$connections" -d2s http://127.0.0.1:18080/healthz > /dev/null
read -r fh_rps fh_p99 < <(load http://127.0.0.1:18080/healthz)
peak_rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$fh/status)

# An account, a session, and the authenticated endpoint.
printf 'bench pass phrase 1\n' | "$build/framehouse" admin create-user --config "$work/framehouse.toml" \
  --email bench@example.org --name Bench > /dev/null
signin_ms=()
for i in 1 2 3 4 5; do
  t=$(curl -s -o "$work/session.json" -w '%{time_total}' -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.org","password":"bench pass phrase 1"}' http://127.0.0.1:18080/v1/sessions)
  signin_ms+=($(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}'))
done
signin_median=$(printf '%s\n' "${signin_ms[@]}" | sort -n | sed -n 3p)
token=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$work/session.json")
wrk -t2 -c"$connections" -d2s -H "Authorization: Bearer $token" http://127.0.0.1:18080/v1/me > /dev/null
read -r me_rps me_p99 < <(load_with_token http://127.0.0.1:18080/v1/me "$token")
read -r fh2_rps fh2_p99 < <(load http://127.0.0.1:18080/healthz)

# /healthz while four clients sign in without pause (argon2id runs on the CPU threads, handlers
# wait for it on the handler threads, and the I/O threads stay free).
cat > "$work/signin.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"bench@example.org","password":"bench pass phrase 1"}'
wrk.headers["Content-Type"] = "application/json"
LUA
seconds="${duration%s}"
wrk -t1 -c4 -d"$((seconds + 2))s" --latency -s "$work/signin.lua" http://127.0.0.1:18080/v1/sessions > "$work/signin.out" &
signers=$!
sleep 1
read -r busy_rps busy_p99 < <(load http://127.0.0.1:18080/healthz)
wait $signers
signin_rps="$(awk '/Requests\/sec/ {print $2}' "$work/signin.out")"
signin_p99="$(awk '$1 == "99%" {print $2}' "$work/signin.out")"

echo "benchmark: GET /healthz, wrk -t2 -c$connections -d$duration, both servers 2 threads, same machine and run"
printf '%-22s %12s %10s\n' "server" "requests/s" "p99"
printf '%-22s %12s %10s\n' "beast hello-world" "$hello_rps" "$hello_p99"
printf '%-22s %12s %10s\n' "framehouse" "$fh_rps" "$fh_p99"
awk -v a="$fh_rps" -v b="$hello_rps" 'BEGIN {printf "framehouse / baseline throughput: %.2f\n", a / b}'
echo
echo "authenticated GET /v1/me (SQLite, session token) against GET /healthz, same server, same run"
printf '%-22s %12s %10s\n' "GET /healthz" "$fh2_rps" "$fh2_p99"
printf '%-22s %12s %10s\n' "GET /v1/me" "$me_rps" "$me_p99"
awk -v a="$me_rps" -v b="$fh2_rps" 'BEGIN {printf "/v1/me / healthz throughput: %.2f\n", a / b}'
echo "sign-in (POST /v1/sessions, argon2id t=2 m=64 MiB p=1), median of 5: ${signin_median} ms"
echo
echo "GET /healthz while 4 clients sign in continuously, against /healthz alone (same server, same run)"
printf '%-22s %12s %10s\n' "GET /healthz alone" "$fh2_rps" "$fh2_p99"
printf '%-22s %12s %10s\n' "GET /healthz + sign-ins" "$busy_rps" "$busy_p99"
printf '%-22s %12s %10s\n' "POST /v1/sessions" "$signin_rps" "$signin_p99"
awk -v a="$busy_rps" -v b="$fh2_rps" 'BEGIN {printf "healthz during sign-ins / alone: %.2f\n", a / b}'
echo "framehouse start-up (exec to listening, median of 5): ${startup_ms} ms"
echo "framehouse idle RSS with default plugins: $((idle_rss_kb / 1024)) MiB (${idle_rss_kb} kB); peak RSS under load: $((peak_rss_kb / 1024)) MiB"
