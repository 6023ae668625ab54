/* overload.h - overload protection: requests are admitted per class of work (reads,
 * sign-ins, writes, bulk) up to a concurrency limit that follows PostgreSQL's latency (a
 * gradient limiter, http/ratelimit_math.h); the excess is answered at once with 503 and
 * Retry-After instead of queueing until every client times out.
 *
 * Priorities: bulk work (getRepo, importRepo, account deletion) may hold at most half the
 * limit, and only one slot while latency is well above its baseline; writes may fill the
 * limit; reads and sign-ins may go a quarter past it, so they keep being served while
 * writes and bulk work wait. Admin, health and the firehose are never refused.
 *
 * Thread-safe: counters are atomics; the limit is recomputed every OVERLOAD_INTERVAL_MS by
 * whichever request thread comes first. */
#ifndef PDS_HTTP_OVERLOAD_H
#define PDS_HTTP_OVERLOAD_H

#include <stdint.h>

#include <jansson.h>

#include "http/xrpc.h"

struct config;

#define OVERLOAD_INTERVAL_MS   100 /* latency averaged and the limit updated this often */
#define OVERLOAD_MIN_LIMIT     2   /* requests in flight never limited below this */
#define OVERLOAD_RETRY_AFTER_S 1   /* what a refused client is told to wait */

/* Sets up from cfg (PDS_OVERLOAD_PROTECTION; the ceiling is PDS_WORKER_THREADS plus the
 * bulk streams a thread can serve) and registers for PostgreSQL latencies (db_set_latency_hook).
 * Before the HTTP server starts. */
void overload_init(const struct config *cfg);

/* When the headers are in: refuses (503 set, status returned) if the request's class has no
 * room now, taking nothing; else 0. */
int overload_peek(struct xrpc_req *rq);
/* Before the handler: takes a slot of the request's class (kept in rq->overload_class) or
 * refuses as overload_peek. */
int overload_enter(struct xrpc_req *rq);
/* When the response is done (or abandoned): gives the slot back. Idempotent. */
void overload_leave(struct xrpc_req *rq);

/* One statement's latency in microseconds (the db layer's hook; any thread). */
void overload_db_latency(int64_t us);

/* The limit, what is in flight per class, latencies and refusals, for the admin API. */
json_t *overload_status_json(void);

#endif
