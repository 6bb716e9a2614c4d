#!/usr/bin/env bash
# CPU seconds used per command name over N seconds (default 10), from
# /proc/*/stat: run it beside a benchmark to see who uses the cores.
#   bench/cpu-split.sh 10
set -euo pipefail
snap() {
  for p in /proc/[0-9]*; do
    [ -r "$p/stat" ] && awk '{ gsub(/[()]/, "", $2); print $2, $14 + $15 }' "$p/stat" 2>/dev/null
  done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }' | sort
}
before=$(mktemp); after=$(mktemp)
snap > "$before"; sleep "${1:-10}"; snap > "$after"
hz=$(getconf CLK_TCK)
join "$before" "$after" | awk -v hz="$hz" '{ d = ($3 - $2) / hz; if (d > 0.05) printf "%-20s %.2f s\n", $1, d }' | sort -k2 -nr
rm -f "$before" "$after"
