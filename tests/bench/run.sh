#!/usr/bin/env bash
# HTTP benchmark, run by hand (not a test), all in one run on one machine:
#   - GET /healthz on framehouse against a bare Beast hello-world built with the same flags;
#   - authenticated GET /v1/me (bearer session token, SQLite) against /healthz and the baseline;
#   - sign-in cost (POST /v1/sessions) with the default argon2id parameters;
#   - /healthz while four clients sign in without pause, against /healthz alone;
#   - sign-up latency and /healthz with an email plugin whose send() takes 30 s;
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

# Sign-up latency and /healthz with an email plugin whose send() takes 30 s (mail waits in the
# outbox; its delivery workers are the only ones held), against the shipped email_outbox.
sed -e 's/127.0.0.1:18080/127.0.0.1:18082/' -e "s|$work/var|$work/slow|g" "$work/framehouse.toml" > "$work/slow.toml"
cat >> "$work/slow.toml" <<TOML
[plugins.slow_email]
path = "$build/tests/fixtures/slow_email.so"
delay_ms = 30000
call_timeout_ms = 60000
[email]
plugin = "slow_email"
TOML
"$build/framehouse" serve --config "$work/slow.toml" > "$work/slow.out" 2> "$work/slow.err" &
wait_for_line "$work/slow.out" listening
signup_median() {  # port tag -> median ms of 9 sign-ups
  local times=()
  for i in 1 2 3 4 5 6 7 8 9; do
    t=$(curl -s -o /dev/null -w '%{time_total}' -H 'Content-Type: application/json' \
      -d "{\"name\":\"B\",\"email\":\"$2$i@example.org\",\"password\":\"bench pass phrase 1\",\"date_of_birth\":\"1990-01-01\"}" \
      "http://127.0.0.1:$1/v1/accounts")
    times+=($(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}'))
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n 5p
}
signup_fast=$(signup_median 18080 fast)
signup_slow=$(signup_median 18082 slow)
read -r slow_healthz_rps slow_healthz_p99 < <(load http://127.0.0.1:18082/healthz)

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
awk -v a="$me_rps" -v b="$hello_rps" 'BEGIN {printf "/v1/me / beast hello-world throughput: %.2f\n", a / b}'
echo "sign-in (POST /v1/sessions, argon2id t=2 m=64 MiB p=1), median of 5: ${signin_median} ms"
echo
echo "GET /healthz while 4 clients sign in continuously, against /healthz alone (same server, same run)"
printf '%-22s %12s %10s\n' "GET /healthz alone" "$fh2_rps" "$fh2_p99"
printf '%-22s %12s %10s\n' "GET /healthz + sign-ins" "$busy_rps" "$busy_p99"
printf '%-22s %12s %10s\n' "POST /v1/sessions" "$signin_rps" "$signin_p99"
awk -v a="$busy_rps" -v b="$fh2_rps" 'BEGIN {printf "healthz during sign-ins / alone: %.2f\n", a / b}'
echo
echo "an email plugin taking 30 s per send(), against email_outbox (same run)"
echo "sign-up (POST /v1/accounts), median of 9: ${signup_fast} ms with email_outbox, ${signup_slow} ms with the 30 s plugin"
printf '%-22s %12s %10s\n' "GET /healthz (30 s mail)" "$slow_healthz_rps" "$slow_healthz_p99"
awk -v a="$slow_healthz_rps" -v b="$fh2_rps" 'BEGIN {printf "healthz with the 30 s plugin / with email_outbox: %.2f\n", a / b}'
echo "framehouse start-up (exec to listening, median of 5): ${startup_ms} ms"
echo "framehouse idle RSS with default plugins: $((idle_rss_kb / 1024)) MiB (${idle_rss_kb} kB); peak RSS under load: $((peak_rss_kb / 1024)) MiB"
