#!/usr/bin/env bash
# Scale benchmark: a store of N certificates with K names each (default
# 100,000 × 10 = 1,000,000 domains), on SQLite or PostgreSQL, then
#   - seed time and store size (store_seed),
#   - `peter serve --admin` on it: config.json p50/p99 cold (names not yet
#     answered) and warm (the same names again), the admin lists on page 1
#     and a deep page, the metrics' size and series (scale_probe),
#   - peter's RSS after all that (VmRSS, VmHWM),
#   - `peter renew --dry-run` over the whole store, wall time of the
#     process (three runs).
#
#   benches/scale/run.sh sqlite            # seeds /tmp/peter-scale-sqlite once
#   benches/scale/run.sh postgres          # seeds database peter_scale once
#   PETER_SCALE_CERTS=10000 benches/scale/run.sh sqlite
#   PETER_BIN=/tmp/peter-before benches/scale/run.sh sqlite
#
# The seeded store is reused by later runs with the same N and K; delete
# $PETER_SCALE_DATA (and `DROP DATABASE peter_scale`) to seed again.
set -euo pipefail
cd "$(dirname "$0")/../.."

BACKEND="${1:-sqlite}"
N="${PETER_SCALE_CERTS:-100000}"
K="${PETER_SCALE_NAMES:-10}"
DATA="${PETER_SCALE_DATA:-/tmp/peter-scale-$BACKEND}"
PG="${PETER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_DB="peter_scale"

# One build of both packages: built apart, cargo unifies features
# differently and compiles much of the tree twice.
cargo build --release --locked -q -p peter-cli -p peter-benches
# PETER_BIN: another peter binary to measure on the same store (an older
# build, for a before/after comparison).
PETER="${PETER_BIN:-$PWD/target/release/peter}"

case "$BACKEND" in
    sqlite) DBURL="" ; SEED_TARGET="sqlite:$DATA/peter.sqlite" ;;
    postgres)
        pg_isready -h 127.0.0.1 -p 5432 >/dev/null || { echo "FATAL: PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
        DBURL="${PG%/*}/$PG_DB"; SEED_TARGET="postgres:$PG_DB" ;;
    *) echo "usage: $0 sqlite|postgres" >&2; exit 2 ;;
esac
GLOBAL=(--data-dir "$DATA")
[ -n "$DBURL" ] && GLOBAL+=(--database-url "$DBURL")
peter() { "$PETER" "${GLOBAL[@]}" "$@"; }

if [ ! -f "$DATA/.seeded-$N-$K" ]; then
    rm -rf "$DATA"
    if [ "$BACKEND" = postgres ]; then
        psql "$PG" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" -c "CREATE DATABASE $PG_DB" >/dev/null
    fi
    peter init >/dev/null
    echo "seeding $N certificates × $K names into $BACKEND (several minutes at full size)..." >&2
    start=$(date +%s.%N)
    target/release/store_seed "$SEED_TARGET" "$N" --names "$K" >"$DATA/seed.json"
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"$DATA/seed-seconds"
    touch "$DATA/.seeded-$N-$K"
fi
echo "machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'); $BACKEND; $N certificates × $K names"
echo "seed (process wall time $(cat "$DATA/seed-seconds") s, key generation included):"
cat "$DATA/seed.json"

TOKEN="$(cat "$DATA/admin-token")"
port=$(( 20000 + RANDOM % 10000 ))
# The binary itself in the background (not the shell function), so $! is
# the server's pid and its RSS is what gets read.
"$PETER" "${GLOBAL[@]}" serve --admin --listen "127.0.0.1:$port" 2>"$DATA/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do
    curl -fsS "http://127.0.0.1:$port/.well-known/public/whoami" >/dev/null 2>&1 && break
    sleep 0.1
done
echo "peter serve RSS at start: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
target/release/scale_probe "http://127.0.0.1:$port" "$TOKEN" "$(( N * K ))" "$N"
echo "peter serve RSS after the probe: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status) (peak $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status))"
kill "$pid"; wait "$pid" 2>/dev/null || true
trap - EXIT

# PETER_SCALE_DRY_RUNS runs (default 3), each cut off after
# PETER_SCALE_DRY_RUN_TIMEOUT seconds (default 600).
for run in $(seq "${PETER_SCALE_DRY_RUNS:-3}"); do
    start=$(date +%s.%N)
    if ! timeout "${PETER_SCALE_DRY_RUN_TIMEOUT:-600}" "$PETER" "${GLOBAL[@]}" --json renew --dry-run >"$DATA/dry-run.json"; then
        echo "renew --dry-run run $run: failed or cut off after ${PETER_SCALE_DRY_RUN_TIMEOUT:-600} s"
        continue
    fi
    end=$(date +%s.%N)
    due=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["due"]), len(d["missing"]))' "$DATA/dry-run.json")
    awk -v s="$start" -v e="$end" -v r="$run" -v d="$due" 'BEGIN { split(d, x, " "); printf "renew --dry-run run %d: %.2f s (due %d, missing %d)\n", r, e - s, x[1], x[2] }'
done
