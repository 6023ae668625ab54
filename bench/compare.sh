#!/usr/bin/env bash
# compare.sh - this server beside the reference PDS (npm @atproto/pds) on this machine, in
# one run: installs and starts both on loopback with their default durable settings (ours:
# its own PostgreSQL cluster, fsync on; the reference: SQLite in WAL mode as it ships), runs
# each workload on both alternately for several rounds, and writes the medians and their
# ratios to docs/benchmarks.md. Figures only: it never judges them.
#   bench/compare.sh          the full run (3 rounds of 10 s, 10,000 accounts; ~30-40 min)
#   bench/compare.sh quick    a development run (1 round of 4 s, small counts; ~5 min)
# Environment overrides: ROUNDS SECS ACCOUNTS REF_ACCOUNTS REPO_RECORDS SUBS FH_RATE FH_SECS
# OUT (where the report goes; quick runs default to build/benchmarks-quick.md)
# REF_PDS_VERSION (npm version of @atproto/pds; default below).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mode=${1:-full}
case "$mode" in
full)
  : "${ROUNDS:=3}" "${SECS:=10}" "${ACCOUNTS:=10000}" "${REPO_RECORDS:=10000}"
  : "${SUBS:=10 100 1000}" "${FH_RATE:=1000}" "${FH_SECS:=10}" "${OUT:=docs/benchmarks.md}"
  ;;
quick)
  : "${ROUNDS:=1}" "${SECS:=4}" "${ACCOUNTS:=200}" "${REPO_RECORDS:=2000}"
  : "${SUBS:=10 100}" "${FH_RATE:=500}" "${FH_SECS:=4}" "${OUT:=build/benchmarks-quick.md}"
  ;;
*)
  echo "usage: $0 [full|quick]" >&2
  exit 2
  ;;
esac
: "${REF_ACCOUNTS:=$ACCOUNTS}" "${REF_PDS_VERSION:=0.5.35}"
started=$(date +%s)

log() { echo "compare: $*" >&2; }

# --- what both need ------------------------------------------------------------------
bash scripts/deps.sh build
command -v wrk >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds firehose_bench >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
node_dir=$(dirname "$(dirname "$node")")
ref_dir=$root/bench/.ref # gitignored: the reference's code is never committed
if [ "$(cat "$ref_dir/.installed" 2>/dev/null)" != "$REF_PDS_VERSION" ]; then
  log "installing @atproto/pds@$REF_PDS_VERSION under bench/.ref"
  rm -rf "$ref_dir"
  mkdir -p "$ref_dir"
  echo '{"name":"ref-pds","private":true,"type":"module"}' >"$ref_dir/package.json"
  (cd "$ref_dir" && PATH="$node_dir/bin:$PATH" npm_config_nodedir="$node_dir" \
    npm_config_build_from_source=true npm install --no-audit --no-fund --loglevel=error \
    "@atproto/pds@$REF_PDS_VERSION" >&2)
  echo "$REF_PDS_VERSION" >"$ref_dir/.installed"
fi

work=$(mktemp -d /tmp/pds-compare.XXXXXX)
chmod 755 "$work"
results=$work/results.tsv # round, server, workload, key, value
meta=$work/meta.tsv       # key, value
: >"$results"
: >"$meta"
put() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$results"; }
note() { printf '%s\t%s\n' "$1" "$2" >>"$meta"; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true # a socket per subscriber on both sides

# --- the machine -----------------------------------------------------------------------
pg_bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fsync_ops=$("$pg_bin/pg_test_fsync" -s 2 -f "$work/fsync.probe" 2>/dev/null |
  awk '/one 8kB write/ {s=1} s && $1 == "fdatasync" && $2 ~ /^[0-9]/ {print $2; exit}')
rm -f "$work/fsync.probe"
note cores "$(nproc)"
note model "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
note memory "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
note fsync "${fsync_ops:-?} fdatasync/s (pg_test_fsync, one 8 kB write)"
note kernel "$(uname -r)"
note ours "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- server migrations || echo ' + local changes')"
note postgres "$("$pg_bin/postgres" --version | awk '{print $3}')"
note reference "@atproto/pds $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$ref_dir/node_modules/@atproto/pds/package.json")"
note node "$("$node" --version)"
note sqlite "$(cd "$ref_dir" && "$node" -e "const D=require('better-sqlite3');console.log(new D(':memory:').prepare('select sqlite_version()').pluck().get())") (better-sqlite3 $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$ref_dir/node_modules/better-sqlite3/package.json"))"
note mode "$mode: $ROUNDS rounds of $SECS s; firehose $FH_RATE writes/s target for $FH_SECS s"
note repo_records "$REPO_RECORDS"
note secs "$SECS"

# --- start both ------------------------------------------------------------------------
plc_port=$((20000 + RANDOM % 5000))
ours_port=$((25000 + RANDOM % 5000))
ref_port=$((30000 + RANDOM % 5000))
ours_url=http://127.0.0.1:$ours_port
ref_url=http://127.0.0.1:$ref_port
"$node" scripts/dev-plc.mjs "$plc_port" >"$work/plc.log" 2>&1 &
plc_pid=$!
ours_pid="" ref_pid=""

# Rate limits off on ours, as the reference ships them (PDS_RATE_LIMITS_ENABLED defaults to
# false there): the workloads create thousands of accounts from one address and write far
# past an account's hourly points. The host event budget and overload protection stay on.
start_ours() {
  PDS_HOSTNAME=localhost PDS_PORT=$ours_port PDS_DATA_DIRECTORY="$work/ours" \
    PDS_DID_PLC_URL="http://127.0.0.1:$plc_port" PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
    PDS_RATE_LIMITS_ENABLED=false LOG_LEVEL=warn build/pds serve >>"$work/ours.log" 2>&1 &
  ours_pid=$!
}
ref_secrets="PDS_JWT_SECRET=$(openssl rand -hex 16) PDS_ADMIN_PASSWORD=$(openssl rand -hex 16)"
ref_secrets+=" PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=$(openssl rand -hex 32)"
start_ref() {
  mkdir -p "$work/ref"
  env $ref_secrets PDS_HOSTNAME=localhost PDS_PORT="$ref_port" PDS_DATA_DIRECTORY="$work/ref" \
    PDS_BLOBSTORE_DISK_LOCATION="$work/ref/blocks" PDS_DID_PLC_URL="http://127.0.0.1:$plc_port" \
    PDS_DEV_MODE=true PDS_INVITE_REQUIRED=false \
    "$node" bench/compare/ref-pds.mjs "$ref_dir" >>"$work/ref.log" 2>&1 &
  ref_pid=$!
}
stop_server() { # pid
  [ -n "$1" ] || return 0
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_server "$ours_pid"
  stop_server "$ref_pid"
  kill "$plc_pid" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
wait_up() { # url
  for _ in $(seq 1 200); do
    curl -sf "$1/xrpc/_health" >/dev/null && return 0
    sleep 0.3
  done
  log "$1 did not start"
  tail -n 20 "$work"/*.log >&2
  exit 1
}
start_ours
start_ref
wait_up "$ours_url"
wait_up "$ref_url"
url_of() { [ "$1" = ours ] && echo "$ours_url" || echo "$ref_url"; }
pid_of() { [ "$1" = ours ] && echo "$ours_pid" || echo "$ref_pid"; }

# --- per-process CPU and memory --------------------------------------------------------
tck=$(getconf CLK_TCK)
pg_master() { head -n 1 "$work/ours/postgres/data/postmaster.pid"; }
pg_pids() { # the postmaster and its children
  local m
  m=$(pg_master)
  echo "$m"
  awk -v m="$m" '$4 == m {print $1}' /proc/[0-9]*/stat 2>/dev/null || true
}
cpu_ticks() { # pid...: utime+stime of each
  local t=0 p s
  for p in "$@"; do
    s=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue
    t=$((t + ${s% *} + ${s#* }))
  done
  echo "$t"
}
db_ticks() { # the cluster's processes, and the backends it has reaped (postmaster cutime+cstime)
  local m s
  m=$(pg_master)
  s=$(cut -d' ' -f16,17 "/proc/$m/stat")
  echo $(($(cpu_ticks $(pg_pids)) + ${s% *} + ${s#* }))
}
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
pg_pss_mb() { # PostgreSQL's own memory: PSS, so shared buffers count once
  local p t=0 k
  for p in $(pg_pids); do
    k=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0)
    t=$((t + ${k:-0}))
  done
  awk -v t="$t" 'BEGIN {printf "%.1f", t / 1024}'
}

# --- workloads -------------------------------------------------------------------------
wrk_run() { # server clients threads url [accounts-file]: prints the RESULT fields
  local out
  out=$(MODE=${5:+create} ACCOUNTS=${5:-} wrk -t"$3" -c"$2" -d"${SECS}s" --timeout 30s \
    -s bench/compare/wrk.lua "$4" 2>&1) || {
    echo "$out" >&2
    return 1
  }
  echo "$out" | grep '^RESULT' | sed 's/^RESULT //'
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

create_run() { # round server clients
  local r=$1 s=$2 n=$3 pid t0 d0 res ok
  pid=$(pid_of "$s")
  t0=$(cpu_ticks "$pid")
  [ "$s" = ours ] && d0=$(db_ticks)
  res=$(wrk_run "$s" "$n" "$n" "$(url_of "$s")" "$work/$s.writers")
  ok=$(field "$res" ok)
  put "$r" "$s" "create$n" rps "$(field "$res" rps)"
  put "$r" "$s" "create$n" p99 "$(field "$res" p99_ms)"
  put "$r" "$s" "create$n" failed "$(field "$res" non2xx)"
  put "$r" "$s" "create$n" records "$ok"
  if [ "${ok:-0}" -gt 0 ]; then
    put "$r" "$s" "create$n" cpu_srv $((($(cpu_ticks "$pid") - t0) * 1000000 / tck / ok))
    [ "$s" = ours ] && put "$r" "$s" "create$n" cpu_db $((($(db_ticks) - d0) * 1000000 / tck / ok))
  fi
  log "round $r $s createRecord x$n: $res"
}
read_run() { # round server workload path
  local res
  res=$(wrk_run "$2" 8 2 "$(url_of "$2")$4")
  put "$1" "$2" "$3" rps "$(field "$res" rps)"
  put "$1" "$2" "$3" p99 "$(field "$res" p99_ms)"
  put "$1" "$2" "$3" failed "$(field "$res" non2xx)"
  log "round $1 $2 $3: $res"
}
getrepo_run() { # round server
  local did i out
  did=$(sed -n 's/^did //p' "$work/$2.repo")
  for i in 1 2 3; do
    out=$(curl -sf -o /dev/null -w '%{size_download} %{time_total}' \
      "$(url_of "$2")/xrpc/com.atproto.sync.getRepo?did=$did")
    put "$1" "$2" getrepo mbps "$(echo "$out" | awk '{printf "%.1f", $1 / $2 / 1e6}')"
    put "$1" "$2" getrepo bytes "${out% *}"
  done
  log "round $1 $2 getRepo: $out"
}
firehose_run() { # round server subscribers
  local out
  out=$(build/bench/firehose_bench --url "$(url_of "$2")" --subscribers "$3" --rate "$FH_RATE" \
    --seconds "$FH_SECS" --warmup 2 2>&1) || {
    echo "$out" >&2
    return 1
  }
  put "$1" "$2" "fh$3" rate "$(echo "$out" | sed -n 's/.*writes acknowledged: \([0-9.]*\)\/s.*/\1/p')"
  put "$1" "$2" "fh$3" p50 "$(echo "$out" | sed -n 's/.*lag.*p50 \([0-9.]*\) ms.*/\1/p')"
  put "$1" "$2" "fh$3" p99 "$(echo "$out" | sed -n 's/.*lag.*p99 \([0-9.]*\) ms.*/\1/p')"
  log "round $1 $2 firehose x$3: $(echo "$out" | tr '\n' ' ' | tr -s ' ')"
  sleep 2 # the subscribers are gone before the next run connects
}
disk_bytes() { # server: bytes of its data, after a checkpoint (PostgreSQL's WAL excluded)
  if [ "$1" = ours ]; then
    runuser -u postgres -- "$pg_bin/psql" -qAt -h "$work/ours/postgres/run" -p 5432 -U pds pds \
      -c CHECKPOINT >/dev/null 2>&1 || psql -qAt -h "$work/ours/postgres/run" -p 5432 -U pds pds \
      -c CHECKPOINT >/dev/null
    du -sb --exclude=pg_wal --exclude='*.log' "$work/ours" | cut -f1
  else
    python3 - "$work/ref" <<'EOF'
import pathlib, sqlite3, sys
for f in pathlib.Path(sys.argv[1]).rglob('*.sqlite'):
    c = sqlite3.connect(f, timeout=10)
    c.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    c.close()
EOF
    du -sb "$work/ref" | cut -f1
  fi
}

order() { [ $(($1 % 2)) -eq 1 ] && echo "ours ref" || echo "ref ours"; }

# --- setup on both: 64 writers, a repository of REPO_RECORDS posts --------------------
for s in ours ref; do
  "$node" bench/compare/setup.mjs accounts "$(url_of "$s")" 64 w$RANDOM "$work/$s.writers" >/dev/null
  "$node" bench/compare/setup.mjs repo "$(url_of "$s")" "$REPO_RECORDS" r$RANDOM >"$work/$s.repo"
  note "repo_seconds_$s" "$(sed -n 's/^seconds //p' "$work/$s.repo")"
  log "$s: writers and a $REPO_RECORDS-record repository ready"
done

# --- writes and reads, alternating ---------------------------------------------------
declare -A disk0
for s in ours ref; do disk0[$s]=$(disk_bytes "$s"); done
for r in $(seq 1 "$ROUNDS"); do
  for n in 1 8 64; do
    for s in $(order "$r"); do create_run "$r" "$s" "$n"; done
  done
  for s in $(order "$r"); do
    did=$(sed -n 's/^did //p' "$work/$s.repo")
    rkey=$(sed -n 's/^rkey //p' "$work/$s.repo")
    read_run "$r" "$s" getrecord \
      "/xrpc/com.atproto.repo.getRecord?repo=$did&collection=app.bsky.feed.post&rkey=$rkey"
  done
  for s in $(order "$r"); do
    did=$(sed -n 's/^did //p' "$work/$s.repo")
    read_run "$r" "$s" listrecords \
      "/xrpc/com.atproto.repo.listRecords?repo=$did&collection=app.bsky.feed.post&limit=50"
  done
  for s in $(order "$r"); do getrepo_run "$r" "$s"; done
done
for s in ours ref; do
  recs=$(awk -F'\t' -v s="$s" '$2 == s && $4 == "records" {t += $5} END {print t + 0}' "$results")
  put 0 "$s" disk bytes_per_record $((($(disk_bytes "$s") - ${disk0[$s]}) / (recs > 0 ? recs : 1)))
done

# --- firehose fan-out ----------------------------------------------------------------
for r in $(seq 1 "$ROUNDS"); do
  for n in $SUBS; do
    for s in $(order "$r"); do firehose_run "$r" "$s" "$n"; done
  done
done

# --- many accounts: how long they take, then memory idle and under load --------------
for s in ours ref; do
  n=$ACCOUNTS
  [ "$s" = ref ] && n=$REF_ACCOUNTS
  out=$("$node" bench/compare/setup.mjs accounts "$(url_of "$s")" "$n" m$RANDOM "$work/$s.many")
  put 0 "$s" accounts count "$n"
  put 0 "$s" accounts seconds "$(echo "$out" | sed -n 's/^seconds //p')"
  log "$s: $n accounts in $(echo "$out" | sed -n 's/^seconds //p') s"
done
sleep 5
for s in ours ref; do
  put 0 "$s" rss idle "$(rss_mb "$(pid_of "$s")")"
  [ "$s" = ours ] && put 0 "$s" rss pg_idle "$(pg_pss_mb)"
done
for s in ours ref; do
  pid=$(pid_of "$s")
  head -n 8 "$work/$s.many" >"$work/$s.load"
  (
    peak=0 pg=0
    while [ ! -f "$work/stop-sampling" ]; do
      peak=$(awk -v a="$peak" -v b="$(rss_mb "$pid")" 'BEGIN {print (b > a ? b : a)}')
      [ "$s" = ours ] && pg=$(awk -v a="$pg" -v b="$(pg_pss_mb)" 'BEGIN {print (b > a ? b : a)}')
      sleep 0.5
    done
    echo "$peak $pg" >"$work/$s.peak"
  ) &
  sampler=$!
  res=$(wrk_run "$s" 8 8 "$(url_of "$s")" "$work/$s.load")
  touch "$work/stop-sampling"
  wait "$sampler"
  rm -f "$work/stop-sampling"
  read -r peak pg <"$work/$s.peak"
  put 0 "$s" rss load "$peak"
  [ "$s" = ours ] && put 0 "$s" rss pg_load "$pg"
  log "$s: RSS under load ${peak} MB ($res)"
done

note elapsed "$(($(date +%s) - started)) s"
python3 bench/compare/report.py "$results" "$meta" "$OUT"
log "wrote $OUT"
