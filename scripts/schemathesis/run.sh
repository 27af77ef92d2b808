#!/usr/bin/env bash
# Schemathesis against `peter serve --admin` on a fresh SQLite store, inside a
# network namespace that holds only loopback: the fuzzer writes arbitrary
# ACME directory and nginx URLs into the API, and none of them may reach an
# address outside this machine. Every operation, a fixed seed, one worker,
# the five conformance checks; exits non-zero on any failure.
#
# Usage: run.sh PETER_BINARY ST_BINARY [REPORT_DIR]
#   PETER_BINARY  the peter binary (the shipped build)
#   ST_BINARY     schemathesis' `st` (pinned in ../openapi-client/requirements.txt)
#   REPORT_DIR    where the JUnit report goes (default: target/schemathesis)
# Environment: PETER_ST_SEED (default 20261204), PETER_ST_MAX_EXAMPLES
# (default 60).
set -euo pipefail

if [ "${PETER_ST_IN_NETNS:-}" != 1 ]; then
    if [ "$#" -lt 2 ]; then
        echo "usage: $0 PETER_BINARY ST_BINARY [REPORT_DIR]" >&2
        exit 2
    fi
    peter=$(realpath "$1")
    st=$(realpath -s "$2")
    report=$(realpath -m "${3:-target/schemathesis}")
    for tool in unshare ip openssl curl pebble; do
        command -v "$tool" >/dev/null || { echo "FATAL: $tool is missing" >&2; exit 1; }
    done
    [ -x "$peter" ] || { echo "FATAL: $peter is not executable" >&2; exit 1; }
    [ -x "$st" ] || { echo "FATAL: $st is not executable" >&2; exit 1; }
    mkdir -p "$report"
    # A new network namespace: only `lo`, down until we raise it.
    PETER_ST_IN_NETNS=1 exec unshare --net -- "$0" "$peter" "$st" "$report"
fi

peter=$1
st=$2
report=$3
here=$(cd "$(dirname "$0")" && pwd)

ip link set lo up
# Proof that nothing but loopback exists here (the fuzzer's URLs stay local).
if ip -o link show | grep -v ': lo:' | grep -q .; then
    echo "FATAL: the namespace has interfaces other than lo" >&2
    ip -o link show >&2
    exit 1
fi

work=$(mktemp -d)
server_pid=
pebble_pid=
cleanup() {
    local rc=$?
    for pid in $server_pid $pebble_pid; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

data="$work/data"
"$peter" --data-dir "$data" init >/dev/null
token=$(cat "$data/admin-token")

# Something to find: one imported certificate (with its key, chain and
# domain), Pebble as the ACME server with an account and two orders, so
# id-taking operations meet real rows; schemathesis.toml steers a share of
# the generated ids and names to them.
bash "$here/../openapi-client/ts/make-test-material.sh" "$work/material" st.example.com >/dev/null
"$peter" --data-dir "$data" import cert --cert "$work/material/cert.pem" \
    --key "$work/material/key.pem" --chain "$work/material/chain.pem" >/dev/null

# Pebble inside the namespace, so operations that call a CA meet a real one
# (it validates every challenge without asking: PEBBLE_VA_ALWAYS_VALID).
mkdir -p "$work/pebble"
(
    cd "$work/pebble"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
        -subj "/CN=schemathesis pebble TLS CA" -days 2 -out ca.pem 2>/dev/null
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key \
        -subj "/CN=localhost" -out leaf.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >leaf.ext
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
        -extfile leaf.ext -out leaf.pem 2>/dev/null
    cat >pebble.json <<JSON
{"pebble": {"listenAddress": "127.0.0.1:14000", "managementListenAddress": "127.0.0.1:15000",
  "certificate": "$work/pebble/leaf.pem", "privateKey": "$work/pebble/leaf.key",
  "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
)
PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    pebble -config "$work/pebble/pebble.json" -strict=false >"$work/pebble.log" 2>&1 &
pebble_pid=$!
for _ in $(seq 1 100); do
    if curl -fsS --cacert "$work/pebble/ca.pem" https://127.0.0.1:14000/dir >/dev/null 2>&1; then break; fi
    kill -0 "$pebble_pid" 2>/dev/null || { cat "$work/pebble.log" >&2; echo "FATAL: pebble exited" >&2; exit 1; }
    sleep 0.1
done
"$peter" --data-dir "$data" acme-server add pebble --directory https://127.0.0.1:14000/dir \
    --ca-bundle "$work/pebble/ca.pem" --default >/dev/null
"$peter" --data-dir "$data" account new --contact mailto:st@example.com --global-default >/dev/null
# One order carried to its certificate, one left pending at the CA.
"$peter" --data-dir "$data" order new st-order.example.com >/dev/null
"$peter" --data-dir "$data" order new --strategy create_order st-pending.example.com >/dev/null

port=7399
"$peter" --data-dir "$data" serve --admin --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    if curl -fsS "$base/.well-known/public/whoami" >/dev/null 2>&1; then break; fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "FATAL: peter serve exited" >&2; exit 1; }
    sleep 0.1
done
curl -fsS -H "Authorization: Bearer $token" "$base/.well-known/peter_sslers/api/openapi.json" >"$work/openapi.json"

# One worker: schemathesis runs workers as threads, and hypothesis parses
# lambda sources with `ast` while describing strategies. CPython 3.11's ast
# constructor keeps its recursion depth in interpreter-wide state, so two
# threads parsing at once can fail with "SystemError: AST constructor
# recursion depth mismatch" (CPython gh-106905, fixed after 3.11). CI failed
# on exactly that once with --workers 2.
set +e
"$st" --config-file "$here/schemathesis.toml" run "$base/.well-known/peter_sslers/api/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --seed "${PETER_ST_SEED:-20261204}" \
    --workers 1 \
    --max-examples "${PETER_ST_MAX_EXAMPLES:-60}" \
    --request-timeout 20 \
    --generation-database none \
    --no-color \
    --report junit --report-junit-path "$report/junit.xml"
status=$?
set -e
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "FATAL: peter serve died during the run" >&2
    tail -n 50 "$work/serve.log" >&2
    exit 1
fi
if grep -q -i -E 'panicked|RUST_BACKTRACE' "$work/serve.log"; then
    echo "FATAL: peter serve panicked during the run" >&2
    grep -i -E -B2 -A5 'panicked' "$work/serve.log" >&2
    exit 1
fi
exit "$status"
