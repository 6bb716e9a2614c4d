#!/usr/bin/env bash
# The deadline engine's figures against a release build, each next to a
# baseline measured in the same run:
#   1. idle sweep ticks over $CASES open cases of which none is due, next
#      to as many point reads of one case (get_case)
#   2. one sweep over $DUE cases made due: items/s, exactly-once check;
#      next to the raw commit rate (one case row per transaction: SQLite
#      raw-commit, or raw-postgres from one connection)
#   3. GET /api/v1/calendar/due?working_days=365 next to GET /healthz
#
#   bench/deadlines.sh                      # 1,000,000 open cases, SQLite
#   CASES=20000 bench/deadlines.sh          # a quick check
#   DATABASE_URL=postgres://…/db bench/deadlines.sh  # an EMPTY PostgreSQL database
#   SKIP_CALENDAR=1 / SKIP_SWEEP=1          # one half only
#
# The open cases are generated once into $OUT/deadlines-$CASES (SQLite) and
# used again by later runs (for 30 days; see crates/redress-bench/src/deadlines.rs);
# each run adds its $DUE cases, which its sweep settles.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-1000000}
DUE=${DUE:-10000}
TICKS=${TICKS:-200}
ROUNDS=${ROUNDS:-2000}
PORT=${PORT:-18191}
OUT=${OUT:-bench/out}
KEY=$(printf '42%.0s' $(seq 32))
mkdir -p "$OUT"
# BIN=DIR: use the redress and redress-bench binaries in DIR as they are.
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p redress -p redress-bench
  BIN=${CARGO_TARGET_DIR:-target}/release
fi
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

if [ -z "${SKIP_SWEEP:-}" ]; then
  if [ -n "${DATABASE_URL:-}" ]; then
    DATA="$OUT/deadlines-pg-$CASES"
    DB_ARGS=(--database-url "$DATABASE_URL")
  else
    DATA="$OUT/deadlines-$CASES"
    DB_ARGS=()
    echo "== baseline: raw commit rate (one case row per transaction, WAL, synchronous=FULL)"
    rm -rf "$OUT/deadlines-raw"
    RAW=$("$BIN/redress-bench" raw-commit --dir "$OUT/deadlines-raw" --seconds 5)
    echo "$RAW"
    rm -rf "$OUT/deadlines-raw"
  fi
  # A store without the generator's marker is half-made: start afresh.
  if [ ! -f "$DATA/bench-sweep.json" ]; then rm -rf "$DATA"; fi
  echo "== deadline sweep: $CASES open cases, none due; then $DUE due"
  SWEEP=$("$BIN/redress-bench" sweep --data-dir "$DATA" "${DB_ARGS[@]}" --cases "$CASES" \
    --due "$DUE" --ticks "$TICKS" --key "$KEY")
  echo "$SWEEP"
  if [ -n "${DATABASE_URL:-}" ]; then
    echo "== baseline: raw inserts from one connection (one case row per transaction)"
    RAW=$("$BIN/redress-bench" raw-postgres --url "$DATABASE_URL" --clients 1 --seconds 5)
    echo "$RAW"
  fi
  if [ -n "${RAW:-}" ]; then
    raw_rate=$(sed -E 's/.*rate_per_s=([0-9.]+).*/\1/' <<<"$RAW")
    ips=$(sed -nE 's/^sweep_due .*items_per_s=([0-9.]+).*/\1/p' <<<"$SWEEP")
    awk -v a="$ips" -v b="$raw_rate" 'BEGIN { printf "sweep_due/raw ratio = %.2f (cases swept per s / rows committed per s)\n", a/b }'
  fi
fi

if [ -z "${SKIP_CALENDAR:-}" ]; then
  echo "== GET /api/v1/calendar/due?working_days=365 vs GET /healthz, $ROUNDS sequential keep-alive requests each"
  rm -rf "$OUT/deadlines-calendar"
  REDRESS_DATA_DIR="$OUT/deadlines-calendar" REDRESS_DATA_KEY=$KEY REDRESS_LISTEN=127.0.0.1:$PORT \
  REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw REDRESS_LOG=warn \
    "$BIN/redress" serve > "$OUT/deadlines-server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "server did not start"; cat "$OUT/deadlines-server.log"; exit 1; }
  "$BIN/redress-bench" calendar --addr 127.0.0.1:$PORT --rounds "$ROUNDS" --working-days 365
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=
fi
