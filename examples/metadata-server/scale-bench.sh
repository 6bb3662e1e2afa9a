#!/usr/bin/env bash
# Calls/s of one vs two metadata-server instances on one PostgreSQL database: a read
# (GetCollection), a write to one hot row (PublishCollection) and an insert per call
# (CreateCollection), through bench-load, which spreads its calls round-robin over the
# instances' URLs. Interleaved rounds; prints every run and the medians.
#
#   examples/metadata-server/scale-bench.sh            # a throwaway PostgreSQL cluster
#   DATABASE_URL=postgres://… examples/metadata-server/scale-bench.sh
#
# Settings (environment): ROUNDS (3), DURATION (5s), WARMUP (1s), CONCURRENCY (32),
# METHODS ("GetCollection PublishCollection CreateCollection"). The throwaway cluster keeps
# PostgreSQL's durable defaults (fsync on, synchronous_commit on), so a write's figure
# includes its commit's flush. Everything listens on 127.0.0.1 or a Unix socket only.
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
CONCURRENCY=${CONCURRENCY:-32}
METHODS=${METHODS:-GetCollection PublishCollection CreateCollection}
BIN=${BIN:-target/release}

if [ ! -x "$BIN/metadata-server" ] || [ ! -x "$BIN/bench-load" ]; then
    cargo build --release -p metadata-server -p bench --bin metadata-server --bin bench-load
fi

WORK=$(mktemp -d /tmp/metadata-scale.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -n "${PG_BIN:-}" ]; then
        pg_as_owner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m fast stop >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -z "${DATABASE_URL:-}" ]; then
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$PG_BIN" ]; then
        echo "scale-bench: no DATABASE_URL and no /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
        exit 1
    fi
    mkdir -p "$WORK/pg"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$WORK/pg"; chmod 755 "$WORK"; fi
    pg_as_owner "$PG_BIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 \
        --locale=C >/dev/null
    pg_as_owner "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -t 60 \
        -o "-c listen_addresses='' -k $WORK/pg -c max_connections=200" start >/dev/null
    DATABASE_URL="postgresql://postgres@${WORK//\//%2F}%2Fpg/postgres"
fi
export DATABASE_URL
export METADATA_JWT_SECRET="scale-bench-$(date +%s%N)"

# Starts an instance on 127.0.0.1:0; sets URL to its address and JWT to its dev token.
start_instance() {
    local name=$1
    mkdir -p "$WORK/$name"
    "$BIN/metadata-server" --store postgres --addr 127.0.0.1:0 --assets-dir "$WORK/assets" \
        >"$WORK/$name/out" 2>"$WORK/$name/log" &
    PIDS+=($!)
    for _ in $(seq 1 300); do
        if grep -q '^metadata-server listening on ' "$WORK/$name/out"; then
            URL=$(sed -n 's/^metadata-server listening on //p' "$WORK/$name/out" | head -n 1)
            JWT=$(sed -n 's/^ *export METADATA_JWT=//p' "$WORK/$name/out" | head -n 1)
            return
        fi
        sleep 0.1
    done
    echo "scale-bench: instance $name did not start:" >&2
    cat "$WORK/$name/log" >&2
    exit 1
}

start_instance one
URL_A=$URL
start_instance two
URL_B=$URL
export METADATA_JWT=$JWT

echo "metadata-server instances: $URL_A $URL_B, PostgreSQL $(psql "$DATABASE_URL" -Atc 'show server_version' 2>/dev/null || echo '(version unknown)')"
echo "concurrency $CONCURRENCY, $DURATION per run after $WARMUP warm-up, $ROUNDS rounds; load average: $(cut -d' ' -f1-3 /proc/loadavg)"

COLLECTION=$("$BIN/bench-load" --url "$URL_A" --method PublishCollection --duration 10ms \
    --warmup 0s --concurrency 1 | sed -n 's/^collection: //p')

declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
    for method in $METHODS; do
        for setup in one two; do
            urls=$URL_A
            [ "$setup" = two ] && urls="$URL_A,$URL_B"
            args=(--url "$urls" --method "$method" --concurrency "$CONCURRENCY"
                --duration "$DURATION" --warmup "$WARMUP")
            [ -n "$COLLECTION" ] && args+=(--collection "$COLLECTION")
            line=$("$BIN/bench-load" "${args[@]}" | grep 'calls/s' | tail -n 1)
            echo "round $round  $method  $setup instance(s): $line"
            RESULTS[$method/$setup]+="$(echo "$line" | awk '{print $1}') "
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo
printf '%-18s %14s %14s %8s\n' method "one calls/s" "two calls/s" "two/one"
for method in $METHODS; do
    one=$(echo "${RESULTS[$method/one]}" | median)
    two=$(echo "${RESULTS[$method/two]}" | median)
    awk -v m="$method" -v a="$one" -v b="$two" 'BEGIN { printf "%-18s %14.0f %14.0f %8.2f\n", m, a, b, b / a }'
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
