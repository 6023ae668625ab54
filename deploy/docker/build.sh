#!/bin/sh
# build.sh - the image's build steps (Dockerfile stage "build"), also run without Docker by
# scripts/docker-build-test.sh: the project's optimised build with debug information
# (RelWithDebInfo, -O2), installed stripped.
#   deploy/docker/build.sh <source dir> <build dir> <install root>
# Installs <install root>/usr/local/bin/pds and pdsadmin. No network access.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 <source dir> <build dir> <install root>" >&2; exit 2; }
src=$1
build=$2
root=$3
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPDS_SANITIZE=OFF -DPDS_FUZZ=OFF
cmake --build "$build" -j"${PDS_BUILD_JOBS:-$(nproc)}" --target pds pdsadmin
install -d "$root/usr/local/bin"
install -m 0755 -s "$build/pds" "$build/pdsadmin" "$root/usr/local/bin/"
