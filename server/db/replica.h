/* replica.h - reads from PostgreSQL streaming replicas (hot standbys): which replica a thread
 * reads from, and whether it is fresh enough to. Owns a checker thread that compares each
 * replica's replayed WAL position with the primary's, and one replica connection per
 * thread that asks. Which requests may read from a replica is the HTTP layer's choice
 * (ROUTE_REPLICA in http/router.h). */
#ifndef PDS_DB_REPLICA_H
#define PDS_DB_REPLICA_H

#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

/* Starts reading from the replicas in urls (comma-separated PostgreSQL URLs or conninfo
 * strings without commas; NULL or "" for none) beside the primary at primary_url. A replica
 * is fresh while it has replayed everything the primary had written max_lag_ms ago; checked
 * every REPLICA_CHECK_MS. ERR_INVALID when urls names more than REPLICA_MAX. */
#define REPLICA_MAX      8
#define REPLICA_CHECK_MS 200
enum err replica_start(const char *primary_url, const char *urls, int64_t max_lag_ms) MUST_CHECK;
/* Stops the checker and forgets the replicas; the threads' connections close as they exit. */
void replica_stop(void);

/* This thread's replica connection when its replica is fresh, else NULL (read from the
 * primary). Each thread keeps to one replica, spread over them in turn. */
struct db *replica_thread(void);

/* The read this thread just made from its replica failed: read from the primary until the
 * checker next finds the replica fresh. */
void replica_thread_failed(void);

/* Counts one read served by a replica (called by the HTTP layer after it used one); with the
 * reads that went to the primary instead, in /metrics as pds_replica_reads_total and
 * pds_replica_fallbacks_total. */
void replica_count_served(void);

#endif
