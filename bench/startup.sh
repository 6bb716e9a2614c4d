#!/usr/bin/env bash
# Start-up and idle memory (issue 18): on a generated database (made here
# with `redress-bench generate` when DATA holds none), the schema brought
# up to date first (`redress migrate`: start-up is measured without
# pending migrations), then ROUNDS times: `redress serve` started, the
# milliseconds to its first 200 from /healthz (polled every 10 ms), and
# its VmRSS after IDLE seconds with no request. Prints each round and the
# medians.
#
#   BIN=DIR bench/startup.sh                       # 1,000,000 cases in bench/out/startup
#   BIN=DIR DATA=DIR CASES=200000 ROUNDS=5 bench/startup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?a directory with the release redress and redress-bench}"
CASES=${CASES:-1000000}
DATA=${DATA:-bench/out/startup}
ROUNDS=${ROUNDS:-5}
IDLE=${IDLE:-5}
PORT=${PORT:-18297}
KEY=$(printf '42%.0s' $(seq 32))
export REDRESS_DATA_DIR="$DATA" REDRESS_DATA_KEY=$KEY REDRESS_LOG=warn
if [ ! -f "$DATA/redress.sqlite3" ]; then
  mkdir -p "$DATA"
  "$BIN/redress-bench" generate --data-dir "$DATA" --cases "$CASES" --key "$KEY" | tail -1
fi
"$BIN/redress" migrate > /dev/null
cases=$(sqlite3 "$DATA/redress.sqlite3" 'SELECT sum(n) FROM case_counts' 2>/dev/null || echo "?")
echo "== start-up on $cases cases ($(du -sh "$DATA/redress.sqlite3" | cut -f1)), $ROUNDS rounds"
ms=(); rss=()
for r in $(seq "$ROUNDS"); do
  t0=$(date +%s%N)
  REDRESS_LISTEN=127.0.0.1:$PORT "$BIN/redress" serve > "$DATA/startup-server.log" 2>&1 &
  pid=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz"; do
    kill -0 $pid 2>/dev/null || { cat "$DATA/startup-server.log"; exit 1; }
    sleep 0.01
  done
  t=$(( ($(date +%s%N) - t0) / 1000000 ))
  sleep "$IDLE"
  m=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$pid/status")
  kill $pid; wait $pid 2>/dev/null || true
  echo "round=$r first_200_ms=$t idle_rss_mb=$m"
  ms+=("$t"); rss+=("$m")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median first_200_ms=$(median "${ms[@]}") idle_rss_mb=$(median "${rss[@]}")"
