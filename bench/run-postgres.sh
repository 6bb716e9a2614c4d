#!/usr/bin/env bash
# PostgreSQL figures of the multi-instance issue, each next to a baseline
# measured in the same run on the same server:
#   1. raw: one case row per transaction from $CLIENTS connections into a
#      copy of the cases table (same columns, indexes, defaults)
#   2. intake through one `redress serve` on PostgreSQL, $CLIENTS clients
#   3. intake through two instances on the same database, clients split
#   4. the queue queries at $CASES cases
#
#   bench/run-postgres.sh
#   CASES=200000 bench/run-postgres.sh
#   SKIP_QUERIES=1 bench/run-postgres.sh
# Needs a PostgreSQL server (PGURL, default the local trust-auth one) and
# the right to create databases on it.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-1000000}
SECONDS_RUN=${SECONDS_RUN:-20}
CLIENTS=${CLIENTS:-32}
PORT=${PORT:-18181}
PORT2=$((PORT + 1))
OUT=${OUT:-bench/out}
PGBASE=${PGBASE:-postgres://postgres@127.0.0.1:5432}
KEY=$(printf '42%.0s' $(seq 32))
mkdir -p "$OUT"
# BIN=DIR: use the redress and redress-bench binaries in DIR as they are
# (e.g. a copy of an earlier build, for a before/after comparison).
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p redress -p redress-bench
  BIN=${CARGO_TARGET_DIR:-target}/release
fi
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

fresh_db() { # name
  psql "$PGBASE/postgres" -qAt -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
}

start_server() { # port database-url data-dir log
  REDRESS_DATABASE_URL="$2" REDRESS_DATA_DIR="$3" REDRESS_DATA_KEY=$KEY \
  REDRESS_LISTEN=127.0.0.1:$1 REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw \
  REDRESS_LOG=warn "$BIN/redress" serve > "$4" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 150); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start"; cat "$4"; exit 1
}
stop_servers() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; PIDS=(); }

rate() { sed -E "s/.*$1=([0-9.]+).*/\\1/" <<<"$2"; }

DB=redress_bench_intake
fresh_db $DB
URL="$PGBASE/$DB"
echo "== PostgreSQL: $CLIENTS clients, ${SECONDS_RUN}s each"
start_server $PORT "$URL" "$OUT/pg-a" "$OUT/pg-a.log"   # creates the schema
RAW=$("$BIN/redress-bench" raw-postgres --url "$URL" --clients "$CLIENTS" --seconds 10)
echo "$RAW"
ONE=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" --seconds "$SECONDS_RUN")
echo "one instance:  $ONE"
start_server $PORT2 "$URL" "$OUT/pg-b" "$OUT/pg-b.log"
TWO=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT,127.0.0.1:$PORT2 --clients "$CLIENTS" --seconds "$SECONDS_RUN")
echo "two instances: $TWO"
stop_servers
REDRESS_DATABASE_URL="$URL" REDRESS_DATA_DIR="$OUT/pg-a" REDRESS_DATA_KEY=$KEY \
  "$BIN/redress" audit verify
awk -v a="$(rate rps "$ONE")" -v b="$(rate rate_per_s "$RAW")" -v p="$(rate p99_ms "$ONE")" \
  'BEGIN { printf "intake/raw ratio = %.2f (target >= 0.50), intake p99 = %.1f ms (target < 50)\n", a/b, p }'
awk -v a="$(rate rps "$TWO")" -v b="$(rate rps "$ONE")" \
  'BEGIN { printf "two instances/one instance = %.2f\n", a/b }'

if [ -n "${SKIP_QUERIES:-}" ]; then exit 0; fi
echo "== queries at $CASES cases on PostgreSQL"
BIG=redress_bench_big_$CASES
DATA="$OUT/pg-big-$CASES"
if [ ! -f "$DATA/bench-ids.txt" ] || ! psql "$PGBASE/$BIG" -qAt -c "SELECT 1" >/dev/null 2>&1; then
  rm -rf "$DATA"; fresh_db "$BIG"
  "$BIN/redress-bench" generate --data-dir "$DATA" --database-url "$PGBASE/$BIG" --cases "$CASES" --key "$KEY"
  psql "$PGBASE/$BIG" -qAt -c "VACUUM ANALYZE" >/dev/null
fi
REDRESS_DATABASE_URL="$PGBASE/$BIG" REDRESS_DATA_DIR="$DATA" REDRESS_DATA_KEY=$KEY \
  REDRESS_USER_PASSWORD=bench-super-pw "$BIN/redress" user add bench-super --role supervisor >/dev/null 2>&1 || true
start_server $PORT "$PGBASE/$BIG" "$DATA" "$OUT/pg-big.log"
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" \
  -d '{"username":"bench-super","password":"bench-super-pw"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
"$BIN/redress-bench" queries --addr 127.0.0.1:$PORT --token "$TOKEN" --ids "$DATA/bench-ids.txt" --rounds 200
stop_servers
