#!/usr/bin/env bash
# fresh-debian-check.sh - the README's commands on a machine that has never seen this
# project: a new Debian 12 root (debootstrap --variant=minbase, plus git and ca-certificates,
# as a minimal server has them), a clone of this checkout's HEAD in it, and then
#   1. with the network: the installs the README's commands make (scripts/deps.sh test,
#      scripts/setup-node.sh) and, as the README says, @atproto/api for its snippet;
#   2. with loopback only (unshare -n): ./scripts/run.sh, the README's snippet against it,
#      build/pdsadmin account list, a clean stop; then ./scripts/test.sh;
#   3. still with loopback only: ./scripts/test.sh a second time (skipped with --once).
# Run it before closing anything that touches set-up. Needs root (debootstrap, chroot,
# namespaces) and about 4 GB under /var/tmp. Every mount (/proc, /dev/shm) and every process
# of the check lives in a private mount and PID namespace, so they end with the check however
# it ends; the root is deleted afterwards (--keep leaves it). The base system's packages are
# cached in .tools/debootstrap/ (--no-cache downloads them again); the root itself is new
# each time and everything the project installs comes from the network.
#   scripts/fresh-debian-check.sh [--keep] [--once] [--no-cache] [--mirror URL]
#                                 [--interop DIR]
set -euo pipefail

suite=bookworm
include=git,ca-certificates
path_in_root=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# ---- inside the root: one phase (the outer part below copies this file there) ----------
if [[ "${1:-}" == --in-root ]]; then
  phase=$2
  cd /root/pds
  node22=/root/pds/.tools/node22/bin
  case $phase in
  install)
    bash scripts/deps.sh test
    bash scripts/setup-node.sh >/dev/null
    # the README: the snippet in a directory of its own, @atproto/api installed there with
    # the npm that setup-node.sh put beside Node 22
    mkdir -p /root/hello
    sed -n '/^```js$/,/^```$/p' README.md | sed '1d;$d' >/root/hello/hello.mjs
    [[ -s /root/hello/hello.mjs ]] || {
      echo "fresh-debian-check: no js snippet in README.md" >&2
      exit 1
    }
    (cd /root/hello && PATH="$node22:$PATH" npm install --no-audit --no-fund --loglevel=error @atproto/api)
    ;;
  run)
    ./scripts/run.sh >/root/run.log 2>&1 &
    run_pid=$!
    up=false
    for _ in $(seq 1 900); do # the first run builds pds and pdsadmin
      if curl -sf -o /dev/null http://localhost:2583/xrpc/_health; then
        up=true
        break
      fi
      kill -0 "$run_pid" 2>/dev/null || break
      sleep 1
    done
    if ! $up; then
      tail -n 40 /root/run.log >&2
      echo "fresh-debian-check: ./scripts/run.sh never answered /xrpc/_health" >&2
      exit 1
    fi
    echo "run.sh: $(grep -m1 'listening on' /root/run.log || true)"
    (cd /root/hello && PATH="$node22:$PATH" node hello.mjs)
    echo "README snippet: account created and posted"
    list=$(build/pdsadmin account list)
    echo "$list"
    grep -q 'alice\.test' <<<"$list" || {
      echo "fresh-debian-check: build/pdsadmin account list does not show alice.test" >&2
      exit 1
    }
    kill -TERM "$run_pid"
    rc=0
    wait "$run_pid" || rc=$?
    [[ $rc -eq 0 ]] || {
      tail -n 20 /root/run.log >&2
      echo "fresh-debian-check: run.sh exited with $rc on SIGTERM" >&2
      exit 1
    }
    echo "run.sh: stopped cleanly"
    ;;
  test)
    ./scripts/test.sh
    ;;
  esac
  exit 0
fi

# ---- outside: build the root, run the phases ---------------------------------------------
self="$(readlink -f "${BASH_SOURCE[0]}")"
repo="$(cd "$(dirname "$self")/.." && pwd)"
keep=false
once=false
cache=true
mirror=http://deb.debian.org/debian
interop="$repo/../shared/interop"
while [[ $# -gt 0 ]]; do
  case $1 in
  --keep) keep=true ;;
  --once) once=true ;;
  --no-cache) cache=false ;;
  --mirror)
    mirror=$2
    shift
    ;;
  --interop)
    interop=$2
    shift
    ;;
  *)
    sed -n '2,/^set -euo/p' "$self" | sed '$d' >&2
    exit 2
    ;;
  esac
  shift
done

log() { echo "fresh-debian-check [$(date +%H:%M:%S)]: $*"; }
die() {
  echo "fresh-debian-check: $*" >&2
  exit 1
}

# The check proper, run inside private mount and PID namespaces (the end of this file).
inner() {
  local work=$1 root=$1/root logs=$1/logs
  local tgz="$repo/.tools/debootstrap/$suite-minbase-$(dpkg --print-architecture).tgz"
  phase_start=$(date +%s)
  if $cache && [[ -f "$tgz" ]]; then
    log "debootstrap $suite (minbase + $include) from the cached packages in $tgz"
    debootstrap --variant=minbase --include="$include" --unpack-tarball="$tgz" \
      "$suite" "$root" "$mirror" >"$logs/debootstrap.log" 2>&1 ||
      die "debootstrap failed (log: $logs/debootstrap.log)"
  else
    if $cache; then
      mkdir -p "$(dirname "$tgz")"
      log "downloading $suite's base packages into $tgz"
      debootstrap --variant=minbase --include="$include" --make-tarball="$tgz.partial" \
        "$suite" "$work/tarball-tmp" "$mirror" >"$logs/debootstrap-download.log" 2>&1 ||
        die "debootstrap --make-tarball failed (log: $logs/debootstrap-download.log)"
      mv "$tgz.partial" "$tgz"
      rm -rf "$work/tarball-tmp"
      debootstrap --variant=minbase --include="$include" --unpack-tarball="$tgz" \
        "$suite" "$root" "$mirror" >"$logs/debootstrap.log" 2>&1 ||
        die "debootstrap failed (log: $logs/debootstrap.log)"
    else
      log "debootstrap $suite (minbase + $include) from $mirror"
      debootstrap --variant=minbase --include="$include" "$suite" "$root" "$mirror" \
        >"$logs/debootstrap.log" 2>&1 || die "debootstrap failed (log: $logs/debootstrap.log)"
    fi
  fi
  # What the Debian installer gives every machine and debootstrap does not: the security
  # and updates archives, and /etc/hosts (localhost must resolve without DNS).
  local sec_mirror=${mirror%/debian}/debian-security
  cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $sec_mirror $suite-security main
EOF
  [[ -s "$root/etc/hosts" ]] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  # A network that intercepts TLS (as this machine's may) needs its CAs on any machine: the
  # host's local CAs are trusted in the root too, by the system and by npm.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" /usr/sbin/update-ca-certificates >/dev/null 2>&1 ||
      die "update-ca-certificates failed in the root"
    echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$root/etc/npmrc"
    log "the host's local CAs trusted in the root:" \
      "$(cd /usr/local/share/ca-certificates && echo *.crt)"
  fi
  # A chroot has no init: package scripts must not start daemons (PostgreSQL's "main"
  # cluster) that would outlive their phase; the tests start their own clusters.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  log "root ready in $(($(date +%s) - phase_start)) s"

  mount -t proc proc "$root/proc"
  mkdir -p "$root/dev/shm"
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm" # PostgreSQL's shared memory

  local head
  head=$(git -C "$repo" rev-parse HEAD)
  git clone --quiet --no-hardlinks "$repo" "$root/root/pds"
  git -C "$root/root/pds" checkout --quiet --detach "$head"
  mkdir -p "$root/root/shared"
  cp -rL "$interop" "$root/root/shared/interop"
  cp "$self" "$root/root/fresh-check.sh"
  log "cloned $head (and the interop vectors) into the root"

  in_root() { # phase, with or without the network
    local net=$1 phase=$2 t0 rc=0
    t0=$(date +%s)
    local cmd=(chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root
      PATH="$path_in_root" LANG=C.UTF-8 TERM=dumb /bin/bash /root/fresh-check.sh --in-root "$phase")
    if [[ $net == offline ]]; then
      # a new network namespace: only loopback, brought up before entering the root
      unshare --net -- bash -c '
        ip link set lo up
        [ "$(ip -o link | wc -l)" -eq 1 ] || { echo "more than loopback" >&2; exit 1; }
        exec "$@"' _ "${cmd[@]}" >"$logs/$3.log" 2>&1 || rc=$?
    else
      "${cmd[@]}" >"$logs/$3.log" 2>&1 || rc=$?
    fi
    if [[ $rc -ne 0 ]]; then
      tail -n 60 "$logs/$3.log" >&2
      die "$3 failed (exit $rc) after $(($(date +%s) - t0)) s; log: $logs/$3.log"
    fi
    log "$3 passed in $(($(date +%s) - t0)) s ($net)"
  }

  log "1. installs with the network: deps.sh test, setup-node.sh, @atproto/api for the snippet"
  in_root online install install
  log "2. loopback only: ./scripts/run.sh, the README snippet, build/pdsadmin account list"
  in_root offline run run
  grep -E '^(run.sh|README|[ ]*(handle|alice))' "$logs/run.log" | sed 's/^/    /' || true
  log "2. loopback only: ./scripts/test.sh"
  in_root offline test test-1
  grep -E '^(interop: |all test kinds passed|ℹ (tests|pass|fail) )' "$logs/test-1.log" | sed 's/^/    /' || true
  if ! $once; then
    log "3. loopback only: ./scripts/test.sh again"
    in_root offline test test-2
    grep -E '^(all test kinds passed|ℹ (tests|pass|fail) )' "$logs/test-2.log" | sed 's/^/    /' || true
  fi
}

if [[ -n "${PDS_FRESH_CHECK_INNER:-}" ]]; then
  inner "$PDS_FRESH_CHECK_INNER"
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || die "run as root (debootstrap, chroot and namespaces need it)"
[[ -d "$interop" ]] || die "no interop vectors at $interop (--interop DIR)"
if ! command -v debootstrap >/dev/null; then
  log "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
if [[ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]]; then
  log "note: uncommitted changes are not part of the check (it clones HEAD)"
fi

start=$(date +%s)
work=$(mktemp -d /var/tmp/pds-fresh-debian.XXXXXX)
mkdir -p "$work/logs"
finish() {
  local rc=$?
  # the namespaces are gone: nothing may still be mounted under the work directory
  if findmnt -rn -o TARGET | grep -qF "$work"; then
    echo "fresh-debian-check: something is still mounted under $work; not deleting it" >&2
  elif $keep; then
    log "kept $work"
  elif [[ $rc -eq 0 ]]; then
    rm -rf "$work"
  else
    rm -rf "$work/root" "$work/tarball-tmp"
    log "logs kept in $work/logs"
  fi
}
trap finish EXIT
log "work directory $work"
export PDS_FRESH_CHECK_INNER=$work
args=()
$keep && args+=(--keep)
$once && args+=(--once)
$cache || args+=(--no-cache)
unshare --mount --propagation private --pid --fork --kill-child -- \
  bash "$self" "${args[@]}" --mirror "$mirror" --interop "$interop"
log "PASSED in $((($(date +%s) - start) / 60)) min $((($(date +%s) - start) % 60)) s"
