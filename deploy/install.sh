#!/usr/bin/env bash
# install.sh - installs the PDS on Debian 12 or Ubuntu 22.04+ as a systemd service with a
# local PostgreSQL: Debian's packages (apt-get), the `pds` system user, a database role and
# database, the secrets (`pds keygen` and the kernel's random generator), /etc/pds/pds.env,
# /var/lib/pds and pds.service; optionally Caddy for TLS. It downloads nothing itself
# beyond apt's packages, and installs the pds and pdsadmin binaries built from this tree.
#
# Run again to upgrade: binaries and unit are replaced, the env file and database are kept.
#
#   sudo deploy/install.sh --hostname pds.example.com [--caddy --admin-email you@example.com]
#
# Options:
#   --hostname HOST       public host name (asked when missing and a terminal is attached)
#   --admin-email EMAIL   contact for the certificate authority (with --caddy)
#   --caddy               install Debian's caddy with on-demand TLS for handle subdomains
#   --port PORT           where pds listens (default 2583; the proxy forwards here)
#   --bin-dir DIR         directory holding the built pds and pdsadmin (default: ../build)
#   --pg-host HOST        PostgreSQL host or socket directory (default /var/run/postgresql)
#   --pg-port PORT        PostgreSQL port (default 5432)
#   --pg-user NAME        database role to create (default pds)
#   --pg-database NAME    database to create (default pds)
#   --root DIR            install under DIR instead of / (tests, image builds); accounts,
#                         packages and services are then only done through the command
#                         variables below
#   --no-packages         skip apt-get
#   --no-start            enable the service but do not start it
#   --env-only FILE       only write a new env file with fresh secrets to FILE (for compose:
#                         no database URL, port 3000) and exit
# Commands (override for tests): APT_GET, USERADD, SYSTEMCTL, PG_ADMIN (a command that runs
# psql as a PostgreSQL superuser; default: runuser -u postgres -- psql).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
hostname=""
admin_email=""
with_caddy=false
port=2583
bin_dir=""
pg_host=/var/run/postgresql
pg_port=5432
pg_user=pds
pg_db=pds
root=""
packages=true
start=true
env_only=""

APT_GET="${APT_GET:-apt-get}"
USERADD="${USERADD:-useradd}"
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
PG_ADMIN="${PG_ADMIN:-runuser -u postgres -- psql}"

die() {
  echo "install.sh: $*" >&2
  exit 1
}
say() { echo "* $*"; }

while [[ $# -gt 0 ]]; do
  case "$1" in
  --hostname) hostname="${2:?--hostname needs a value}"; shift 2 ;;
  --admin-email) admin_email="${2:?--admin-email needs a value}"; shift 2 ;;
  --caddy) with_caddy=true; shift ;;
  --port) port="${2:?--port needs a value}"; shift 2 ;;
  --bin-dir) bin_dir="${2:?--bin-dir needs a value}"; shift 2 ;;
  --pg-host) pg_host="${2:?--pg-host needs a value}"; shift 2 ;;
  --pg-port) pg_port="${2:?--pg-port needs a value}"; shift 2 ;;
  --pg-user) pg_user="${2:?--pg-user needs a value}"; shift 2 ;;
  --pg-database) pg_db="${2:?--pg-database needs a value}"; shift 2 ;;
  --root) root="${2:?--root needs a value}"; shift 2 ;;
  --no-packages) packages=false; shift ;;
  --no-start) start=false; shift ;;
  --env-only) env_only="${2:?--env-only needs a file}"; shift 2 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ -n "$root" ]] && root="$(mkdir -p "$root" && cd "$root" && pwd)"
if [[ -z "$root" && -z "$env_only" && "$(id -u)" != 0 ]]; then
  die "run as root (sudo), or give --root DIR"
fi

# ---- inputs ---------------------------------------------------------------------------------
if [[ -z "$hostname" && -t 0 ]]; then
  read -r -p "Public host name of this PDS (e.g. pds.example.com): " hostname
fi
[[ -n "$hostname" ]] || die "--hostname is required"
hostname="${hostname,,}"
[[ "$hostname" =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ && "$hostname" == *.* ]] ||
  die "\"$hostname\" is not a host name (e.g. pds.example.com)"
[[ "$hostname" =~ ^[0-9.]+$ ]] && die "use a DNS name, not an IP address"
[[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] || die "--port must be a port"
[[ "$pg_user" =~ ^[a-z_][a-z0-9_]*$ && "$pg_db" =~ ^[a-z_][a-z0-9_]*$ ]] ||
  die "--pg-user and --pg-database must be lower-case SQL names"
if $with_caddy && [[ -z "$admin_email" ]]; then
  [[ -t 0 ]] && read -r -p "Email for TLS certificate notices: " admin_email
  [[ -n "$admin_email" ]] || die "--caddy needs --admin-email"
fi

if [[ -z "$bin_dir" ]]; then
  for d in "$here/../build" /usr/local/bin; do
    [[ -x "$d/pds" && -x "$d/pdsadmin" ]] && { bin_dir="$d"; break; }
  done
fi
[[ -n "$bin_dir" && -x "$bin_dir/pds" && -x "$bin_dir/pdsadmin" ]] ||
  die "pds and pdsadmin not found: build them (cmake --build build --target pds pdsadmin) or give --bin-dir"

# 32 bytes from the kernel's generator (what libsodium's randombytes reads), as hex
random_hex() { head -c 32 /dev/urandom | od -An -tx1 -v | tr -d ' \n'; }
rotation_key() {
  "$bin_dir/pds" keygen | sed -n 's/^PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=//p'
}

# The env file: everything pds serve and pdsadmin read. $1 file, $2 database URL (may be
# empty), $3 port.
write_env() {
  local file="$1" db_url="$2" p="$3" key
  key="$(rotation_key)"
  [[ ${#key} -eq 64 ]] || die "pds keygen did not print a key"
  local old_umask
  old_umask="$(umask)"
  umask 077
  {
    echo "# PDS settings and secrets, written by deploy/install.sh on $(date -u +%Y-%m-%d)."
    echo "# Read by pds.service (EnvironmentFile) and by pdsadmin. Keep it secret; back it up:"
    echo "# the rotation key and JWT secret are what keep the accounts usable."
    echo "# Every variable: docs/configuration.md."
    echo "PDS_HOSTNAME=$hostname"
    echo "PDS_PORT=$p"
    [[ -n "$db_url" ]] && echo "PDS_DATA_DIRECTORY=/var/lib/pds"
    [[ -n "$db_url" ]] && echo "PDS_BLOBSTORE_DISK_LOCATION=/var/lib/pds/blocks"
    [[ -n "$db_url" ]] && echo "PDS_DATABASE_URL=$db_url"
    echo "PDS_JWT_SECRET=$(random_hex)"
    echo "PDS_ADMIN_PASSWORD=$(random_hex)"
    echo "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=$key"
    echo "PDS_DID_PLC_URL=https://plc.directory"
    echo "PDS_BSKY_APP_VIEW_URL=https://api.bsky.app"
    echo "PDS_BSKY_APP_VIEW_DID=did:web:api.bsky.app"
    echo "PDS_REPORT_SERVICE_URL=https://mod.bsky.app"
    echo "PDS_REPORT_SERVICE_DID=did:plc:ar7c4by46qjdydhdevvrndac"
    echo "PDS_CRAWLERS=https://bsky.network"
    echo "PDS_BLOB_UPLOAD_LIMIT=104857600"
    echo "PDS_INVITE_REQUIRED=true"
    echo "PDS_RATE_LIMITS_ENABLED=true"
    echo "LOG_LEVEL=info"
    echo "# Email (sign-up confirmation, password reset): both or neither"
    echo "#PDS_EMAIL_SMTP_URL=smtps://user:password@smtp.example.com:465/"
    echo "#PDS_EMAIL_FROM_ADDRESS=admin@$hostname"
  } >"$file"
  umask "$old_umask"
}

if [[ -n "$env_only" ]]; then
  [[ -e "$env_only" ]] && die "$env_only exists; not overwriting secrets"
  write_env "$env_only" "" 3000
  say "wrote $env_only (for deploy/compose.yaml)"
  exit 0
fi

# ---- packages -------------------------------------------------------------------------------
if $packages; then
  say "installing Debian packages (PostgreSQL and the libraries pds links)"
  pkgs=(postgresql $(sed 's/#.*//' "$here/docker/packages-runtime.txt"))
  $with_caddy && pkgs+=(caddy)
  export DEBIAN_FRONTEND=noninteractive
  $APT_GET update -qq
  $APT_GET install -y -qq --no-install-recommends "${pkgs[@]}"
fi

# ---- user, directories, binaries ---------------------------------------------------------------
if ! getent passwd pds >/dev/null || [[ -n "$root" ]]; then
  say "creating the pds system user"
  $USERADD --system --user-group --home-dir /var/lib/pds --no-create-home \
    --shell /usr/sbin/nologin pds || getent passwd pds >/dev/null || [[ -n "$root" ]] ||
    die "could not create user pds"
fi
owner() { # chown only for a real install: under --root the user may not exist here
  [[ -z "$root" ]] && chown "$@"
  return 0
}
install -d -m 0755 "$root/usr/local/bin" "$root/etc/systemd/system" "$root/usr/local/share/doc/pds"
install -d -m 0750 "$root/etc/pds" "$root/var/lib/pds" "$root/var/lib/pds/blocks"
owner root:pds "$root/etc/pds"
owner pds:pds "$root/var/lib/pds" "$root/var/lib/pds/blocks"
say "installing $bin_dir/pds and pdsadmin into /usr/local/bin"
install -m 0755 "$bin_dir/pds" "$bin_dir/pdsadmin" "$root/usr/local/bin/"
for doc in operator-guide.md configuration.md; do
  [[ -f "$here/../docs/$doc" ]] && install -m 0644 "$here/../docs/$doc" "$root/usr/local/share/doc/pds/"
done

# ---- PostgreSQL and the env file -----------------------------------------------------------------
env_file="$root/etc/pds/pds.env"
if [[ -e "$env_file" ]]; then
  say "keeping $env_file (settings, secrets and database as they are)"
else
  db_password="$(random_hex)"
  say "creating PostgreSQL role \"$pg_user\" and database \"$pg_db\""
  # the password goes in on stdin, never on a command line; \gexec runs each statement only
  # when needed, so a second run changes nothing but the password
  $PG_ADMIN -v ON_ERROR_STOP=1 -q <<SQL
\set pw '$db_password'
\set who '$pg_user'
\set db '$pg_db'
SELECT format('CREATE ROLE %I LOGIN', :'who')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'who') \gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'who', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8'' TEMPLATE template0', :'db', :'who')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
  if [[ "$pg_host" == /* ]]; then
    db_url="postgresql://$pg_user:$db_password@/$pg_db?host=$pg_host&port=$pg_port"
  else
    db_url="postgresql://$pg_user:$db_password@$pg_host:$pg_port/$pg_db"
  fi
  say "writing $env_file with new secrets"
  write_env "$env_file" "$db_url" "$port"
  chmod 0640 "$env_file"
  owner root:pds "$env_file"
fi

# ---- the service ------------------------------------------------------------------------------
say "installing pds.service"
install -m 0644 "$here/pds.service" "$root/etc/systemd/system/pds.service"
$SYSTEMCTL daemon-reload
if $start; then
  $SYSTEMCTL enable pds.service
  $SYSTEMCTL restart pds.service
else
  $SYSTEMCTL enable pds.service
fi

if $with_caddy; then
  say "configuring Caddy for $hostname and *.$hostname (on-demand TLS)"
  install -d -m 0755 "$root/etc/caddy"
  sed -e "s|{\$PDS_HOSTNAME}|$hostname|g" -e "s|{\$PDS_ADMIN_EMAIL}|$admin_email|g" \
    -e "s|{\$PDS_UPSTREAM:localhost:2583}|localhost:$port|g" \
    "$here/Caddyfile" >"$root/etc/caddy/Caddyfile"
  chmod 0644 "$root/etc/caddy/Caddyfile"
  $SYSTEMCTL enable caddy.service
  $start && $SYSTEMCTL reload-or-restart caddy.service
fi

cat <<EOF

Done. The PDS runs as pds.service, listening on 127.0.0.1:$port.
  status:       systemctl status pds; journalctl -u pds -f
  administer:   pdsadmin status; pdsadmin account create
  settings:     /etc/pds/pds.env (restart after editing: systemctl restart pds)
EOF
$with_caddy || cat <<EOF
  TLS:          put a proxy in front (deploy/Caddyfile with on-demand TLS, or
                deploy/nginx.conf.example with a wildcard certificate) for https://$hostname
EOF
