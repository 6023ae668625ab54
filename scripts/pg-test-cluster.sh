#!/usr/bin/env bash
# Throw-away PostgreSQL 15 cluster for tests.
#   pg-test-cluster.sh start <dir>   create (once) and start; prints PDS_TEST_DATABASE_URL=...
#   pg-test-cluster.sh stop <dir>    stop it (the directory is kept; remove it to start afresh)
#   pg-test-cluster.sh url <dir>     print the URL of a running cluster
# Run as root, the server runs as the `postgres` system user; otherwise as the calling user.
# Listens on 127.0.0.1:<free port> and a unix socket in <dir>; trust auth; fsync off.
set -euo pipefail

usage() {
  echo "usage: $0 start|stop|url <dir>" >&2
  exit 2
}
[[ $# -eq 2 ]] || usage
cmd="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"
data="$dir/data"
port_file="$dir/port"
log_file="$dir/postgres.log"

pg_bin="${PG_BIN:-}"
if [[ -z "$pg_bin" ]]; then
  for v in 15 16 17; do
    if [[ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]]; then
      pg_bin="/usr/lib/postgresql/$v/bin"
      break
    fi
  done
fi
if [[ -z "$pg_bin" && "$cmd" == start && "$(id -u)" == 0 ]]; then
  echo "pg-test-cluster: installing postgresql from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  pg_bin="$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
fi
[[ -n "$pg_bin" && -x "$pg_bin/pg_ctl" ]] || {
  echo "pg-test-cluster: PostgreSQL server binaries not found (set PG_BIN)" >&2
  exit 1
}

# Run a command as the cluster's owner.
if [[ "$(id -u)" == 0 ]]; then
  owner=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  owner="$(id -un)"
  as_owner() { "$@"; }
fi

free_port() {
  # Ask the kernel for a free loopback port.
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

running() { as_owner "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

print_url() { echo "PDS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$(cat "$port_file")/postgres"; }

case "$cmd" in
start)
  if [[ "$owner" == postgres ]]; then
    chown postgres: "$dir"
    chmod 700 "$dir"
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    as_owner "$pg_bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      --no-sync >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
  fi
  if running; then
    print_url
    exit 0
  fi
  started=0
  for _ in 1 2 3 4 5; do # a port taken between the probe and the bind: try another
    port="$(free_port)"
    echo "$port" >"$port_file"
    if [[ "$owner" == postgres ]]; then chown postgres: "$port_file"; fi
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir'"
    opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    if as_owner "$pg_bin/pg_ctl" -D "$data" -l "$log_file" -o "$opts" -w -t 30 start >/dev/null; then
      started=1
      break
    fi
  done
  if [[ "$started" != 1 ]]; then
    tail -n 30 "$log_file" >&2 || true
    exit 1
  fi
  print_url
  ;;
stop)
  if [[ -f "$data/PG_VERSION" ]] && running; then
    as_owner "$pg_bin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null
  fi
  ;;
url)
  running || {
    echo "pg-test-cluster: not running in $dir" >&2
    exit 1
  }
  print_url
  ;;
*) usage ;;
esac
