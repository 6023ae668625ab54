#!/usr/bin/env bash
# check-style.sh - the mechanical rules of docs/STYLE: banned C functions (curl's checksrc
# list), clang-format layout, and the dependency rules (scripts/check-deps.py on build/:
# no upward include or symbol, no two files needing each other). Prints offenders and exits
# non-zero.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
files=$(git ls-files 'server/*.c' 'server/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c' 2>/dev/null)
[ -n "$files" ] || files=$(find server tests bench -name '*.[ch]')
banned='\b(strcpy|strcat|sprintf|vsprintf|strncpy|strncat|strtok|atoi|atol|sscanf|gets)\s*\('
if grep -nE "$banned" $files; then
  echo "style: banned functions above (use buf_*, snprintf, strtoll with checks)" >&2
  status=1
fi
if command -v clang-format >/dev/null; then
  bad=$(for f in $files; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
  if [ -n "$bad" ]; then
    echo "style: not clang-formatted (run clang-format -i):" >&2
    echo "$bad" >&2
    status=1
  fi
fi
# layering and circles (STYLE.md), read from the build tree's objects
deps_build=${PDS_DEPS_BUILD:-build}
if [ -d "$deps_build" ]; then
  python3 scripts/check-deps.py "$deps_build" >&2 || status=1
else
  echo "style: no build tree at $deps_build, dependency rules not checked" >&2
  status=1
fi
[ $status -eq 0 ] && echo "style: ok"
exit $status
