/* overload.h - overload protection: the HTTP threads never wait on the database. They parse
 * a request and either refuse it at once or hand it to a pool of handler threads, which run
 * handlers in priority order (sign-ins, reads, writes, bulk work) while at most a limit of
 * them run at a time; the limit follows PostgreSQL's latency (a gradient limiter,
 * http/ratelimit_math.h) between half and all of the threads. When the work taken has
 * waited longer than OVERLOAD_TARGET_DELAY_MS for a whole OVERLOAD_INTERVAL_MS (CoDel's
 * rule: a standing queue, not a burst, means more work than capacity), new work of a class
 * whose queue (or one taken before it) holds work that old is answered 503
 * NotEnoughResources with Retry-After at once, instead of queueing until every client
 * times out. So the admitted keep a short wait, the
 * refused are answered in well under a millisecond of server time, and the pool stays busy.
 *
 * Bulk work (getRepo, importRepo, account deletion) may hold at most half the limit, one
 * slot while the database is congested; reads and sign-ins are taken first. Health, admin
 * and the firehose run on the HTTP thread and are never refused.
 *
 * Thread-safe: one mutex guards the queues; counters are atomics. */
#ifndef PDS_HTTP_OVERLOAD_H
#define PDS_HTTP_OVERLOAD_H

#include <stdint.h>

#include <jansson.h>

#include "http/xrpc.h"

struct config;

#define OVERLOAD_INTERVAL_MS                                                                       \
    100                              /* latency averaged, the limit updated, and the wait above    \
                                        target tolerated, for this long (CoDel's interval) */
#define OVERLOAD_MIN_LIMIT        2  /* handlers at once never limited below this */
#define OVERLOAD_TARGET_DELAY_MS  20 /* work waiting longer than this: refuse new work */
#define OVERLOAD_QUEUE_PER_THREAD 4  /* waiting jobs per class, per handler thread, at most */
#define OVERLOAD_RETRY_AFTER_S    1  /* what a refused client is told to wait */
#define OVERLOAD_THREADS_MAX      256

/* Sets up from cfg (PDS_OVERLOAD_PROTECTION, PDS_HANDLER_THREADS) and registers for
 * PostgreSQL latencies (db_set_latency_hook). Before the HTTP server starts. */
void overload_init(const struct config *cfg);

/* The handler threads: started and stopped by the HTTP server around its daemon. Stopping
 * runs what is queued (or refuses it) so every suspended connection is resumed. Without a
 * start (tests, PDS_OVERLOAD_PROTECTION=false) every request runs on its HTTP thread. */
enum err overload_pool_start(void) MUST_CHECK;
void overload_pool_stop(void);

/* When the headers are in: refuses (503 set, status returned) if the request's class has no
 * room now, taking nothing; else 0. */
int overload_peek(struct xrpc_req *rq);

enum overload_verdict {
    OVERLOAD_INLINE,  /* not pooled work (or no pool): run it on this thread */
    OVERLOAD_QUEUED,  /* run(ctx) will be called on a handler thread */
    OVERLOAD_REFUSED, /* 503 set on rq */
};
/* When the body is in. `before` (may be NULL) runs on the HTTP thread just before the job
 * is queued (the server suspends the connection there), `run` on a handler thread. */
enum overload_verdict overload_submit(struct xrpc_req *rq, void (*before)(void *ctx),
                                      void (*run)(void *ctx), void *ctx);
/* When the response is done (or abandoned): a bulk stream gives its slot back. */
void overload_leave(struct xrpc_req *rq);

/* One statement's latency in microseconds (the db layer's hook; any thread). */
void overload_db_latency(int64_t us);

/* The limit, queues, what runs per class, latencies and refusals, for the admin API. */
json_t *overload_status_json(void);

#endif
