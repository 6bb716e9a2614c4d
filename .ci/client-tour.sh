#!/usr/bin/env bash
# The README's tour through a client generated from the API document
# (issue 17; SPEC §11: "clients can be generated from it").
#
# Starts the debug server as .ci/schemathesis.sh does (SQLite in a fresh
# data dir, a random port, the test clock, a known admin password, no rate
# limits; no demo cases), fetches GET /api/openapi.json, generates a Python
# client from it with openapi-python-client (a standard generator, not
# written for this project) and runs .ci/client_tour.py against the
# server: every step of the tour through the generated typed functions and
# models, with the status and fields the README shows checked.
#
# Fails on any generator error or warning (`--fail-on-warning`: a schema it
# cannot read, an operation or an answer it leaves out), on an operation of
# the document without its generated function, and on any tour step that
# fails.
#
# One setting is given to the generator, and only because it knows no
# media types but JSON, text/*, form data and application/octet-stream:
# the document's own media types for files are mapped to
# application/octet-stream (`content_type_overrides`), so that the calls
# that answer or take a file are generated (taking or answering raw bytes)
# instead of being dropped with a warning. The document keeps the true
# types:
#   application/zip  GET /complaints/{id}/archive, GET /track/{no}/export
#   image/jpeg       GET /complaints/{id}/evidence/{evidence_id}/thumbnail
#   text/calendar    POST /admin/calendar/import (its body)
#   */*              the three evidence downloads (a file comes with its
#                    own type: a picture, a PDF, a recording, …)
#
# Settings: CLIENT_TOUR_INSTALL=0 skips the pip install. Uses the debug
# binary the test build made.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/redress-ci-target}

[ "${CLIENT_TOUR_INSTALL:-1}" = 0 ] || python3 -m pip install --quiet --disable-pip-version-check 'openapi-python-client==0.29.1'
cargo build --quiet -p redress --bin redress
bin="$CARGO_TARGET_DIR/debug/redress"

work=$(mktemp -d)
data="$work/data"
mkdir "$data"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
password="client-tour-admin-1"
REDRESS_DATA_DIR="$data" REDRESS_LISTEN="127.0.0.1:$port" \
  REDRESS_ADMIN_PASSWORD="$password" REDRESS_PUBLIC_RATE_LIMIT=0 REDRESS_TOKEN_RATE_LIMIT=0 \
  REDRESS_THROTTLE_GUESSING=0 REDRESS_LOG_FORMAT=text RUST_LOG=warn \
  "$bin" serve --test-clock >"$work/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -sf "$base/healthz" >/dev/null && break
  sleep 0.2
done
if ! kill -0 "$server" 2>/dev/null; then
  echo "client tour: the server did not start; its last log lines:"
  tail -n 50 "$work/server.log"
  exit 1
fi

curl -sf "$base/api/openapi.json" -o "$work/openapi.json"
cat >"$work/generator.json" <<'JSON'
{
  "content_type_overrides": {
    "application/zip": "application/octet-stream",
    "image/jpeg": "application/octet-stream",
    "text/calendar": "application/octet-stream",
    "*/*": "application/octet-stream"
  }
}
JSON
echo "client tour: generating a client with $(openapi-python-client --version)"
if ! (cd "$work" && COLUMNS=200 openapi-python-client generate --path openapi.json \
  --config generator.json --meta none --output-path redress_client --fail-on-warning) >"$work/generate.log" 2>&1 \
  || grep -qiE "warning|error" "$work/generate.log"; then
  echo "client tour: the generator failed or warned:"
  cat "$work/generate.log"
  exit 1
fi

# Every operation of the document has its generated function.
python3 - "$work/openapi.json" "$work/redress_client" <<'PY'
import json, pathlib, re, sys
doc = json.load(open(sys.argv[1]))
package = pathlib.Path(sys.argv[2])
generated = {p.stem for p in package.glob("api/*/*.py")}
snake = lambda s: re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", s).lower()
ids = [op["operationId"] for item in doc["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op]
missing = sorted(i for i in ids if snake(i) not in generated)
print(f"client tour: {len(ids)} operations in the document, {len(ids) - len(missing)} generated")
if missing:
    print("client tour: not generated: " + ", ".join(missing))
    sys.exit(1)
PY

status=0
PYTHONPATH="$work" python3 .ci/client_tour.py "$base" "$password" || status=1
if ! kill -0 "$server" 2>/dev/null; then
  echo "client tour: the server died; its last log lines:"
  tail -n 50 "$work/server.log"
  status=1
fi
exit "$status"
