#!/usr/bin/env bash
# What keeping the report rollups costs intake (issue 16: at most 10 %):
# this tree's server against the same tree with the rollup writes removed,
# measured in the same run by bench/intake-cpu.sh (alternating binaries,
# each round beside its raw commit rate; bench client and wrk).
#
#   bench/rollup-cost.sh                       # builds both, then measures
#   NO_BUILD=1 WITH=DIR WITHOUT=DIR bench/rollup-cost.sh   # binaries as they are
#
# "Without" is a detached worktree of HEAD (outside the repository, in
# $WORK, default /var/tmp/redress-rollup-cost) in which the function that
# writes a group's counters returns at once: `rollups::apply` on SQLite,
# `rollups::apply_group` on PostgreSQL. Nothing else differs, so the
# cases, journal, search index and acknowledgement path are the same.
# ROUNDS, SECONDS_RUN, WRK as for bench/intake-cpu.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/var/tmp/redress-rollup-cost}
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release -q -p redress -p redress-bench
  WITH=${CARGO_TARGET_DIR:-target}/release
  rm -rf "$WORK/src"; git worktree prune
  git worktree add --detach "$WORK/src" HEAD >/dev/null
  python3 - "$WORK/src" <<'PY'
import sys
root = sys.argv[1]
for path, head in [
    ("crates/redress-sqlite/src/rollups.rs",
     "pub fn apply(conn: &Connection, changes: &[(RollupKey, i64)]) -> StoreResult<()> {\n"),
    ("crates/redress-postgres/src/rollups.rs",
     "pub fn apply_group(client: &mut Client, changes: Vec<(RollupKey, i64)>) -> StoreResult<()> {\n"),
]:
    p = f"{root}/{path}"
    s = open(p).read()
    assert head in s, f"{path}: the function to stub has moved"
    s = s.replace(head, head + "    if std::hint::black_box(true) {\n        return Ok(());\n    }\n", 1)
    open(p, "w").write(s)
PY
  (cd "$WORK/src" && CARGO_TARGET_DIR="$WORK/target" cargo build --release -q -p redress -p redress-bench)
  WITHOUT=$WORK/target/release
fi
: "${WITH:?}" "${WITHOUT:?}"
echo "== before = without rollups ($WITHOUT), after = with ($WITH)"
OUT=${OUT:-bench/out/rollup-cost} NO_BUILD=1 BEFORE="$WITHOUT/redress" BEFORE_BENCH="$WITHOUT/redress-bench" \
  AFTER="$WITH/redress" BIN="$WITH" bench/intake-cpu.sh | tee /dev/stderr | tail -4 |
  awk '/^before/ { for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { split($i, a, "="); b[$2] = a[2] } }
       /^after/  { for (i = 1; i <= NF; i++) if ($i ~ /^rps=/) { split($i, a, "="); w[$2] = a[2] } }
       END { for (t in w) if (b[t] > 0) printf "%s: intake with rollups / without = %.3f (target >= 0.90)\n", t, w[t] / b[t] }'
