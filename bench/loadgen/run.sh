#!/usr/bin/env bash
# run.sh - the write benchmark: starts the PDS in its default configuration (its own
# PostgreSQL cluster, fsync on) beside a private PLC directory, runs loadgen against it,
# and stops everything. Prints figures; never a pass/fail judgement on speed.
#   bench/loadgen/run.sh [clients] [seconds]
#   LOADGEN_LIMITS=counted (default): rate limits on and every write counted, the limits
#                  raised so that a flat-out writer is never refused (the reference's 5,000
#                  write points an hour would stop it in seconds)
#                  bypass: limits on, requests bypass them (x-ratelimit-bypass)
#                  off: PDS_RATE_LIMITS_ENABLED=false
set -euo pipefail
cd "$(dirname "$0")/../.."
clients=${1:-8}
secs=${2:-30}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds loadgen >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
work=$(mktemp -d /tmp/pds-bench.XXXXXX)
chmod 755 "$work"
plc_port=$((20000 + RANDOM % 10000))
port=$((30000 + RANDOM % 10000))
bypass=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
limits_env=()
bypass_arg=()
case ${LOADGEN_LIMITS:-counted} in
counted) limits_env=(PDS_RATE_LIMITS=global-ip=1000000000/5m,repo-write-hour=1000000000/1h,repo-write-day=1000000000/1d) ;;
bypass) limits_env=(PDS_RATE_LIMIT_BYPASS_KEY="$bypass") bypass_arg=(--bypass-key "$bypass") ;;
off) limits_env=(PDS_RATE_LIMITS_ENABLED=false) ;;
*) echo "LOADGEN_LIMITS is counted, bypass or off" >&2; exit 2 ;;
esac
echo "loadgen: rate limits ${LOADGEN_LIMITS:-counted}"
"$node" scripts/dev-plc.mjs "$plc_port" >"$work/plc.log" 2>&1 &
plc=$!
env "${limits_env[@]}" PDS_HOSTNAME=localhost PDS_PORT=$port PDS_DATA_DIRECTORY="$work/data" \
  PDS_DID_PLC_URL="http://127.0.0.1:$plc_port" PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
  LOG_LEVEL=warn build/pds serve >"$work/pds.log" 2>&1 &
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
build/bench/loadgen --url "http://127.0.0.1:$port" --clients "$clients" --seconds "$secs" \
  "${bypass_arg[@]}"
