#!/usr/bin/env bash
# run.sh - figures for the rate limits and overload protection: starts the PDS in its
# default configuration (its own PostgreSQL cluster, fsync on) beside a private PLC
# directory, once per setting compared, runs ratebench against it, stops everything.
# Prints figures; never a pass/fail judgement on speed.
#   bench/ratelimit/run.sh [fairness|overload|writecost|all] [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
what=${1:-all}
secs=${2:-20}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds ratebench >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
work=$(mktemp -d /tmp/pds-ratebench.XXXXXX)
chmod 755 "$work"
plc_port=$((20000 + RANDOM % 10000))
port=$((30000 + RANDOM % 10000))
admin=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
bypass=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$node" scripts/dev-plc.mjs "$plc_port" >"$work/plc.log" 2>&1 &
plc=$!
pds=""
stop_pds() {
  if [ -n "$pds" ]; then
    kill -TERM "$pds" 2>/dev/null || true
    wait "$pds" 2>/dev/null || true
    pds=""
  fi
}
cleanup() {
  stop_pds
  kill "$plc" 2>/dev/null || true
  if [ -n "${RATEBENCH_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
# start_pds VAR=VALUE...: one server on the same data directory (and private cluster); the
# settings given win over the defaults here
start_pds() {
  stop_pds
  env PDS_HOSTNAME=localhost PDS_PORT=$port PDS_DATA_DIRECTORY="$work/data" \
    PDS_DID_PLC_URL="http://127.0.0.1:$plc_port" PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
    PDS_ADMIN_PASSWORD="$admin" PDS_RATE_LIMIT_BYPASS_KEY="$bypass" LOG_LEVEL=warn "$@" \
    build/pds serve >>"$work/pds.log" 2>&1 &
  pds=$!
  for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/xrpc/_health" >/dev/null && return 0
    sleep 0.3
  done
  echo "pds did not start:" >&2
  tail -20 "$work/pds.log" >&2
  exit 1
}
url="http://127.0.0.1:$port"
echo "machine: $(nproc) cores; pds worker threads default to that"

if [ "$what" = all ] || [ "$what" = writecost ]; then
  for mode in off counted; do
    echo "== write cost, rate limits $mode"
    if [ $mode = off ]; then
      start_pds PDS_RATE_LIMITS_ENABLED=false
    else
      # every limit counted, none reached
      start_pds PDS_RATE_LIMITS=global-ip=1000000000/5m,repo-write-hour=1000000000/1h,repo-write-day=1000000000/1d
    fi
    build/bench/ratebench writecost --url "$url" --admin-password "$admin" --writes 2000
  done
fi

if [ "$what" = all ] || [ "$what" = fairness ]; then
  # a host the relays give 100,000 accounts: 150 events/s, 102,500/h, 1,020,000/day, so ten
  # accounts writing twice a second fit and one account flat out does not
  echo "== fairness: limits on, host budget kept for an account limit of 100,000"
  start_pds PDS_HOST_BUDGET=on PDS_RELAY_ACCOUNT_LIMIT=100000
  build/bench/ratebench fairness --url "$url" --bypass-key "$bypass" --seconds "$secs" \
    --greedy-conns "${RATEBENCH_GREEDY_CONNS:-8}"
  echo "== fairness: limits off (PDS_RATE_LIMITS_ENABLED=false)"
  start_pds PDS_RATE_LIMITS_ENABLED=false
  build/bench/ratebench fairness --url "$url" --bypass-key "$bypass" --seconds "$secs" \
    --greedy-conns "${RATEBENCH_GREEDY_CONNS:-8}"
fi

if [ "$what" = all ] || [ "$what" = overload ]; then
  for setting in "PDS_OVERLOAD_PROTECTION=true" "PDS_OVERLOAD_PROTECTION=false" \
    "PDS_OVERLOAD_PROTECTION=false PDS_WORKER_THREADS=8"; do
    echo "== overload: $setting (requests bypass the rate limits, not overload protection)"
    # shellcheck disable=SC2086
    start_pds $setting LOG_LEVEL=info
    from=$(wc -l <"$work/pds.log")
    build/bench/ratebench overload --url "$url" --bypass-key "$bypass" --seconds "$secs" --factor 3
    # the server's own time per request (headers read to answer sent), from its log: the
    # client's figures above also hold the wait before the server read the request
    for code in 200 503; do
      tail -n +"$from" "$work/pds.log" | grep -F "createRecord $code " | awk '{ sub(/ms$/, "", $6); print $6 }' |
        sort -n | awk -v code="$code" '{ a[NR] = $1 } END { if (NR) printf "  server side %s: n %d  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n", code, NR, a[int(NR * 0.5) + 1], a[int(NR * 0.99) + 1], a[NR] }'
    done
  done
fi
