#!/usr/bin/env bash
# HTTP benchmark, run by hand (not a test): requests/s and p99 latency of GET /healthz on
# framehouse against a bare Beast hello-world built with the same flags, in the same run, plus
# framehouse's idle RSS and start-up time with every default plugin loaded.
#
#   tests/bench/run.sh [BUILD_DIR]        (needs wrk: apt-get install wrk)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
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
  local out
  out="$(wrk -t2 -c"$connections" -d"$duration" --latency "$1")"
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

echo "benchmark: GET /healthz, wrk -t2 -c$connections -d$duration, both servers 2 threads, same machine and run"
printf '%-22s %12s %10s\n' "server" "requests/s" "p99"
printf '%-22s %12s %10s\n' "beast hello-world" "$hello_rps" "$hello_p99"
printf '%-22s %12s %10s\n' "framehouse" "$fh_rps" "$fh_p99"
awk -v a="$fh_rps" -v b="$hello_rps" 'BEGIN {printf "framehouse / baseline throughput: %.2f\n", a / b}'
echo "framehouse start-up (exec to listening, median of 5): ${startup_ms} ms"
echo "framehouse idle RSS with default plugins: $((idle_rss_kb / 1024)) MiB (${idle_rss_kb} kB); peak RSS under load: $((peak_rss_kb / 1024)) MiB"
