#!/usr/bin/env bash
# run.sh - the OAuth resource-server benchmark (rs_check.mjs): the release build against a
# throw-away PostgreSQL cluster and an in-memory PLC directory. Prints figures only.
#   bench/oauth/run.sh [calls]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
dir=$(mktemp -d /tmp/pds-bench-oauth.XXXXXX)
chmod 755 "$dir"
trap 'scripts/pg-test-cluster.sh stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
export "$(scripts/pg-test-cluster.sh start "$dir" | grep '^PDS_TEST_DATABASE_URL=')"
PDS_BIN="$PWD/build/pds" "$node" bench/oauth/rs_check.mjs "${1:-500}"
