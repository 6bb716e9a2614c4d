#!/usr/bin/env bash
# Server memory (VmRSS) after each kind of insight query (issue 16's RSS
# bar), on a database generated beforehand (bench/due-list.sh or
# bench/run.sh make one, with the bench-super supervisor):
#
#   BIN=DIR DATA=bench/out/due-1000000 bench/report-rss.sh [VAR=value ...]
#   EXPORTS=0 ...   # without the two all-time CSVs at the end
#
# Each query runs ten times, then RSS is printed; extra VAR=value words go
# into the server's environment (MALLOC_ARENA_MAX=1, say) to tell the
# allocator's share from live memory.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?a directory with the release redress}" "${DATA:?a generated data directory}"
KEY=$(printf '42%.0s' $(seq 32))
PORT=${PORT:-18295}
env "$@" REDRESS_DATA_DIR="$DATA" REDRESS_DATA_KEY=$KEY REDRESS_LISTEN=127.0.0.1:$PORT \
  REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_TOKEN_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw \
  REDRESS_LOG=warn "$BIN/redress" serve > "$DATA/rss-server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" \
  -d '{"username":"bench-super","password":"bench-super-pw"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
get() { curl -sf -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/$1"; }
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$PID/status"; }
# The peak since start (VmHWM): the "throughout" of the streamed exports.
hwm() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$PID/status"; }
today=$(TZ=Asia/Shanghai date +%F)
year_ago=$(TZ=Asia/Shanghai date -d '364 days ago' +%F)
month_ago=$(TZ=Asia/Shanghai date -d '29 days ago' +%F)
# All time: the longest period a report takes (twenty years).
all_from=$(TZ=Asia/Shanghai date -d '7299 days ago' +%F)
case_id=$(get "complaints?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])')
echo "start: $(rss) MB"
for q in "complaints?q=%E9%80%80%E6%AC%BE&limit=50" "complaints/$case_id/similar" \
  "reports/summary?from=$year_ago&to=$today" "reports/summary?from=$all_from&to=$today" \
  "reports/summary?from=$year_ago&to=$today&interval=day" "reports/respondents?from=$year_ago&to=$today" \
  "alerts?from=$month_ago&to=$today"; do
  for _ in $(seq 10); do get "$q" > /dev/null; done
  echo "$(rss) MB after $q (peak so far $(hwm) MB)"
done
# The streamed CSVs of all time, once each (the cases' export is a
# million rows): RSS after, and the peak while they streamed (VmHWM
# reset before them).
[ "${EXPORTS:-1}" = 1 ] || exit 0
# The peak from here on: writing 5 to clear_refs resets VmHWM.
echo 5 > "/proc/$PID/clear_refs"
for q in "reports/summary.csv?from=$all_from&to=$today" "exports/cases.csv?from=$all_from&to=$today"; do
  started=$(date +%s.%N)
  bytes=$(get "$q" | wc -c)
  took=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "$(rss) MB after $q ($bytes bytes in $took s; peak so far $(hwm) MB)"
done
sleep 3
echo "after 3 s idle: $(rss) MB"
