#!/usr/bin/env bash
# run.sh - the firehose benchmark: starts the PDS in its default configuration (its own
# PostgreSQL cluster, fsync on) beside a private PLC directory, then for each subscriber
# count runs firehose_bench (N WebSocket subscribers while writers create records at a
# target rate) and stops everything. Prints figures; never a pass/fail judgement on speed.
#   bench/firehose/run.sh [rate] [seconds] [subscriber counts...]
#   bench/firehose/run.sh 1000 20 10 100 1000
# BUILD_DIR (default build) is where the release pds is built.
set -euo pipefail
cd "$(dirname "$0")/../.."
rate=${1:-1000}
secs=${2:-20}
shift $(($# < 2 ? $# : 2))
counts=${*:-"10 100 1000"}
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target pds firehose_bench >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
work=$(mktemp -d /tmp/pds-fh-bench.XXXXXX)
chmod 755 "$work"
plc_port=$((20000 + RANDOM % 10000))
port=$((30000 + RANDOM % 10000))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # a socket per subscriber on both sides
"$node" scripts/dev-plc.mjs "$plc_port" >"$work/plc.log" 2>&1 &
plc=$!
PDS_HOSTNAME=localhost PDS_PORT=$port PDS_DATA_DIRECTORY="$work/data" \
  PDS_DID_PLC_URL="http://127.0.0.1:$plc_port" PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
  PDS_RATE_LIMITS_ENABLED=false LOG_LEVEL=warn "$build/pds" serve >"$work/pds.log" 2>&1 &
pds=$!
cleanup() {
  kill -TERM "$pds" 2>/dev/null || true
  wait "$pds" 2>/dev/null || true
  kill "$plc" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/xrpc/_health" >/dev/null && break
  sleep 0.3
done
for n in $counts; do
  "$build/bench/firehose_bench" --url "http://127.0.0.1:$port" --subscribers "$n" \
    --rate "$rate" --seconds "$secs"
  sleep 2 # the previous run's subscribers are gone before the next connects
done
if grep -qiE "error|ConsumerTooSlow" "$work/pds.log"; then
  echo "--- pds log (errors and drops) ---"
  grep -iE "error|ConsumerTooSlow" "$work/pds.log" | tail -n 20
fi
