#!/usr/bin/env bash
# Mail in and notices out (issue 6) against a release build, each figure
# next to a baseline measured in the same run:
#   1. mailed complaints through the SMTP receiver: $SENDERS concurrent
#      senders, each mail from its own address with its own $ATTACH_KB KiB
#      PDF, for $SECONDS_RUN s, mails/s on `250` replies (and the case count
#      checked against them); next to HTTP intake from $CLIENTS clients for
#      as long on a fresh store, plain and with a $ATTACH_KB KiB evidence
#      upload per complaint
#   2. notices out: $BACKLOG e-mail acknowledgements queued and due at once,
#      sent through the relay to a local sink (the project's own SMTP
#      receiver, counting): deliveries/s alone; then HTTP intake while
#      another $BACKLOG drain, next to the same intake on a server with
#      nothing to send (run before and after)
#
#   bench/mail.sh
#   SECONDS_RUN=5 BACKLOG=1000 bench/mail.sh    # a quick check (~2 min)
#   SKIP_INBOUND=1 / SKIP_OUTBOUND=1            # one half only
#
# How the backlog is made: a server whose relay points at the sink's port
# while nothing listens there files $BACKLOG complaints (each with an e-mail
# address: one acknowledgement each). Every first attempt fails (connection
# refused) and the delivery waits 30 s (the first retry back-off). The
# server is stopped, the sink started, and once 31 s have passed since the
# last failure the server is started again: all $BACKLOG deliveries are due
# at once and the sweep works through them from its first tick.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${SECONDS_RUN:-15}
SENDERS=${SENDERS:-8}
CLIENTS=${CLIENTS:-8}
ATTACH_KB=${ATTACH_KB:-100}
BACKLOG=${BACKLOG:-10000}
PORT=${PORT:-18201}
SMTP_PORT=${SMTP_PORT:-18202}
SINK_PORT=${SINK_PORT:-18203}
OUT=${OUT:-bench/out}
KEY=$(printf '42%.0s' $(seq 32))
mkdir -p "$OUT"
# BIN=DIR: use the redress and redress-bench binaries in DIR as they are.
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p redress -p redress-bench
  BIN=${CARGO_TARGET_DIR:-target}/release
fi
RELAY=smtp://127.0.0.1:$SINK_PORT
LOG="$OUT/mail-server.log"
: >"$LOG"
SERVER_PID=
SINK_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
}
trap cleanup EXIT

start_server() { # data dir, then VAR=value settings
  local dir=$1
  shift
  echo "--- serve $dir $*" >>"$LOG"
  env REDRESS_DATA_DIR="$dir" REDRESS_DATA_KEY="$KEY" REDRESS_LISTEN=127.0.0.1:$PORT \
    REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_ADMIN_PASSWORD=bench-admin-pw REDRESS_LOG=warn \
    REDRESS_PUBLIC_URL=https://complaints.example.com \
    REDRESS_MAIL_FROM=noreply@complaints.example.com \
    "$@" "$BIN/redress" serve >>"$LOG" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && return; sleep 0.05; done
  echo "server did not start"; tail -20 "$LOG"; exit 1
}
stop_server() { kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
start_sink() { # status file, mark
  rm -f "$1"
  "$BIN/redress-bench" mail-sink --listen 127.0.0.1:$SINK_PORT --status "$1" --mark "$2" &
  SINK_PID=$!
  for _ in $(seq 100); do [ -f "$1" ] && return; sleep 0.05; done
  echo "sink did not start"; exit 1
}
stop_sink() { kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=; }
# A counter or gauge from /metrics (0 when absent).
metric() {
  curl -sf "http://127.0.0.1:$PORT/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
SENT='redress_deliveries_total{channel="email",result="sent"}'
RETRY='redress_deliveries_total{channel="email",result="retry"}'
FAILED='redress_deliveries_total{channel="email",result="failed"}'
# The value of `name=` in a line of key=value fields.
field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2" | head -1; }
now_ms() { date +%s%3N; }
# CPU time: of one process, and of the whole machine (all cores, busy), in ticks.
HZ=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The server's SQLite writer thread (the one write connection; group commits).
writer_ticks() {
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm" 2>/dev/null)" = sqlite-writer ] && awk '{ print $14 + $15 }' "$t/stat" && return
  done
  echo 0
}
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
cpu_s() { awk -v a="$1" -v b="$2" -v hz="$HZ" 'BEGIN { printf "%.1f", (b - a) / hz }'; }
# Runs the timed intake ($CLIENTS clients, $SECONDS_RUN s) and prints its line
# with the CPU-seconds the server, the sink (when running) and the whole
# machine used meanwhile.
timed_intake() { # label
  local s0 w0 k0 m0 line
  s0=$(ticks "$SERVER_PID"); w0=$(writer_ticks "$SERVER_PID"); k0=$([ -n "$SINK_PID" ] && ticks "$SINK_PID" || echo 0); m0=$(busy_ticks)
  line=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" --seconds "$SECONDS_RUN")
  echo "$1: $line"
  echo "$1: CPU-s in the window: server $(cpu_s "$s0" "$(ticks "$SERVER_PID")") (its SQLite writer thread $(cpu_s "$w0" "$(writer_ticks "$SERVER_PID")")), sink $(cpu_s "$k0" "$([ -n "$SINK_PID" ] && ticks "$SINK_PID" || echo 0)"), whole machine $(cpu_s "$m0" "$(busy_ticks)") (of $((2 * SECONDS_RUN)) on $(nproc) cores over ${SECONDS_RUN}s)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "load average at the start: $(cut -d" " -f1-3 /proc/loadavg) ($(nproc) cores)"
if [ -z "${SKIP_INBOUND:-}" ]; then
  echo "== 1. mail in: $SENDERS SMTP senders, a ${ATTACH_KB} KiB PDF in each mail, ${SECONDS_RUN}s; HTTP intake from $CLIENTS clients on a fresh store as the baseline"
  D="$OUT/mail-smtp"
  rm -rf "$D"
  REDRESS_DATA_DIR="$D" REDRESS_DATA_KEY=$KEY REDRESS_USER_PASSWORD=bench-super-pw \
    "$BIN/redress" user add bench-super --role supervisor >/dev/null
  SMTP_ENV=(REDRESS_SMTP_LISTEN=127.0.0.1:$SMTP_PORT REDRESS_SMTP_PER_SENDER_PER_MINUTE=0)
  start_server "$D" "${SMTP_ENV[@]}"
  TOKEN=$(curl -sf -XPOST "http://127.0.0.1:$PORT/api/v1/auth/login" \
    -d '{"username":"bench-super","password":"bench-super-pw"}' | sed -E 's/.*"token":"([^"]+)".*/\1/')
  SMTP=$("$BIN/redress-bench" smtp-intake --addr 127.0.0.1:$SMTP_PORT --senders "$SENDERS" \
    --seconds "$SECONDS_RUN" --attachment-kb "$ATTACH_KB" --http 127.0.0.1:$PORT --token "$TOKEN") ||
    { echo "$SMTP"; exit 1; }
  echo "$SMTP"
  echo "evidence files stored: $(find "$D/evidence" -type f | wc -l)"
  stop_server
  rm -rf "$OUT/mail-http"
  start_server "$OUT/mail-http" "${SMTP_ENV[@]}"
  HTTP=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" --seconds "$SECONDS_RUN")
  echo "$HTTP"
  stop_server
  rm -rf "$OUT/mail-http-evidence"
  start_server "$OUT/mail-http-evidence" "${SMTP_ENV[@]}"
  HTTP_EV=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" \
    --seconds "$SECONDS_RUN" --attachment-kb "$ATTACH_KB")
  echo "$HTTP_EV"
  echo "evidence files stored: $(find "$OUT/mail-http-evidence/evidence" -type f | wc -l)"
  stop_server
  smtp_rate=$(field mails_per_s "$SMTP")
  echo "smtp/http ratio = $(ratio "$smtp_rate" "$(field rps "$HTTP")") (mails/s with a ${ATTACH_KB} KiB PDF / plain registrations/s)"
  echo "smtp/http_with_evidence ratio = $(ratio "$smtp_rate" "$(field rps "$HTTP_EV")") (mails/s / registrations with a ${ATTACH_KB} KiB upload per s)"
fi

if [ -n "${SKIP_OUTBOUND:-}" ]; then exit 0; fi

# Files $BACKLOG complaints on a server whose relay is down (see the top),
# stops it, starts the sink and waits out the first back-off.
make_backlog() { # data dir, sink status file
  rm -rf "$1"
  start_server "$1" REDRESS_SMTP_RELAY="$RELAY"
  local filed
  filed=$("$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" \
    --total "$BACKLOG" --offset 3000000)
  local retried=0
  for _ in $(seq 1200); do
    retried=$(metric "$RETRY")
    [ "$retried" -ge "$BACKLOG" ] && break
    sleep 0.1
  done
  local failed_at sent failed
  failed_at=$(now_ms)
  sent=$(metric "$SENT")
  failed=$(metric "$FAILED")
  stop_server
  echo "backlog: $filed"
  echo "backlog: first attempts against the dead relay: retry=$retried sent=$sent failed=$failed"
  [ "$retried" -ge "$BACKLOG" ] || { echo "the first attempts did not all fail in time"; exit 1; }
  start_sink "$2" "$BACKLOG"
  local wait_ms=$((failed_at + 31000 - $(now_ms)))
  [ "$wait_ms" -gt 0 ] && sleep "$(awk -v m="$wait_ms" 'BEGIN { print m / 1000 }')"
  return 0
}
# Waits until the sink has `n` messages (at most `s` seconds); the status line.
wait_sink() { # status file, n, s
  local line
  for _ in $(seq $(($3 * 10))); do
    line=$(cat "$1")
    [ "$(field received "$line")" -ge "$2" ] && break
    sleep 0.1
  done
  cat "$1"
}

echo "== 2. notices out: $BACKLOG e-mail acknowledgements due at once, sent to a local sink; HTTP intake ($CLIENTS clients, ${SECONDS_RUN}s) while they drain vs with nothing to send"
echo "-- idle baseline: a server without a relay, $BACKLOG complaints filed before (nothing pending, nothing to send)"
rm -rf "$OUT/mail-idle" "$OUT/mail-idle-2" "$OUT/mail-steady"
start_server "$OUT/mail-idle"
"$BIN/redress-bench" intake --addr 127.0.0.1:$PORT --clients "$CLIENTS" --total "$BACKLOG" --offset 3000000 >/dev/null
stop_server
cp -r "$OUT/mail-idle" "$OUT/mail-idle-2"
cp -r "$OUT/mail-idle" "$OUT/mail-steady"
start_server "$OUT/mail-idle"
IDLE1=$(timed_intake "idle (before)")
echo "$IDLE1"
stop_server

echo "-- deliveries alone: $BACKLOG due at once, nothing else to do"
make_backlog "$OUT/mail-drain" "$OUT/mail-sink-drain.txt"
t0=$(now_ms)
m0=$(busy_ticks)
start_server "$OUT/mail-drain" REDRESS_SMTP_RELAY="$RELAY"
DRAIN=$(wait_sink "$OUT/mail-sink-drain.txt" "$BACKLOG" 600)
echo "$DRAIN"
echo "CPU-s while draining: server $(cpu_s 0 "$(ticks "$SERVER_PID")") (its SQLite writer thread $(cpu_s 0 "$(writer_ticks "$SERVER_PID")")), sink $(cpu_s 0 "$(ticks "$SINK_PID")") (both since they started), whole machine $(cpu_s "$m0" "$(busy_ticks)") in $(($(now_ms) - t0))ms"
echo "server counters: sent=$(metric "$SENT") retry=$(metric "$RETRY") failed=$(metric "$FAILED")"
stop_server
stop_sink
d_first=$(field first_unix_ms "$DRAIN")
d_mark=$(field mark_unix_ms "$DRAIN")
DRAIN_RATE=$(awk -v n="$BACKLOG" -v a="$t0" -v b="$d_mark" 'BEGIN { printf "%.1f", n / ((b - a) / 1000) }')
DRAIN_RATE_FL=$(awk -v n="$BACKLOG" -v a="$d_first" -v b="$d_mark" 'BEGIN { printf "%.1f", (n - 1) / ((b - a) / 1000) }')
echo "deliveries alone: $BACKLOG in $(((d_mark - t0)))ms from server start = $DRAIN_RATE/s; first to last $DRAIN_RATE_FL/s; first arrival $((d_first - t0))ms after start"

echo "-- intake while $BACKLOG deliveries drain"
make_backlog "$OUT/mail-backlog" "$OUT/mail-sink-backlog.txt"
t0=$(now_ms)
start_server "$OUT/mail-backlog" REDRESS_SMTP_RELAY="$RELAY"
at_start=$(cat "$OUT/mail-sink-backlog.txt")
t_start=$(now_ms)
BUSY=$(timed_intake "with backlog")
at_end=$(cat "$OUT/mail-sink-backlog.txt")
t1=$(now_ms)
echo "$BUSY"
n_busy=$(field requests "$BUSY")
echo "pending at the window's start: $((BACKLOG - $(field received "$at_start"))) of the backlog ($(field received "$at_start") already at the sink, $((t_start - t0))ms after server start); at its end: $((BACKLOG + n_busy - $(field received "$at_end"))) (backlog and the window's own acknowledgements)"
expect=$((BACKLOG + n_busy))
BACK=$(wait_sink "$OUT/mail-sink-backlog.txt" "$expect" 600)
echo "$BACK"
echo "server counters: sent=$(metric "$SENT") retry=$(metric "$RETRY") failed=$(metric "$FAILED")"
stop_server
stop_sink
b_first=$(field first_unix_ms "$BACK")
b_last=$(field last_unix_ms "$BACK")
b_mark=$(field mark_unix_ms "$BACK")
b_recv=$(field received "$BACK")
echo "the backlog's $BACKLOG reached the sink $((b_mark - t0))ms after server start (the intake window ran from ~0 to $((t1 - t0))ms)"
echo "deliveries under intake: $b_recv in $((b_last - b_first))ms first to last = $(awk -v n="$b_recv" -v a="$b_first" -v b="$b_last" 'BEGIN { printf "%.1f", (n - 1) / ((b - a) / 1000) }')/s (expected $expect, distinct $(field distinct "$BACK"))"

echo "-- for attribution: the same intake with the relay and the sink but nothing pending before (each registration's own acknowledgement is sent)"
start_sink "$OUT/mail-sink-steady.txt" 0
start_server "$OUT/mail-steady" REDRESS_SMTP_RELAY="$RELAY"
STEADY=$(timed_intake "relay, no backlog")
echo "$STEADY"
n_steady=$(field requests "$STEADY")
got=$(field received "$(cat "$OUT/mail-sink-steady.txt")")
echo "relay, no backlog: $got of the window's $n_steady acknowledgements at the sink when it ended"
stop_server
stop_sink

start_server "$OUT/mail-idle-2"
IDLE2=$(timed_intake "idle (after)")
echo "$IDLE2"
stop_server

idle=$(awk -v a="$(field rps "$IDLE1")" -v b="$(field rps "$IDLE2")" 'BEGIN { printf "%.1f", (a + b) / 2 }')
busy=$(field rps "$BUSY")
echo "deliveries/s to the sink: $DRAIN_RATE alone (server start to last), $DRAIN_RATE_FL first to last"
echo "intake idle $idle req/s (mean of $(field rps "$IDLE1") and $(field rps "$IDLE2")), with the backlog draining $busy req/s"
echo "backlog/idle intake ratio = $(ratio "$busy" "$idle") (target >= 0.90)"
echo "relay without backlog/idle intake ratio = $(ratio "$(field rps "$STEADY")" "$idle") (attribution: the notices of the window's own registrations)"
