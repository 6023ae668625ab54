#!/usr/bin/env bash
# run.sh - createRecord throughput with 1, 2 and 4 `pds serve` processes on one PostgreSQL
# behind haproxy configured from deploy/haproxy.cfg. The first process starts its private
# cluster (fsync on, as deployed); the others get that cluster's PDS_DATABASE_URL, the same
# secrets and the same blob directory. 16 wrk clients, each writing to its own account.
# Prints, per setting, records/s, p99 and the CPU microseconds per write of the pds
# processes together and of PostgreSQL, and a projection of throughput on C cores from
# those costs. Figures only: it never judges them.
#   bench/scaleout/run.sh            (PROCS="1 2 4" CLIENTS=16 SECS=10 override)
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${PROCS:=1 2 4}" "${CLIENTS:=16}" "${SECS:=10}"
log() { echo "scaleout: $*" >&2; }

command -v wrk >/dev/null && command -v haproxy >/dev/null || bash scripts/deps.sh test
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
work=$(mktemp -d /tmp/pds-scaleout.XXXXXX)
chmod 755 "$work"

plc_port=$((20000 + RANDOM % 5000))
lb_port=$((25000 + RANDOM % 5000))
base_port=$((30000 + RANDOM % 5000)) # process i listens on base_port + i
plc_pid="" lb_pid=""
pds_pids=() # index i-1: process i
secrets=(PDS_JWT_SECRET="$(openssl rand -hex 32)" PDS_DPOP_SECRET="$(openssl rand -hex 32)"
  PDS_ADMIN_PASSWORD="$(openssl rand -hex 16)"
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX="$(openssl rand -hex 32)")

stop_pid() { # pid
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
stop_lb() {
  stop_pid "$lb_pid"
  lb_pid=""
}
stop_extra() { # every process but the first (which owns the cluster)
  local i
  for ((i = ${#pds_pids[@]} - 1; i >= 1; i--)); do stop_pid "${pds_pids[$i]}"; done
  pds_pids=("${pds_pids[@]:0:1}")
}
cleanup() {
  stop_lb
  stop_extra
  # the first process stops its cluster on the way out
  [ ${#pds_pids[@]} -gt 0 ] && stop_pid "${pds_pids[0]}"
  stop_pid "$plc_pid"
  if [ -n "${KEEP:-}" ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_up() { # url
  for _ in $(seq 1 200); do
    curl -sf "$1/xrpc/_health" >/dev/null && return 0
    sleep 0.3
  done
  log "$1 did not start"
  tail -n 20 "$work"/*.log >&2
  exit 1
}

"$node" scripts/dev-plc.mjs "$plc_port" >"$work/plc.log" 2>&1 &
plc_pid=$!

# the private cluster's socket (server/db/cluster.c: <data>/postgres/run, port 5432 names it)
db_url="postgresql:///pds?host=$work/p1/postgres/run&port=5432&user=pds"
start_pds() { # i
  local i=$1 extra=()
  [ "$i" -gt 1 ] && extra=(PDS_DATABASE_URL="$db_url")
  env "${secrets[@]}" "${extra[@]}" PDS_HOSTNAME=localhost PDS_PORT=$((base_port + i)) \
    PDS_DATA_DIRECTORY="$work/p$i" PDS_BLOBSTORE_DISK_LOCATION="$work/p1/blobs" \
    PDS_DID_PLC_URL="http://127.0.0.1:$plc_port" PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
    PDS_RATE_LIMITS_ENABLED=false LOG_LEVEL=warn build/pds serve >>"$work/pds$i.log" 2>&1 &
  pds_pids+=($!)
  wait_up "http://127.0.0.1:$((base_port + i))"
}

start_lb() { # n: haproxy with deploy/haproxy.cfg, its bind and servers rewritten
  local n=$1 i cfg=$work/haproxy.cfg
  sed -e '/^[[:space:]]*log /d' -e '/^[[:space:]]*option httplog$/d' \
    -e "s/bind 127.0.0.1:2580/bind 127.0.0.1:$lb_port/" \
    -e '/^[[:space:]]*server pds[0-9] /d' deploy/haproxy.cfg >"$cfg"
  for ((i = 1; i <= n; i++)); do
    echo "    server pds$i 127.0.0.1:$((base_port + i)) check" >>"$cfg"
  done
  haproxy -c -q -f "$cfg"
  haproxy -db -f "$cfg" >>"$work/haproxy.log" 2>&1 &
  lb_pid=$!
  wait_up "http://127.0.0.1:$lb_port"
  sleep 3 # every server through its first health checks
}

tck=$(getconf CLK_TCK)
cpu_ticks() { # pid...: utime+stime of each
  local t=0 p s
  for p in "$@"; do
    s=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${s% *} + ${s#* }))
  done
  echo "$t"
}
pg_master() { head -n 1 "$work/p1/postgres/data/postmaster.pid"; }
db_ticks() { # the postmaster and its children, and the backends it has reaped
  local m s
  m=$(pg_master)
  s=$(cut -d' ' -f16,17 "/proc/$m/stat")
  echo $(($(cpu_ticks "$m" $(awk -v m="$m" '$4 == m {print $1}' /proc/[0-9]*/stat 2>/dev/null)) + ${s% *} + ${s#* }))
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

start_pds 1
log "creating $CLIENTS accounts"
"$node" bench/compare/setup.mjs accounts "http://127.0.0.1:$((base_port + 1))" "$CLIENTS" \
  s$RANDOM "$work/writers" >/dev/null

rows=() costs=() # costs: "processes pds_us pg_us" of each setting that wrote
for n in $PROCS; do
  stop_lb
  stop_extra
  for ((i = 2; i <= n; i++)); do start_pds "$i"; done
  start_lb "$n"
  s0=$(cpu_ticks "${pds_pids[@]}")
  d0=$(db_ticks)
  out=$(MODE=create ACCOUNTS="$work/writers" wrk -t"$CLIENTS" -c"$CLIENTS" -d"${SECS}s" \
    --timeout 30s -s bench/compare/wrk.lua "http://127.0.0.1:$lb_port" 2>&1) || {
    echo "$out" >&2
    exit 1
  }
  s1=$(cpu_ticks "${pds_pids[@]}")
  d1=$(db_ticks)
  res=$(echo "$out" | sed -n 's/^RESULT //p')
  log "$n process(es): $res"
  ok=$(field "$res" ok)
  srv=- db=-
  if [ "${ok:-0}" -gt 0 ]; then
    srv=$(((s1 - s0) * 1000000 / tck / ok))
    db=$(((d1 - d0) * 1000000 / tck / ok))
    costs+=("$n $srv $db")
  fi
  rows+=("$(printf '%9s %10s %8s %8s %13s %13s' "$n" "$(field "$res" rps)" \
    "$(field "$res" p99_ms)" "$(field "$res" non2xx)" "$srv" "$db")")
done

echo "createRecord through haproxy, $CLIENTS clients on their own accounts, $SECS s per setting"
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); fsync on"
printf '%9s %10s %8s %8s %13s %13s\n' processes records/s p99_ms failed "pds_us/write" "pg_us/write"
printf '%s\n' "${rows[@]}"
echo "projection, not a measurement: with C cores and nothing else limiting, records/s is"
echo "about C / (pds + PostgreSQL CPU per write), at each setting's measured costs:"
for c in "${costs[@]}"; do
  read -r n srv db <<<"$c"
  [ $((srv + db)) -gt 0 ] || continue
  printf '  %s process(es), %s + %s us/write:' "$n" "$srv" "$db"
  for cores in 2 4 8 16; do printf ' %s cores ~%s/s;' "$cores" $((cores * 1000000 / (srv + db))); done
  echo
done
