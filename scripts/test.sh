#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what the
# tests need, checks the services they use, then lints and runs every test.
# PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must already run;
# this script fails loudly when they do not. Nothing is ever skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "installing test dependencies (Pebble 2.10, nginx, wrk, openssl)"
bash scripts/install-test-deps.sh

step "installing the contract tools (openapi-python-client, openapi-spec-validator, schemathesis)"
PETER_TEST_PYTHON="$(bash scripts/install-python-tools.sh | tail -n1)"
export PETER_TEST_PYTHON

step "installing the TypeScript client tools (openapi-typescript, openapi-fetch, typescript, @redocly/cli; pinned by package-lock.json)"
command -v npm >/dev/null || { echo "FATAL: npm is missing (Debian: apt-get install npm, or the machine's Node.js)" >&2; exit 1; }
(cd scripts/openapi-client/ts && npm ci --no-audit --no-fund --loglevel=error)

export PETER_TEST_POSTGRES_URL="${PETER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
step "checking PostgreSQL at ${PETER_TEST_POSTGRES_URL}"
if ! psql "$PETER_TEST_POSTGRES_URL" -Atqc 'select 1' >/dev/null; then
    echo "FATAL: PostgreSQL is not reachable at ${PETER_TEST_POSTGRES_URL}" >&2
    exit 1
fi
# Databases left by an earlier interrupted run.
psql "$PETER_TEST_POSTGRES_URL" -Atqc "select datname from pg_database where datname like 'peter_t_%'" |
    while read -r db; do
        [ -n "$db" ] && psql "$PETER_TEST_POSTGRES_URL" -qc "drop database if exists \"$db\" with (force)" >/dev/null
    done

export PETER_TEST_REDIS_URL="${PETER_TEST_REDIS_URL:-redis://127.0.0.1:6379}"
step "checking Redis at ${PETER_TEST_REDIS_URL}"
if [ "$(redis-cli -u "$PETER_TEST_REDIS_URL" ping 2>/dev/null)" != "PONG" ]; then
    echo "FATAL: Redis is not reachable at ${PETER_TEST_REDIS_URL}" >&2
    exit 1
fi

for tool in pebble pebble-challtestsrv openssl; do
    command -v "$tool" >/dev/null || { echo "FATAL: $tool is missing" >&2; exit 1; }
done

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked --features peter-cli/testkit -- -D warnings
step "cargo clippy with the optional features (redis, certbot, fake-server, swagger-ui) off"
for crate in peter-store peter-http peter-cli; do
    cargo clippy --locked -p "$crate" --no-default-features -- -D warnings
done

step "the shipped binary: cargo build -p peter-cli, without test hooks"
# The same features as `cargo build --release -p peter-cli` (the dev
# profile builds faster); the tests check it ignores PETER_KILL_AT.
cargo build --locked -p peter-cli
mkdir -p target/shipped
cp target/debug/peter target/shipped/peter
export PETER_SHIPPED_BINARY="$PWD/target/shipped/peter"

step "tests"
if cargo nextest --version >/dev/null 2>&1; then
    # The CLI tests stop and move the binary with test hooks (testkit);
    # the shipped binary has none (checked below).
    cargo nextest run --workspace --locked --no-fail-fast --features peter-cli/testkit
    cargo test --workspace --doc --locked
else
    cargo test --workspace --locked --no-fail-fast --features peter-cli/testkit
fi

step "examples"
cargo run --locked -q -p peter-examples --example import_and_query
cargo run --locked -q -p peter-examples --example issue_certificate
cargo run --locked -q -p peter-examples --example embed_in_poem
cargo run --locked -q -p peter-examples --example generated_rust_client

step "schemathesis: every admin operation, fuzzed, in a loopback-only network namespace"
bash scripts/schemathesis/run.sh "$PETER_SHIPPED_BINARY" "$(dirname "$PETER_TEST_PYTHON")/st" target/schemathesis
