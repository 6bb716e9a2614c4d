#!/usr/bin/env bash
# Disk per case (issue 18's storage target): generates CASES realistic
# cases (`redress-bench generate`) into a fresh SQLite data directory and
# into a fresh PostgreSQL schema, then prints every table and index in
# bytes and bytes per case (`redress-bench storage`: SQLite's dbstat,
# PostgreSQL's pg_relation_size with TOAST).
#
#   bench/storage.sh                                  # 200,000 cases, this build
#   CASES=1000000 BIN=/var/tmp/release bench/storage.sh
#   PG=0 bench/storage.sh                             # SQLite only
#   SQLITE=0 bench/storage.sh                         # PostgreSQL only
#
# BIN is a directory holding redress-bench (built here when it is not
# given). The PostgreSQL side needs the server of the machine
# (REDRESS_BENCH_PG, default postgres://postgres@127.0.0.1:5432/test); the
# schema `bench_storage` is dropped before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-200000}
OUT=${OUT:-bench/out/storage}
PG=${PG:-1}
SQLITE=${SQLITE:-1}
PG_URL=${REDRESS_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
KEY=$(printf '42%.0s' $(seq 32))
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p redress-bench
  BIN=${CARGO_TARGET_DIR:-target}/release
fi
rm -rf "$OUT" && mkdir -p "$OUT"
if [ "$SQLITE" = 1 ]; then
  echo "== SQLite, $CASES cases"
  "$BIN/redress-bench" generate --data-dir "$OUT/sqlite" --cases "$CASES" --key "$KEY" | tail -1
  "$BIN/redress-bench" storage --data-dir "$OUT/sqlite" | awk '($2 > 0 || NR == 1) && n++ < 40'
  ls -l "$OUT/sqlite"/redress.sqlite3* | awk '{print "  file", $NF, $5}'
fi
if [ "$PG" = 1 ]; then
  echo "== PostgreSQL, $CASES cases"
  psql -q "$PG_URL" -c 'DROP SCHEMA IF EXISTS bench_storage CASCADE; CREATE SCHEMA bench_storage'
  url="$PG_URL?options=-csearch_path%3Dbench_storage"
  "$BIN/redress-bench" generate --data-dir "$OUT/pg" --database-url "$url" --cases "$CASES" --key "$KEY" | tail -1
  psql -q "$url" -c 'VACUUM ANALYZE'
  "$BIN/redress-bench" storage --data-dir "$OUT/pg" --database-url "$url" | awk '($2 > 0 || NR == 1) && n++ < 40'
  psql -q "$PG_URL" -c 'DROP SCHEMA bench_storage CASCADE'
fi
