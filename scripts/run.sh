#!/usr/bin/env bash
# run.sh - the README's run command: installs what is missing, builds, and starts the PDS
# with a working default configuration (http://localhost:2583, data under ./data, its own
# PostgreSQL cluster under ./data/postgres). With hostname localhost and no PDS_DID_PLC_URL
# it also starts a private PLC directory on 127.0.0.1:2582, as the reference's dev
# environment does, so nothing is ever registered in the public directory.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds

export PDS_HOSTNAME=${PDS_HOSTNAME:-localhost}
export PDS_PORT=${PDS_PORT:-2583}
export PDS_DATA_DIRECTORY=${PDS_DATA_DIRECTORY:-$PWD/data}
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
