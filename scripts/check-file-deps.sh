#!/usr/bin/env bash
# check-file-deps.sh - "no two files need each other" (docs/STYLE): reads the symbols of every
# server object file in a build tree (nm) and fails when file A uses a function or variable
# defined in file B while B uses one defined in A. Circles already known are listed below,
# each to be broken (a listed circle that no longer exists is reported, to be deleted here).
#   scripts/check-file-deps.sh [build dir]      (default build; build it first)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}

# known circles, as "a.c b.c" (file names without their folder), to be broken
known=(
  "server_email.c server_session.c"
  "blobstore.c blobstore_disk.c"
  "blobstore.c blobstore_s3.c"
)

mapfile -t objs < <(find "$dir/CMakeFiles" -path '*/server/*' -name '*.c.o' | sort)
[ "${#objs[@]}" -gt 0 ] || {
  echo "check-file-deps: no server object files under $dir (build it first)" >&2
  exit 1
}
syms=$(mktemp)
trap 'rm -f "$syms"' EXIT
for o in "${objs[@]}"; do
  echo "== ${o#*/server/}"
  nm -P "$o"
done >"$syms"
python3 - "$syms" "${known[@]}" <<'EOF'
import collections, sys
known = {frozenset(k.split()) for k in sys.argv[2:]}
defs, uses, f = collections.defaultdict(set), collections.defaultdict(set), None
for line in open(sys.argv[1]):
    w = line.split()
    if w[0] == '==':
        f = w[1][:-len('.o')]
    elif len(w) >= 2 and w[1] in 'TDBRCVW':
        defs[w[0]].add(f)
    elif len(w) >= 2 and w[1] == 'U':
        uses[f].add(w[0])
need = collections.defaultdict(set)
for f, names in uses.items():
    for s in names:
        need[f] |= defs.get(s, set()) - {f}
base = lambda path: path.split('/')[-1]
found, bad = set(), 0
for a in sorted(need):
    for b in sorted(need[a]):
        if a < b and a in need[b]:
            pair = frozenset((base(a), base(b)))
            found.add(pair)
            why_a = ', '.join(sorted(s for s in uses[a] if b in defs.get(s, ())))
            why_b = ', '.join(sorted(s for s in uses[b] if a in defs.get(s, ())))
            what = f'{a} <-> {b} ({base(a)} uses {why_a}; {base(b)} uses {why_b})'
            if pair in known:
                print(f'check-file-deps: known circle: {what}')
            else:
                print(f'check-file-deps: these files need each other: {what}')
                bad += 1
for k in sorted(known - found, key=sorted):
    print(f'check-file-deps: note: the listed circle {" <-> ".join(sorted(k))} is gone: delete it')
print(f'check-file-deps: {len(uses)} files, {bad} new circle(s), {len(found & known)} known')
sys.exit(1 if bad else 0)
EOF
