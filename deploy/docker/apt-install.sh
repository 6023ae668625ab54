#!/bin/sh
# apt-install.sh - installs the packages named in a list file (one per line, "#" comments),
# without recommends, and empties apt's caches. Used by the Dockerfile's stages; the list
# files are what scripts/docker-build-test.sh checks.
#   deploy/docker/apt-install.sh <list file>...
set -eu
pkgs=$(cat "$@" | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$')
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $pkgs
apt-get clean
rm -rf /var/lib/apt/lists/*
