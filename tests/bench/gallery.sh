#!/usr/bin/env bash
# The gallery with 1,000 videos against two pages of them (48, the baseline), in Chromium, in one run:
# the first page on screen, every further page ("Older") to the last, the longest main-thread
# task, and the frame times of a scroll of the page (tests/compat/browser/gallery_bench.mjs).
# The videos are rows made directly in the database (their files do not exist: the cards show
# no thumbnail), so that only the app and the API are measured.
#
#   tests/bench/gallery.sh [BUILD_DIR]     (needs Chromium and `npm ci` in tests/compat/browser)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$(cd "${1:-$here/build}" && pwd)"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
port=18090

cat > "$work/framehouse.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
data_dir = "$work/var"
[log]
level = "warn"
[database]
url = "sqlite:$work/var/framehouse.db"
[plugins]
directory = "$build/plugins"
[plugins.storage_fs]
[plugins.email_outbox]
[plugins.gen_procedural]
[generation]
plugin = "gen_procedural"
TOML

password="a bench pass phrase"
for who in few many; do
  echo "$password" | "$build/framehouse" admin create-user --config "$work/framehouse.toml" --email "$who@example.org" \
    --name "$who" > /dev/null
done
# Two pages of videos for one person, 1,000 for the other; prompts of a realistic length.
/usr/bin/python3 - "$work/var/framehouse.db" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
now = int(time.time())
for email, count in (("few@example.org", 48), ("many@example.org", 1000)):
    owner = db.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()[0]
    db.executemany(
        "INSERT INTO videos (id, owner_id, status, model, prompt, width, height, seconds, fps, seed, progress,"
        " cancel_requested, attempts, created_at, started_at, completed_at, expires_at)"
        " VALUES (?, ?, 'completed', 'procedural', ?, 1280, 720, 4, 24, ?, 100, 0, 1, ?, ?, ?, ?)",
        [(f"video_{owner[-8:]}_{i:05d}", owner, f"a slow pan over a harbour at dusk, boats number {i}, warm light", i,
          now - 60 * i, now - 60 * i, now - 60 * i + 20, now + 30 * 86400) for i in range(count)])
db.commit()
PY

"$build/framehouse" serve --config "$work/framehouse.toml" > "$work/out" 2> "$work/err" &
for _ in $(seq 1 500); do grep -q "listening on" "$work/out" 2>/dev/null && break; sleep 0.02; done

run() {  # email -> JSON figures
  ORIGIN="http://127.0.0.1:$port" EMAIL="$1" PASSWORD="$password" node "$here/tests/compat/browser/gallery_bench.mjs"
}
baseline="$(run few@example.org)"
many="$(run many@example.org)"
/usr/bin/python3 - "$baseline" "$many" <<'PY'
import json, sys
base, many = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"{'':28}{'48 videos':>16}{'1,000 videos':>16}{'ratio':>8}")
for key, label in (("pages", "pages"), ("cards", "cards on the last page"), ("first_page_ms", "first page on screen, ms"),
                   ("page_turn_ms", "a further page, mean ms"), ("slowest_page_ms", "slowest further page, ms"), ("longest_task_ms", "longest task, ms"),
                   ("long_tasks", "long tasks (> 50 ms)"), ("frame_p50_ms", "scroll frame p50, ms"),
                   ("frame_p95_ms", "scroll frame p95, ms"), ("frame_max_ms", "scroll frame max, ms")):
    b, m = base[key], many[key]
    ratio = f"{m / b:.2f}" if b else "-"
    print(f"{label:28}{b:>16}{m:>16}{ratio:>8}")
PY
