#!/usr/bin/env bash
# run.sh - the README's run command: installs what is missing, builds, and starts the PDS
# with a working default configuration (http://localhost:2583, data under ./data, its own
# PostgreSQL cluster under ./data/postgres). With hostname localhost and no PDS_DID_PLC_URL
# it also starts a private PLC directory on 127.0.0.1:2582, as the reference's dev
# environment does, so nothing is ever registered in the public directory. It builds
# pdsadmin too: `build/pdsadmin account list` in the checkout finds this server (its port,
# and the admin password in ./data/secrets.env).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds pdsadmin

export PDS_HOSTNAME=${PDS_HOSTNAME:-localhost}
export PDS_PORT=${PDS_PORT:-2583}
export PDS_DATA_DIRECTORY=${PDS_DATA_DIRECTORY:-$PWD/data}

# As root, the private cluster runs as the postgres user (PostgreSQL refuses root), which
# must be able to walk down to <data>/postgres: a checkout in /root (mode 0700) stops it.
# Let that user alone pass through (an ACL entry: search, not read), and say so.
if [ "$(id -u)" -eq 0 ] && [ -z "${PDS_DATABASE_URL:-}" ] && id postgres >/dev/null 2>&1; then
  mkdir -p "$PDS_DATA_DIRECTORY"
  IFS=/ read -ra parts <<<"$(cd "$PDS_DATA_DIRECTORY" && pwd)"
  dir=""
  for part in "${parts[@]:1}"; do
    dir="$dir/$part"
    if ! runuser -u postgres -- test -x "$dir"; then
      echo "run.sh: letting the postgres user pass through $dir to the cluster in" \
        "$PDS_DATA_DIRECTORY/postgres (setfacl -m u:postgres:x $dir)" >&2
      setfacl -m u:postgres:x "$dir"
    fi
  done
fi
plc_pid=""
if [ "$PDS_HOSTNAME" = localhost ] && [ -z "${PDS_DID_PLC_URL:-}" ]; then
  node=$(bash scripts/setup-node.sh | tail -n 1)
  plc_port=${PDS_DEV_PLC_PORT:-2582}
  mkdir -p "$PDS_DATA_DIRECTORY"
  "$node" scripts/dev-plc.mjs "$plc_port" "$PDS_DATA_DIRECTORY/plc-ops.jsonl" &
  plc_pid=$!
  export PDS_DID_PLC_URL="http://127.0.0.1:$plc_port"
  export PDS_DEV_MODE=${PDS_DEV_MODE:-true}
  export PDS_INVITE_REQUIRED=${PDS_INVITE_REQUIRED:-false}
fi
trap '[ -n "$plc_pid" ] && kill "$plc_pid" 2>/dev/null; wait' EXIT
build/pds serve &
pds_pid=$!
trap 'kill -TERM "$pds_pid" 2>/dev/null; wait "$pds_pid"; [ -n "$plc_pid" ] && kill "$plc_pid" 2>/dev/null; exit 0' INT TERM
wait "$pds_pid"
