#!/usr/bin/env bash
# Search latency (issue 16 item 10) on a generated database, each figure
# beside a plain list of the same run:
#   bench/search.sh                       # 200,000 cases in bench/out/search-200000
#   CASES=1000000 bench/search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-200000}
PORT=${PORT:-18292}
KEY=$(printf '42%.0s' $(seq 32))
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p redress -p redress-bench
  BIN=${CARGO_TARGET_DIR:-target}/release
fi
D=${DATA:-bench/out/search-$CASES}
if [ ! -f "$D/bench-ids.txt" ]; then
  rm -rf "$D"
  "$BIN/redress-bench" generate --data-dir "$D" --cases "$CASES" --key "$KEY"
fi
REDRESS_DATA_DIR=$D REDRESS_DATA_KEY=$KEY REDRESS_USER_PASSWORD=bench-super-pw $BIN/redress user add bench-super --role supervisor >/dev/null 2>&1 || true
REDRESS_DATA_DIR=$D REDRESS_DATA_KEY=$KEY REDRESS_LISTEN=127.0.0.1:$PORT REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_TOKEN_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw REDRESS_LOG=warn $BIN/redress serve > "$D/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" -d '{"username":"bench-super","password":"bench-super-pw"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
q() { # name query
  for i in $(seq 60); do curl -s -o /dev/null -w '%{time_total}\n' -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/complaints?$2"; done \
   | sort -n | awk -v n="$1" '{a[NR]=$1} END {printf "%s p50=%.1fms p95=%.1fms\n", n, a[int(NR*0.5)]*1000, a[int(NR*0.95)]*1000}'
}
curl -s -H "authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/complaints?q=%E9%80%80%E6%AC%BE&limit=1" | head -c 300; echo
for round in 1 2; do
q "plain list (baseline)" "limit=50"
q "q=退款 relevance" "q=%E9%80%80%E6%AC%BE&limit=50"
q "q=退款 newest (count capped)" "q=%E9%80%80%E6%AC%BE&sort=newest&limit=50"
q "rare term" "q=zzqx&limit=50"
done
