#!/usr/bin/env bash
# check-style.sh - the mechanical rules of docs/STYLE: banned C functions (curl's checksrc
# list) and clang-format layout. Prints offenders and exits non-zero.
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
[ $status -eq 0 ] && echo "style: ok"
exit $status
