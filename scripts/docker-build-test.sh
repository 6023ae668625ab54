#!/usr/bin/env bash
# docker-build-test.sh - runs the Dockerfile's build steps without Docker (this machine has
# no Docker engine) and checks what the image would hold:
#   1. the build stage's context: exactly the paths its COPY lines name, into a temp dir;
#   2. the package lists (deploy/docker/packages-*.txt): build packages installed here,
#      runtime and standalone packages known to apt;
#   3. the build stage's RUN (deploy/docker/build.sh) on that copy, into a temp root;
#   4. every shared library the binaries link (ELF NEEDED) comes from a runtime package or
#      from the base image, and every library package listed is needed;
#   5. the installed binaries run, and the default (standalone) mode works as the image
#      runs it: an unprivileged user, no PDS_DATABASE_URL (a private PostgreSQL cluster),
#      and the HEALTHCHECK command answering.
# Usage: scripts/docker-build-test.sh [--keep]    (--keep leaves the temp dir)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
keep=false
[[ "${1:-}" == --keep ]] && keep=true

tmp="$(mktemp -d /tmp/pds-docker-test.XXXXXX)"
pds_pid=""
cleanup() {
  if [[ -n "$pds_pid" ]]; then
    kill -TERM "$pds_pid" 2>/dev/null || true
    wait "$pds_pid" 2>/dev/null || true
  fi
  if $keep; then echo "docker-build-test: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
fail() {
  echo "docker-build-test: FAIL: $*" >&2
  exit 1
}
step() { echo "docker-build-test: $*"; }

list() { sed 's/#.*//' "$1" | tr -s ' \t' '\n' | grep -v '^$'; }

# ---- 1. the build stage's context --------------------------------------------------------
# The lines of the "build" stage, continuation lines joined.
stage() {
  sed -e ':a' -e '/\\$/N; s/\\\n//; ta' Dockerfile |
    awk -v want="$1" 'toupper($1)=="FROM" { inside = (tolower($NF)==want) ; next } inside'
}
mkdir -p "$tmp/src" "$tmp/ctx"
while read -r _ args; do
  # shellcheck disable=SC2206 # word splitting is the point
  words=($args)
  [[ "${words[0]}" == --from=* ]] && continue
  dest="${words[-1]}"
  unset 'words[-1]'
  case "$dest" in
  /*) target="$tmp/ctx$dest" ;; # absolute (/tmp/docker/): scripts and lists
  *) target="$tmp/src/$dest" ;; # relative to WORKDIR /src
  esac
  for src in "${words[@]}"; do
    [[ -e "$src" ]] || fail "Dockerfile copies $src, which does not exist"
    if [[ -d "$src" ]]; then
      mkdir -p "$target"
      cp -a "$src/." "$target/"
    else
      if [[ "$dest" == */ ]]; then mkdir -p "$target"; else mkdir -p "$(dirname "$target")"; fi
      cp -a "$src" "$target"
    fi
  done
done < <(stage build | grep -i '^COPY ')
# what .dockerignore keeps out of the context
rm -rf "$tmp/src/tests/e2e/node_modules"
find "$tmp/src" -name '*.o' -delete
[[ -x "$tmp/src/deploy/docker/build.sh" ]] || fail "the build stage does not copy deploy/docker/build.sh"
step "build context: $(find "$tmp/src" -type f | wc -l) files"

# ---- 2. the package lists -----------------------------------------------------------------
stage build | grep -q '^RUN /tmp/docker/apt-install.sh /tmp/docker/packages-build.txt' ||
  fail "the build stage no longer installs deploy/docker/packages-build.txt"
stage runtime | grep -q 'apt-install.sh /tmp/docker/packages-runtime.txt' ||
  fail "the runtime stage no longer installs deploy/docker/packages-runtime.txt"
stage standalone | grep -q 'apt-install.sh /tmp/docker/packages-standalone.txt' ||
  fail "the standalone stage no longer installs deploy/docker/packages-standalone.txt"
for p in $(list deploy/docker/packages-build.txt); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
    fail "build package $p is not installed here (scripts/deps.sh build)"
done
apt_known() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' ||
    apt-cache show "$1" >/dev/null 2>&1
}
for p in $(list deploy/docker/packages-runtime.txt) $(list deploy/docker/packages-standalone.txt); do
  apt_known "$p" || fail "package $p is unknown to apt (not in Debian 12?)"
done
step "package lists: $(list deploy/docker/packages-build.txt | wc -l) build," \
  "$(list deploy/docker/packages-runtime.txt | wc -l) runtime," \
  "$(list deploy/docker/packages-standalone.txt | wc -l) standalone"

# ---- 3. the build -------------------------------------------------------------------------
stage build | grep -qx 'RUN deploy/docker/build.sh /src /tmp/build /out' ||
  fail "the build stage's RUN is not 'deploy/docker/build.sh /src /tmp/build /out'"
stage runtime | grep -qx 'COPY --from=build /out/usr/local/bin/ /usr/local/bin/' ||
  fail "the runtime stage does not copy /out/usr/local/bin/"
step "building (deploy/docker/build.sh) in $tmp"
PDS_BUILD_JOBS="${PDS_BUILD_JOBS:-2}" "$tmp/src/deploy/docker/build.sh" "$tmp/src" "$tmp/build" "$tmp/out" \
  >"$tmp/build.log" 2>&1 || {
  tail -n 40 "$tmp/build.log" >&2
  fail "build.sh failed (log above)"
}
bin="$tmp/out/usr/local/bin"
[[ -x "$bin/pds" && -x "$bin/pdsadmin" ]] || fail "build.sh did not install pds and pdsadmin"

# ---- 4. shared libraries ------------------------------------------------------------------
# The package holding a library file; dpkg knows files by their unmerged (/lib) or merged
# (/usr/lib) path, so try both.
pkg_of() {
  local f="$1" real
  real="$(readlink -f "$f")"
  for cand in "$f" "$real" "${f#/usr}" "/usr$f" "${real#/usr}" "/usr$real"; do
    dpkg -S "$cand" 2>/dev/null | head -n1 | cut -d: -f1 && return 0
  done
  return 1
}
base_pkgs="libc6 libgcc-s1 libstdc++6" # in debian:12-slim already
runtime_pkgs="$(list deploy/docker/packages-runtime.txt | tr '\n' ' ')"
used=""
for b in pds pdsadmin; do
  for lib in $(readelf -d "$bin/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path="$(ldd "$bin/$b" | awk -v l="$lib" '$1==l {print $3}')"
    [[ -n "$path" && -e "$path" ]] || fail "$b needs $lib, which does not resolve here"
    pkg="$(pkg_of "$path")" || fail "no package owns $path ($b needs $lib)"
    pkg="${pkg%%:*}"
    if [[ " $base_pkgs " != *" $pkg "* && " $runtime_pkgs " != *" $pkg "* ]]; then
      fail "$b needs $lib from $pkg, which packages-runtime.txt does not list"
    fi
    used="$used $pkg"
  done
done
for p in $runtime_pkgs; do
  [[ "$p" == lib* ]] || continue
  [[ " $used " == *" $p "* ]] || fail "packages-runtime.txt lists $p, which neither binary links"
done
step "shared libraries: every NEEDED entry is covered ($(echo "$used" | tr ' ' '\n' | sort -u | grep -c .) packages)"

# ---- 5. the binaries run as the image runs them ---------------------------------------------
# (outputs captured first: grep -q closing the pipe early would fail the pipeline)
[[ "$("$bin/pds" version)" == "pds "[0-9]* ]] || fail "pds version"
[[ "$("$bin/pdsadmin" version)" == "pdsadmin "[0-9]* ]] || fail "pdsadmin version"
doc="$("$bin/pds" config-doc)" || fail "pds config-doc"
grep -q '^| `PDS_HOSTNAME`' <<<"$doc" || fail "pds config-doc lists no PDS_HOSTNAME"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
data="$tmp/pds-data"
mkdir -p "$data"
chmod 755 "$tmp"
run_as=()
if [[ "$(id -u)" == 0 ]]; then
  # the image's user is unprivileged: so is this one (initdb refuses root anyway)
  chown nobody "$data"
  # setpriv execs, so the pid below is pds itself and gets the SIGTERM
  run_as=("$(command -v setpriv)" --reuid=nobody --regid=nogroup --clear-groups)
fi
env -i PATH=/usr/bin:/bin HOME="$data" PDS_PORT="$port" PDS_HOSTNAME=localhost \
  PDS_DATA_DIRECTORY="$data" PDS_BLOBSTORE_DISK_LOCATION="$data/blocks" \
  "${run_as[@]}" "$bin/pds" serve >"$tmp/serve.log" 2>&1 &
pds_pid=$!
healthy=false
for _ in $(seq 1 120); do
  # the Dockerfile's HEALTHCHECK command
  if PDS_PORT="$port" sh -c "$(stage runtime | sed -n 's/^HEALTHCHECK .* CMD //p')" 2>/dev/null; then
    healthy=true
    break
  fi
  kill -0 "$pds_pid" 2>/dev/null || break
  sleep 0.5
done
$healthy || {
  tail -n 30 "$tmp/serve.log" >&2
  fail "pds serve (standalone, private cluster) never passed the HEALTHCHECK"
}
[[ -d "$data/postgres/data" ]] || fail "no private cluster under the data directory"
kill -TERM "$pds_pid"
wait "$pds_pid" || fail "pds serve exited with status $? on SIGTERM"
pds_pid=""
step "standalone mode: healthy on port $port with a private cluster; clean stop"
echo "docker-build-test: OK"
