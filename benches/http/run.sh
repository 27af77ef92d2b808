#!/usr/bin/env bash
# HTTP load benchmark (wrk, Debian's package): peter serving
#   - GET /.well-known/peter_sslers/domain/{name}/config.json over random
#     names of a store seeded with N domains and certificates (SQLite), and
#   - GET /.well-known/public/whoami,
# then nginx (one worker) serving a static file of config.json's size, on
# the same machine, for scale. Reports requests/s, latency and peter's RSS.
#
# config.json is measured on one name (from peter's in-memory cache), with
# If-None-Match (304), and over random names; nginx serves the same bytes
# from a file with one worker and with one per core, and the ratio to nginx
# is printed.
#
#   benches/http/run.sh            # 100,000 domains, wrk -t1 -c32 -d5s
#   PETER_BENCH_DOMAINS=1000 benches/http/run.sh
#
# The seeded store is kept in $PETER_BENCH_DATA (default /tmp/peter-http-bench)
# and reused by later runs with the same N.
set -euo pipefail
cd "$(dirname "$0")/../.."

N="${PETER_BENCH_DOMAINS:-100000}"
SECONDS_PER_RUN="${PETER_BENCH_SECONDS:-5}"
CONNECTIONS="${PETER_BENCH_CONNECTIONS:-32}"
THREADS="${PETER_BENCH_THREADS:-1}"
DATA="${PETER_BENCH_DATA:-/tmp/peter-http-bench}"
command -v wrk >/dev/null || { echo "FATAL: wrk is missing (scripts/install-test-deps.sh)" >&2; exit 1; }
command -v nginx >/dev/null || { echo "FATAL: nginx is missing (scripts/install-test-deps.sh)" >&2; exit 1; }

# One build of both packages (built apart, features unify differently and
# much of the tree compiles twice).
cargo build --release --locked -q -p peter-cli -p peter-benches
PETER=target/release/peter

if [ ! -f "$DATA/.seeded-$N" ]; then
    rm -rf "$DATA"
    "$PETER" --data-dir "$DATA" init >/dev/null
    echo "seeding $N domains into $DATA (takes a few minutes for 100,000)..." >&2
    target/release/store_seed "sqlite:$DATA/peter.sqlite" "$N" >"$DATA/seed.json"
    touch "$DATA/.seeded-$N"
fi
TOKEN="$(cat "$DATA/admin-token")"

port=$(( 20000 + RANDOM % 10000 ))
"$PETER" --data-dir "$DATA" serve --admin --listen "127.0.0.1:$port" 2>"$DATA/serve.log" &
pid=$!
nginx_dir=""
cleanup() {
    kill "$pid" 2>/dev/null || true
    if [ -n "$nginx_dir" ]; then nginx -p "$nginx_dir" -c nginx.conf -s stop 2>/dev/null || true; fi
}
trap cleanup EXIT
for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$port/.well-known/public/whoami" >/dev/null 2>&1 && break
    sleep 0.1
done
sample="$(curl -fsS -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$port/.well-known/peter_sslers/domain/d1.bench.example/config.json")"
echo "$sample" | grep -q '"certificate_signed__latest_single":{' || { echo "FATAL: config.json has no certificate" >&2; exit 1; }
size=${#sample}

rps() { awk '/Requests\/sec/ {print $2}'; }
declare -A RPS
run_wrk() { # label, then wrk arguments (PETER_BENCH_ALLOW_3XX=1: 304s expected)
    local label=$1; shift
    local out
    out="$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$@")"
    RPS[$label]="$(echo "$out" | rps)"
    if [ -z "${PETER_BENCH_ALLOW_3XX:-}" ] && echo "$out" | grep -q 'Non-2xx'; then
        echo "$out" >&2
        echo "FATAL: $label had non-2xx answers" >&2
        exit 1
    fi
    printf '%-34s %10s req/s   p50 %8s   p99 %8s\n' "$label" "$(echo "$out" | rps)" \
        "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')"
}

export PETER_BENCH_DOMAINS="$N" PETER_BENCH_TOKEN="$TOKEN"
# warm up (page cache, connection pool)
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s benches/http/random_domain.lua "http://127.0.0.1:$port" >/dev/null

one="http://127.0.0.1:$port/.well-known/peter_sslers/domain/d1.bench.example/config.json"
etag="$(curl -fsS -D - -o /dev/null -H "Authorization: Bearer $TOKEN" "$one" | awk 'tolower($1)=="etag:" {sub(/\r$/, "", $2); print $2}')"
[ -n "$etag" ] || { echo "FATAL: config.json has no ETag" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H "If-None-Match: $etag" "$one")" = 304 ] \
    || { echo "FATAL: If-None-Match did not give 304" >&2; exit 1; }
echo "machine: $(nproc) cores, $(awk '/model name/ {$1=$2=$3=""; print; exit}' /proc/cpuinfo | sed 's/^ *//'); $N domains; wrk -t$THREADS -c$CONNECTIONS -d${SECONDS_PER_RUN}s on the same machine"
run_wrk "peter config.json (one name)" -H "Authorization: Bearer $TOKEN" "$one"
PETER_BENCH_ALLOW_3XX=1 run_wrk "peter config.json (304)" -H "Authorization: Bearer $TOKEN" -H "If-None-Match: $etag" "$one"
run_wrk "peter config.json (random names)" -s benches/http/random_domain.lua "http://127.0.0.1:$port"
run_wrk "peter whoami" "http://127.0.0.1:$port/.well-known/public/whoami"
echo "peter RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status) (peak $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status))"

nginx_dir="$(mktemp -d)"
mkdir -p "$nginx_dir/logs" "$nginx_dir/www"
chmod 755 "$nginx_dir" "$nginx_dir/www"
printf '%s' "$sample" >"$nginx_dir/www/config.json"
nport=$(( port + 1 ))
for workers in 1 auto; do
    cat >"$nginx_dir/nginx.conf" <<CONF
worker_processes $workers;
error_log $nginx_dir/logs/error.log;
pid $nginx_dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    server {
        listen 127.0.0.1:$nport;
        root $nginx_dir/www;
    }
}
CONF
    nginx -p "$nginx_dir" -c nginx.conf
    sleep 0.3
    run_wrk "nginx same bytes ($size, $workers worker)" "http://127.0.0.1:$nport/config.json"
    nginx -p "$nginx_dir" -c nginx.conf -s stop
    sleep 0.3
done
for workers in 1 auto; do
    awk -v p="${RPS[peter config.json (one name)]}" -v n="${RPS[nginx same bytes ($size, $workers worker)]}" -v w="$workers" \
        'BEGIN { printf "ratio peter config.json (one name) / nginx (%s worker): %.2f\n", w, p / n }'
done
