#!/usr/bin/env bash
# Runs the whole test suite against a built tree: unit, integration (SQLite and a real
# PostgreSQL 15 started here on a loopback port in a temp dir, stopped afterwards) and
# end-to-end tests.
#   tests/run-all.sh BUILD_DIR
set -euo pipefail
build_dir="$(cd "${1:?usage: run-all.sh BUILD_DIR}" && pwd)"
pg_bin="$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)"
[ -x "$pg_bin/initdb" ] || { echo "run-all: PostgreSQL 15 server binaries not found (apt-get install postgresql)" >&2; exit 1; }

pg_dir="$(mktemp -d /tmp/framehouse-pg.XXXXXX)"
pg_port="${FRAMEHOUSE_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}"
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_postgres() {
  as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast stop > /dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_postgres EXIT
[ "$(id -u)" -eq 0 ] && chown postgres "$pg_dir"
as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync > "$pg_dir/initdb.log"
as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -w -l "$pg_dir/server.log" \
  -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off" start > /dev/null
as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres framehouse_test
echo "run-all: PostgreSQL 15 on 127.0.0.1:$pg_port"

export FRAMEHOUSE_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/framehouse_test"
export FRAMEHOUSE_REQUIRE_POSTGRES=1
cd "$build_dir"
# Database tests share one PostgreSQL database: they run one at a time (RESOURCE_LOCK).
ctest --output-on-failure --parallel "$(nproc)" --timeout 600
