/* cluster.h - a private PostgreSQL cluster under the data directory, for a PDS started with
 * no PDS_DATABASE_URL: created with Debian's initdb on first start, run with pg_ctl, reachable
 * only through a Unix socket in <data>/postgres/run. Call from the main thread only. */
#ifndef PDS_DB_CLUSTER_H
#define PDS_DB_CLUSTER_H

#include <stdbool.h>
#include <sys/types.h>

#include "core/err.h"

#define CLUSTER_DB_NAME      "pds" /* the database created for the server */
#define CLUSTER_SUPERUSER    "pds" /* initdb -U: the role the server connects as */
#define CLUSTER_PORT         5432  /* names the socket file; no TCP port is opened */
#define CLUSTER_START_WAIT_S 60    /* pg_ctl -t for start and stop */
#define CLUSTER_PG_ROOT      "/usr/lib/postgresql" /* Debian: <root>/<version>/bin/initdb */

struct cluster {
    char *bin_dir;     /* directory holding initdb and pg_ctl */
    char *root;        /* <data>/postgres, absolute */
    char *pgdata;      /* <root>/data: the cluster itself */
    char *socket_dir;  /* <root>/run: the only way in */
    char *url;         /* postgresql:// URL of database "pds" once started */
    bool _running;     /* started (or found running) by cluster_start; stop at the end */
    bool _switch_user; /* we are root: commands run as the postgres system user */
    uid_t _uid;
    gid_t _gid;
};

/* Creates (first time) and starts the cluster under data_dir, then creates database "pds".
 * bin_dir may be NULL: the newest /usr/lib/postgresql/<ver>/bin is used. When running as root
 * the cluster belongs to the "postgres" system user (PostgreSQL refuses to run as root).
 * On ERR_OK c->url is the connection URL. Failures are logged with what to do (a socket path
 * too long, a missing postgres user, a directory the postgres user cannot reach, see
 * <root>/postgres.log); c is then safe to cluster_stop. */
enum err cluster_start(struct cluster *c, const char *data_dir, const char *bin_dir) MUST_CHECK;

/* Stops the cluster if cluster_start started it (pg_ctl stop -m fast: running transactions
 * are rolled back, committed ones are durable) and frees c. Safe on a zeroed struct. */
void cluster_stop(struct cluster *c);

#endif
