#!/usr/bin/env bash
# Schema-driven fuzzing of the running server (schemathesis, v4): every
# operation of GET /api/openapi.json, called with generated valid and
# invalid requests as a supervisor.
#
# One run with `--checks all` decides: a server error (any 5xx), a status,
# content type, header or answer shape the document does not state, a
# request the document calls invalid that the server accepts, one it calls
# valid that the server refuses, a timeout, or the server dying fails CI.
# The verdict is read from the JUnit report (see below), and the server is
# checked to be alive after the run.
#
# The server runs with `--demo` (sample cases in every state, so that the
# fuzzer reaches the case actions) plus a few cases filed here. Valid data
# refused is judged by `positive_data_acceptance_stated`
# (.ci/schemathesis_hooks.py) instead of the built-in check: it lets a 422
# pass only when every field it names is refused for a rule JSON Schema
# cannot state (another field, the clock, what the server holds), listed
# there by operation, field and reason code.
#
# Settings: SCHEMATHESIS_EXAMPLES (per operation and phase, default 40)
# bounds the run (about 75 s on two cores; 100 examples: about 2.5 min),
# SCHEMATHESIS_SEED (default 1), SCHEMATHESIS_ARGS (more options, e.g.
# `--continue-on-failure` to see every failure of an operation),
# SCHEMATHESIS_INSTALL=0 skips the pip install. Uses the debug binary the
# test build made.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/redress-ci-target}
examples=${SCHEMATHESIS_EXAMPLES:-40}

[ "${SCHEMATHESIS_INSTALL:-1}" = 0 ] || python3 -m pip install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
cargo build --quiet -p redress --bin redress
bin="$CARGO_TARGET_DIR/debug/redress"

data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
password="schemathesis-admin-1"
# SQLite in a fresh data dir, the test clock, no public rate limit and no
# guessing throttle: the fuzzer sends thousands of requests, many of them
# wrong passwords and access codes, from one address.
REDRESS_DATA_DIR="$data" REDRESS_LISTEN="127.0.0.1:$port" \
  REDRESS_ADMIN_PASSWORD="$password" REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_TOKEN_RATE_LIMIT=0 \
  REDRESS_THROTTLE_GUESSING=0 REDRESS_LOG_FORMAT=text RUST_LOG=warn \
  "$bin" serve --test-clock --demo >"$data/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null && break
  sleep 0.2
done
alive() {
  if ! kill -0 "$server" 2>/dev/null; then
    echo "schemathesis: the server died; its last log lines:"
    tail -n 50 "$data/server.log"
    exit 1
  fi
}
alive

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }
admin=$(curl -sf -XPOST "$base/api/v1/auth/login" \
  -d "{\"username\": \"admin\", \"password\": \"$password\"}" | json "['token']")
curl -sf -XPOST "$base/api/v1/admin/users" -H "Authorization: Bearer $admin" \
  -d '{"username": "fuzz-supervisor", "password": "fuzz-supervisor-1", "display_name": "fuzz",
       "roles": ["supervisor"], "departments": [], "level": 9}' >/dev/null
token=$(curl -sf -XPOST "$base/api/v1/auth/login" \
  -d '{"username": "fuzz-supervisor", "password": "fuzz-supervisor-1"}' | json "['token']")
# Some cases to read and act on.
for n in 1 2 3; do
  curl -sf -XPOST "$base/api/v1/complaints" -d "{
    \"complainant\": {\"name\": \"张三$n\", \"email\": \"zhang$n@example.com\"},
    \"respondent\": {\"kind\": \"merchant\", \"id\": \"shop-$n\", \"name\": \"好店\"},
    \"subject\": \"申请退款被拒绝\", \"description\": \"商家拒绝退款。\", \"demands\": \"全额退款\"}" >/dev/null
done

# The document's paths carry /api/v1 and it names no server, so the base
# URL is the origin. Left out: what would end the fuzzer's own session or
# account (logout, password change), key revocation, and the test clock.
# Run from the temporary directory: schemathesis keeps a cache of past
# findings in the working directory, which would replay them into the
# next run and must not land in the repository.
run() {
  (cd "$data" && SCHEMATHESIS_HOOKS="$hooks" schemathesis run "$base/api/openapi.json" --url "$base" \
    -H "Authorization: Bearer $token" \
    --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/password \
    --exclude-path /api/v1/test-clock/advance \
    --exclude-path-regex '^/api/v1/admin/(api-keys/\{id\}|respondents/\{id\}/keys)$' \
    --max-examples "$examples" --seed "${SCHEMATHESIS_SEED:-1}" --request-timeout 30 \
    --exclude-checks positive_data_acceptance \
    --workers 2 --no-shrink "$@")
}

hooks="$PWD/.ci/schemathesis_hooks.py"
start=$SECONDS
status=0
echo "schemathesis: all checks (this run decides)"
run --checks all --report junit --report-junit-path "$data/junit.xml" ${SCHEMATHESIS_ARGS:-} || true
alive
# The verdict comes from the report, not the exit status: schemathesis also
# exits 1 for errors of its own (a generator that failed on one operation),
# which are printed but are not the server's. Any failed check (a 5xx, a
# status, content type or answer shape the document does not state, a valid
# request refused, an invalid one accepted) and any error on the wire (a
# timeout, a connection the server dropped) fail CI.
python3 - "$data/junit.xml" <<'PY' || status=1
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
failures = [(c.get("name"), f.get("message") or f.text or "") for c in root.iter("testcase") for f in c.findall("failure")]
errors = [(c.get("name"), e.get("message") or e.text or "") for c in root.iter("testcase") for e in c.findall("error")]
wire = [(n, m) for n, m in errors if any(w in m.lower() for w in ("timeout", "timed out", "connection", "network"))]
for n, m in errors:
    if (n, m) not in wire:
        print(f"schemathesis: its own error on {n} (not a server failure): {m.splitlines()[0] if m else ''}")
# One <failure> per operation; its first line names the failed checks
# ("ST201, ST202").
checks = sum(len((m.strip().splitlines() or [""])[0].split(",")) for _, m in failures)
for n, m in failures + wire:
    print(f"schemathesis: FAILED {n}: {m.strip().splitlines()[0] if m.strip() else ''}")
print(f"schemathesis: {len(list(root.iter('testcase')))} operations, {len(failures)} failures ({checks} failed checks), {len(wire)} wire errors")
sys.exit(1 if failures or wire else 0)
PY
echo "schemathesis: done in $((SECONDS - start)) s"
exit "$status"
