#!/usr/bin/env bash
# Runs the end-to-end suite: the real pds binary (build/pds, or $PDS_BIN) against PostgreSQL
# and an in-memory PLC directory, driven by the official npm clients under Node 22.
#   tests/e2e/run.sh                 every tests/e2e/*.test.mjs
#   tests/e2e/run.sh health plc      only those files
# Reuses the cluster named by PDS_TEST_DATABASE_URL; otherwise starts a throw-away one
# (scripts/pg-test-cluster.sh) and stops it at exit. Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

node="$(scripts/setup-node.sh | tail -n1)"
echo "e2e: node $("$node" --version) at $node"

bin="${PDS_BIN:-build/pds}"
[[ "$bin" == /* ]] || bin="$root/$bin"
if [[ ! -x "$bin" ]]; then
  echo "e2e: pds binary not found at $bin (build the pds target, or set PDS_BIN)" >&2
  exit 1
fi
export PDS_BIN="$bin"

cluster_dir=""
cleanup() {
  if [[ -n "$cluster_dir" ]]; then
    scripts/pg-test-cluster.sh stop "$cluster_dir" || true
    rm -rf "$cluster_dir"
  fi
}
trap cleanup EXIT
if [[ -z "${PDS_TEST_DATABASE_URL:-}" ]]; then
  cluster_dir="$(mktemp -d /tmp/pds-e2e-cluster.XXXXXX)"
  out="$(scripts/pg-test-cluster.sh start "$cluster_dir")"
  PDS_TEST_DATABASE_URL="$(sed -n 's/^PDS_TEST_DATABASE_URL=//p' <<<"$out")"
  [[ -n "$PDS_TEST_DATABASE_URL" ]] || {
    echo "e2e: could not start a test cluster" >&2
    exit 1
  }
  export PDS_TEST_DATABASE_URL
fi
echo "e2e: database cluster $PDS_TEST_DATABASE_URL"

files=()
if [[ $# -gt 0 ]]; then
  for name in "$@"; do files+=("tests/e2e/${name%.test.mjs}.test.mjs"); done
else
  files=(tests/e2e/*.test.mjs)
fi

status=0
# the timeout also bounds each file as a whole: migrate.test.mjs (three servers, the reference
# PDS and a browser, one after another) takes about two minutes when the files run together
"$node" --test --test-reporter=spec --test-timeout="${PDS_E2E_TEST_TIMEOUT_MS:-300000}" "${files[@]}" || status=$?
exit "$status"
