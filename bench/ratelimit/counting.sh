#!/usr/bin/env bash
# counting.sh - where to count writes for the rate limits, measured with pgbench on a
# throw-away PostgreSQL cluster with fsync on (as the PDS runs): a commit shaped like the
# write path's (swap the account's root row, append an event) with
#   none     no counting
#   account  an upsert of the account's own counter in the same transaction (counting
#            inside the commit statement, per account)
#   host     an update of one host-wide counter row in the same transaction (a host budget
#            counted inside the commit)
#   trip     the account's counter in a second transaction first (a round trip per write)
# Figures only.   bench/ratelimit/counting.sh [clients] [seconds]
set -euo pipefail
clients=${1:-8}
secs=${2:-15}
pg_bin=$(printf "%s\n" /usr/lib/postgresql/*/bin | sort -V | tail -n1)
dir=$(mktemp -d /tmp/pds-counting.XXXXXX)
if [ "$(id -u)" = 0 ]; then
  chown postgres: "$dir"
  as() { runuser -u postgres -- "$@"; }
else
  as() { "$@"; }
fi
port=$((40000 + RANDOM % 10000))
cleanup() {
  as "$pg_bin/pg_ctl" -D "$dir/data" stop -m fast >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
as "$pg_bin/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
as "$pg_bin/pg_ctl" -D "$dir/data" -o "-p $port -k $dir -c listen_addresses=''" -l "$dir/log" start >/dev/null
psql=("$pg_bin/psql" -q -h "$dir" -p "$port" -U postgres)
"${psql[@]}" -c "CREATE TABLE root (id int PRIMARY KEY, rev bigint NOT NULL);
  INSERT INTO root SELECT g, 0 FROM generate_series(1, 1000) g;
  CREATE TABLE ev (id bigserial PRIMARY KEY, did int, body bytea);
  CREATE TABLE counter (name text, key int, granted bigint, PRIMARY KEY (name, key));
  CREATE TABLE host (span text PRIMARY KEY, n bigint); INSERT INTO host VALUES ('second', 0);"
commit='UPDATE root SET rev = rev + 1 WHERE id = :aid;
INSERT INTO ev (did, body) VALUES (:aid, decode(repeat(md5(:aid::text), 16), '"'"'hex'"'"'));'
account='INSERT INTO counter VALUES ('"'"'w'"'"', :aid, 3) ON CONFLICT (name, key) DO UPDATE SET granted = counter.granted + 3;'
host='UPDATE host SET n = n + 1 WHERE span = '"'"'second'"'"';'
for variant in none account host trip; do
  f="$dir/$variant.sql"
  echo '\set aid random(1, 1000)' >"$f"
  case $variant in
  none) printf 'BEGIN;\n%s\nEND;\n' "$commit" >>"$f" ;;
  account) printf 'BEGIN;\n%s\n%s\nEND;\n' "$commit" "$account" >>"$f" ;;
  host) printf 'BEGIN;\n%s\n%s\nEND;\n' "$commit" "$host" >>"$f" ;;
  trip) printf '%s\nBEGIN;\n%s\nEND;\n' "$account" "$commit" >>"$f" ;;
  esac
  chmod 644 "$f"
  tps=$("$pg_bin/pgbench" -h "$dir" -p "$port" -U postgres -n -c "$clients" -j 2 -T "$secs" -f "$f" postgres 2>/dev/null |
    sed -n 's/^tps = \([0-9.]*\).*/\1/p')
  lat=$("$pg_bin/pgbench" -h "$dir" -p "$port" -U postgres -n -c "$clients" -j 2 -T 5 -f "$f" postgres 2>/dev/null |
    sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  printf "%-8s %8.0f writes/s  (%d clients, %d s; latency average %s ms on a second 5 s run)\n" "$variant" "$tps" "$clients" "$secs" "$lat"
done
