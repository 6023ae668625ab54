#!/usr/bin/env bash
# check-build-flags.sh - a packager's build flags are honoured. Configures a tree as Debian's
# packaging does (no build type; CFLAGS = dpkg-buildflags' CFLAGS and CPPFLAGS, LDFLAGS
# likewise), checks that every compile line carries those flags and adds no optimisation,
# debugging or NDEBUG flag of its own, then builds every target (-Werror, so warning-free).
#   scripts/check-build-flags.sh [build dir]      (default build-packager)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-packager}

command -v dpkg-buildflags >/dev/null || {
  echo "check-build-flags: dpkg-buildflags not found (dpkg-dev, part of build-essential)" >&2
  exit 1
}
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags="$(dpkg-buildflags --get LDFLAGS)"
# cmake reads CFLAGS once, into a new cache: start over when the flags have changed
if [ -f "$dir/CMakeCache.txt" ] &&
  ! grep -qxF "CMAKE_C_FLAGS:STRING=$cflags" "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
CC=gcc CFLAGS="$cflags" LDFLAGS="$ldflags" cmake -S . -B "$dir" >/dev/null

python3 - "$dir/compile_commands.json" "$cflags" <<'EOF'
import json, shlex, sys
commands, cflags = json.load(open(sys.argv[1])), shlex.split(sys.argv[2])
# flags a build type adds (-O3, -O2 -g, -DNDEBUG): only the packager may choose these
def chosen(words):
    return [w for w in words if w.startswith('-O') or w.startswith('-g') or w == '-DNDEBUG']
bad = 0
for c in commands:
    words = shlex.split(c['command'])
    where = c['file']
    missing = [f for f in cflags if f not in words]
    if missing:
        print(f'check-build-flags: {where}: packager flags missing: {" ".join(missing)}')
        bad += 1
    elif chosen(words) != chosen(cflags):
        print(f'check-build-flags: {where}: compiled with {" ".join(chosen(words))},'
              f' not the packager\'s {" ".join(chosen(cflags))}')
        bad += 1
if not commands:
    print('check-build-flags: no compile commands')
    bad = 1
sys.exit(1 if bad else 0)
EOF
cmake --build "$dir" -j"$(nproc)" >/dev/null
echo "check-build-flags: ok: $(grep -c '"file"' "$dir/compile_commands.json") files compiled with exactly the packager's flags ($cflags)"
