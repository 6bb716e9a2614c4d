#!/usr/bin/env bash
# Intake CPU (issue 18): server CPU per registration on SQLite, with the
# load generator's CPU beside the req/s, for one or two server binaries
# measured in the same run (alternating), each round next to the raw
# commit rate measured in that round.
#
#   bench/intake-cpu.sh                                          # this build
#   BEFORE=/var/tmp/redress-before/redress bench/intake-cpu.sh   # before vs this build
#   ROUNDS=3 SECONDS_RUN=10 WRK=0 bench/intake-cpu.sh
#   NO_BUILD=1 AFTER=/path/to/redress ...                      # binaries as they are
#
# Per run: a fresh data directory, `redress serve`, then the load for
# SECONDS_RUN seconds: `redress-bench intake` (32 keep-alive clients) and,
# when `wrk` is installed (WRK=1, the default when it is), a wrk run with
# bench/wrk-intake.lua (2 threads, 32 connections). The server's CPU is
# utime+stime from /proc/PID/stat over the load only (start-up excluded),
# divided by the 2xx registrations; the client's CPU is its own user+sys
# (bash `times` around it). The last lines are the medians per binary and
# tool.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${SECONDS_RUN:-10}
RAW_SECONDS=${RAW_SECONDS:-10}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-32}
PORT=${PORT:-18191}
OUT=${OUT:-bench/out/intake-cpu}
KEY=$(printf '42%.0s' $(seq 32))
if [ -z "${WRK:-}" ]; then
  if command -v wrk >/dev/null; then WRK=1; else WRK=0; echo "(wrk not installed: bench client only)"; fi
fi
mkdir -p "$OUT"
if [ -z "${NO_BUILD:-}" ]; then cargo build --release -q -p redress -p redress-bench; fi
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release}
AFTER=${AFTER:-$BIN/redress}
HZ=$(getconf CLK_TCK)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

start_server() { # binary data-dir
  REDRESS_DATA_DIR="$2" REDRESS_DATA_KEY=$KEY REDRESS_LISTEN=127.0.0.1:$PORT \
  REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw REDRESS_LOG=warn \
    "$1" serve > "$OUT/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.2; done
  echo "server did not start"; cat "$OUT/server.log"; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
# CPU seconds (user+sys) of the server so far.
server_cpu() { awk -v hz="$HZ" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$SERVER_PID/stat"; }
# Runs a command, then prints its children's user+sys CPU seconds on the
# last line (bash `times`, second line).
with_cpu() {
  "$@"
  times > "$OUT/times"
  awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "client_cpu_s=%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$OUT/times"
}
field() { sed -nE "s/.*[ ^]$1=([0-9.]+).*/\1/p" <<<" $2" | head -1; }

RESULTS="$OUT/results.txt"
: > "$RESULTS"
BINS=(after)
[ -n "${BEFORE:-}" ] && BINS=(before after)
run=0
# The raw commit rate (the baseline) of each binary is measured with the
# redress-bench built with it (BEFORE_BENCH, default redress-bench beside
# BEFORE, else this build's): the same store code as that server.
BEFORE_BENCH=${BEFORE_BENCH:-$( [ -n "${BEFORE:-}" ] && [ -x "$(dirname "${BEFORE:-x}")/redress-bench" ] && echo "$(dirname "$BEFORE")/redress-bench" || echo "$BIN/redress-bench")}
for round in $(seq "$ROUNDS"); do
  declare -A RAWS=()
  for which in "${BINS[@]}"; do
    if [ "$which" = before ]; then rb=$BEFORE_BENCH; else rb=$BIN/redress-bench; fi
    rm -rf "$OUT/raw"
    RAW=$("$rb" raw-commit --dir "$OUT/raw" --seconds "$RAW_SECONDS")
    RAWS[$which]=$(field rate_per_s "$RAW")
    echo "round $round $which: $RAW"
  done
  # Alternate which binary goes first from round to round.
  order=("${BINS[@]}")
  if [ $((round % 2)) -eq 0 ] && [ ${#BINS[@]} -eq 2 ]; then order=(after before); fi
  for which in "${order[@]}"; do
    if [ "$which" = before ]; then exe=$BEFORE; else exe=$AFTER; fi
    raw=${RAWS[$which]}
    tools=(bench)
    [ "$WRK" = 1 ] && tools+=(wrk)
    for tool in "${tools[@]}"; do
      run=$((run + 1))
      rm -rf "$OUT/data"
      start_server "$exe" "$OUT/data"
      c0=$(server_cpu)
      if [ "$tool" = bench ]; then
        LINE=$(with_cpu "$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" \
          --seconds "$SECONDS_RUN" --offset $((run * 10000000)) | tr '\n' ' ')
      else
        LINE=$(WRK_OFFSET=$((run * 10000000)) with_cpu wrk -t2 -c"$CLIENTS" -d"${SECONDS_RUN}s" \
          -s bench/wrk-intake.lua "http://127.0.0.1:$PORT" | grep -E '^(wrk |client_cpu_s)' | tr '\n' ' ')
      fi
      c1=$(server_cpu)
      stop_server
      req=$(field requests "$LINE"); bad=$(field non_2xx "$LINE")
      rps=$(field rps "$LINE"); p99=$(field p99_ms "$LINE"); ccpu=$(field client_cpu_s "$LINE")
      awk -v r="$round" -v w="$which" -v t="$tool" -v raw="$raw" -v rps="$rps" -v p99="$p99" \
          -v req="$req" -v bad="$bad" -v c0="$c0" -v c1="$c1" -v cc="$ccpu" 'BEGIN {
        ok = req - bad; s = c1 - c0
        printf "round=%s bin=%s tool=%s rps=%.1f ratio=%.2f p99_ms=%.2f non_2xx=%d registrations=%d server_cpu_s=%.2f ms_cpu_per_reg=%.3f client_cpu_s=%.2f client_ms_per_reg=%.3f raw=%.1f\n",
          r, w, t, rps, rps / raw, p99, bad, ok, s, 1000 * s / ok, cc, 1000 * cc / ok, raw
      }' | tee -a "$RESULTS"
    done
  done
done

echo "== medians over $ROUNDS round(s) (ratio: req/s over the raw commit rate of the same round, measured with that binary's store code)"
for which in "${BINS[@]}"; do
  for tool in bench wrk; do
    grep -q "bin=$which tool=$tool " "$RESULTS" || continue
    med() { grep "bin=$which tool=$tool " "$RESULTS" | sed -nE "s/.* $1=([0-9.]+).*/\1/p" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
    printf "%-6s %-5s rps=%s ratio=%s p99_ms=%s ms_cpu_per_reg=%s client_ms_per_reg=%s\n" \
      "$which" "$tool" "$(med rps)" "$(med ratio)" "$(med p99_ms)" "$(med ms_cpu_per_reg)" "$(med client_ms_per_reg)"
  done
done
