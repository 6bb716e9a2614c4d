#!/usr/bin/env bash
# Runs the foundation benchmarks against a release build and prints the
# figures, each next to the baseline measured in the same run.
#
#   bench/run.sh                 # intake + 1,000,000-case queries
#   CASES=200000 bench/run.sh    # a smaller database
#   SKIP_QUERIES=1 bench/run.sh  # intake only
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-1000000}
SECONDS_RUN=${SECONDS_RUN:-20}
CLIENTS=${CLIENTS:-32}
PORT=${PORT:-18181}
OUT=${OUT:-bench/out}
KEY=$(printf '42%.0s' $(seq 32))
mkdir -p "$OUT"
# BIN=DIR: use the redress and redress-bench binaries in DIR as they are
# (e.g. a copy of an earlier build, for a before/after comparison).
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p redress -p redress-bench
  BIN=${CARGO_TARGET_DIR:-target}/release
fi
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

start_server() { # data dir
  REDRESS_DATA_DIR="$1" REDRESS_DATA_KEY=$KEY REDRESS_LISTEN=127.0.0.1:$PORT \
  REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw REDRESS_LOG=warn \
    "$BIN/redress" serve > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start"; cat "$OUT/server.log"; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$SERVER_PID/stat"; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER_PID/status"; }

echo "== intake: $CLIENTS clients for ${SECONDS_RUN}s vs the raw commit rate"
rm -rf "$OUT/raw" "$OUT/intake"
RAW=$("$BIN/redress-bench" raw-commit --dir "$OUT/raw" --seconds 10)
echo "$RAW"
start_server "$OUT/intake"
cpu0=$(server_cpu)
INTAKE=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" --seconds "$SECONDS_RUN"; times > "$OUT/times")
cpu1=$(server_cpu)
echo "$INTAKE"
stop_server
# CPU per registration: the server's over the load (bench/intake-cpu.sh
# compares two binaries), the load generator's beside it.
awk -v c0="$cpu0" -v c1="$cpu1" -v line="$INTAKE" 'NR == 2 {
  split($1, u, /[ms]/); split($2, s, /[ms]/); client = u[1] * 60 + u[2] + s[1] * 60 + s[2]
  match(line, /requests=[0-9]+/); n = substr(line, RSTART + 9, RLENGTH - 9)
  match(line, /non_2xx=[0-9]+/); n -= substr(line, RSTART + 8, RLENGTH - 8)
  printf "server CPU %.2f s = %.3f ms per registration (target <= 0.25); load generator %.2f s = %.3f ms\n",
    c1 - c0, 1000 * (c1 - c0) / n, client, 1000 * client / n
}' "$OUT/times"
raw_rate=$(sed -E 's/.*rate_per_s=([0-9.]+).*/\1/' <<<"$RAW")
rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$INTAKE")
awk -v a="$rps" -v b="$raw_rate" 'BEGIN { printf "intake/raw_commit ratio = %.2f (target >= 3.00)\n", a/b }'

if [ -n "${SKIP_QUERIES:-}" ]; then exit 0; fi
echo "== queries at $CASES cases"
DATA="$OUT/big-$CASES"
if [ ! -f "$DATA/bench-ids.txt" ]; then
  rm -rf "$DATA"
  "$BIN/redress-bench" generate --data-dir "$DATA" --cases "$CASES" --key "$KEY"
fi
REDRESS_DATA_DIR="$DATA" REDRESS_DATA_KEY=$KEY REDRESS_USER_PASSWORD=bench-super-pw \
  "$BIN/redress" user add bench-super --role supervisor >/dev/null 2>&1 || true
start_server "$DATA"
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" \
  -d '{"username":"bench-super","password":"bench-super-pw"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
"$BIN/redress-bench" queries --addr 127.0.0.1:$PORT --token "$TOKEN" --ids "$DATA/bench-ids.txt" --rounds 200
echo "server RSS after queries: $(rss_mb) MB (target < 150)"
stop_server
