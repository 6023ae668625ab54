#!/usr/bin/env bash
# test.sh - the project's test command (README, .ci/run): installs what is missing, builds
# the release binary and a sanitizer build (clang, ASan + UBSan, libFuzzer), then runs every
# kind of test: style (layout, banned calls, no two files needing each other), builds
# (Release with gcc and clang, a packager's flags), unit, interop, fuzz (bounded), pg, e2e.
# Exits non-zero on any failure.
#   scripts/test.sh            everything
#   scripts/test.sh unit       one kind (style|builds|unit|interop|fuzz|pg|e2e)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
kinds=${*:-"style builds unit interop fuzz pg e2e"}
jobs=$(nproc)

bash scripts/deps.sh test

echo "== build: release (gcc) and sanitizers (clang, ASan+UBSan, libFuzzer)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
# configure <dir> <cc> <cmake args...>: a tree for one compiler (a cache made by another
# compiler is started over: cmake cannot switch compilers in place)
configure() {
  local dir=$1 cc=$2
  shift 2
  if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "^CMAKE_C_COMPILER:.*$cc" "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  CC=$cc cmake -S . -B "$dir" "$@" >/dev/null
}
# the sanitizer build must be clang's (libFuzzer)
configure build-asan clang -DCMAKE_BUILD_TYPE=Debug -DPDS_SANITIZE=ON -DPDS_FUZZ=ON
cmake --build build-asan -j"$jobs"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()

cluster_dir=""
cleanup() {
  if [ -n "$cluster_dir" ]; then
    scripts/pg-test-cluster.sh stop "$cluster_dir" >/dev/null 2>&1 || true
    rm -rf "$cluster_dir"
  fi
}
trap cleanup EXIT

ensure_cluster() {
  if [ -z "${PDS_TEST_DATABASE_URL:-}" ]; then
    cluster_dir=$(mktemp -d /tmp/pds-test-cluster.XXXXXX)
    chmod 755 "$cluster_dir"
    export "$(scripts/pg-test-cluster.sh start "$cluster_dir" | grep '^PDS_TEST_DATABASE_URL=')"
  fi
}

for kind in $kinds; do
  echo "== tests: $kind"
  case $kind in
  style)
    bash scripts/check-style.sh || failed+=(style)
    ;;
  builds)
    # every target warning-free at -O3 with both compilers (gcc finds more at -O3 than at
    # -O2), and with a packager's flags
    for cc in gcc clang; do
      echo "-- Release, $cc (build-release-$cc)"
      { configure "build-release-$cc" "$cc" -DCMAKE_BUILD_TYPE=Release &&
        cmake --build "build-release-$cc" -j"$jobs" >/dev/null; } || failed+=("builds:release-$cc")
    done
    bash scripts/check-build-flags.sh build-packager || failed+=(builds:packager)
    ;;
  unit | fuzz)
    ctest --test-dir build-asan -L "^$kind\$" --output-on-failure -j"$jobs" || failed+=("$kind")
    ;;
  interop)
    ctest --test-dir build-asan -L '^interop$' --output-on-failure || failed+=(interop)
    # ctest shows a passing test's output only in its log: the runner's counts, from there
    grep -E '^(interop |interop: )' build-asan/Testing/Temporary/LastTest.log || true
    ;;
  pg)
    ensure_cluster
    ctest --test-dir build-asan -L '^pg$' --output-on-failure || failed+=(pg)
    ;;
  e2e)
    ensure_cluster
    PDS_BIN="$root/build/pds" tests/e2e/run.sh || failed+=(e2e)
    ;;
  *)
    echo "test.sh: unknown kind \"$kind\"" >&2
    exit 2
    ;;
  esac
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all test kinds passed: $kinds"
