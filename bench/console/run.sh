#!/usr/bin/env bash
# run.sh - the console's account search at scale (search.mjs): builds the server, starts a
# throw-away PostgreSQL test cluster when PDS_TEST_DATABASE_URL names none, and prints the
# figures. Never a pass/fail judgement.
#   bench/console/run.sh [accounts]
set -euo pipefail
cd "$(dirname "$0")/../.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target pds >/dev/null
node=$(bash scripts/setup-node.sh | tail -n 1)
export PDS_BIN="$PWD/build/pds"
exec "$node" bench/console/search.mjs "${1:-100000}"
