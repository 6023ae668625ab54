/* overload.c - admission per class of work under a gradient concurrency limit fed by
 * PostgreSQL's statement latencies. */
#include "http/overload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "config/config.h"
#include "http/ratelimit.h"
#include "http/ratelimit_math.h"

/* A slot per worker thread, and as many again for bulk streams (getRepo answers from a
 * callback after its handler returned, holding its slot but not its thread). */
#define OVERLOAD_STREAMS_PER_THREAD 1
#define OVERLOAD_BULK_SHARE         2 /* bulk work holds at most 1/2 of the limit (at least 2
                                         slots), one while the database is congested */
#define OVERLOAD_PRIORITY_SHARE     4 /* reads and sign-ins may go 1/4 past it */
#define OVERLOAD_CONGESTED          1.5 /* recent latency this far above baseline: congested */

static const char *const class_names[RL_CLASSES] = {
    [RL_CLASS_BY_METHOD] = "", [RL_CLASS_NONE] = "",   [RL_CLASS_READ] = "read",
    [RL_CLASS_AUTH] = "auth",  [RL_CLASS_WRITE] = "write", [RL_CLASS_BULK] = "bulk",
};
static const char *const refusal_names[RL_CLASSES] = {
    [RL_CLASS_READ] = "overload-read",
    [RL_CLASS_AUTH] = "overload-auth",
    [RL_CLASS_WRITE] = "overload-write",
    [RL_CLASS_BULK] = "overload-bulk",
};

static struct {
    bool on;
    atomic_int inflight[RL_CLASSES];
    atomic_int total;
    atomic_int peak; /* highest total since the last update */
    atomic_int_fast64_t lat_sum_us, lat_n;
    atomic_int_fast64_t statements; /* every statement this process ran, ever */
    atomic_int_fast64_t refused[RL_CLASSES];
    atomic_int_fast64_t next_update_ms;
    pthread_mutex_t lock; /* guards g */
    struct rl_gradient g;
    atomic_int limit; /* g.limit rounded, read without the lock */
    atomic_bool congested;
} ov = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void overload_db_latency(int64_t us)
{
    atomic_fetch_add(&ov.lat_sum_us, us);
    atomic_fetch_add(&ov.lat_n, 1);
    atomic_fetch_add(&ov.statements, 1);
}

void overload_init(const struct config *cfg)
{
    ov.on = cfg->overload_protection;
    double max = (double)cfg->worker_threads * (1 + OVERLOAD_STREAMS_PER_THREAD);
    if (max < OVERLOAD_MIN_LIMIT) {
        max = OVERLOAD_MIN_LIMIT;
    }
    pthread_mutex_lock(&ov.lock);
    rl_gradient_init(&ov.g, max, OVERLOAD_MIN_LIMIT, max);
    atomic_store(&ov.limit, (int)max);
    pthread_mutex_unlock(&ov.lock);
    atomic_store(&ov.next_update_ms, mono_ms() + OVERLOAD_INTERVAL_MS);
    db_set_latency_hook(overload_db_latency);
}

/* Every OVERLOAD_INTERVAL_MS: the mean latency of the statements since, into the limit. */
static void maybe_update(void)
{
    int64_t now = mono_ms(), due = atomic_load(&ov.next_update_ms);
    if (now < due || !atomic_compare_exchange_strong(&ov.next_update_ms, &due,
                                                     now + OVERLOAD_INTERVAL_MS)) {
        return;
    }
    int64_t sum = atomic_exchange(&ov.lat_sum_us, 0), n = atomic_exchange(&ov.lat_n, 0);
    int peak = atomic_exchange(&ov.peak, atomic_load(&ov.total));
    if (n == 0) {
        return;
    }
    pthread_mutex_lock(&ov.lock);
    double limit = rl_gradient_update(&ov.g, (double)sum / (double)n, (double)peak);
    bool congested = ov.g.short_us > OVERLOAD_CONGESTED * ov.g.long_us;
    pthread_mutex_unlock(&ov.lock);
    atomic_store(&ov.limit, (int)(limit + 0.5));
    atomic_store(&ov.congested, congested);
}

/* Whether class c may take one more slot now. */
static bool room(enum rl_class c)
{
    int limit = atomic_load(&ov.limit), total = atomic_load(&ov.total);
    switch (c) {
    case RL_CLASS_READ:
    case RL_CLASS_AUTH: {
        int extra = limit / OVERLOAD_PRIORITY_SHARE;
        return total < limit + (extra > 0 ? extra : 1);
    }
    case RL_CLASS_WRITE:
        return total < limit;
    case RL_CLASS_BULK: {
        int bulk = atomic_load(&ov.inflight[RL_CLASS_BULK]);
        int cap = limit / OVERLOAD_BULK_SHARE;
        cap = atomic_load(&ov.congested) ? 1 : cap < 2 ? 2 : cap;
        return total < limit && bulk < cap;
    }
    default:
        return true;
    }
}

static int refuse(struct xrpc_req *rq, enum rl_class c)
{
    atomic_fetch_add(&ov.refused[c], 1);
    ratelimit_count(refusal_names[c], true);
    char v[16];
    snprintf(v, sizeof v, "%d", OVERLOAD_RETRY_AFTER_S);
    xrpc_set_header(rq, "Retry-After", v);
    return xrpc_fail(rq, 503, "NotEnoughResources",
                     "The server is busy: try again in %d second%s", OVERLOAD_RETRY_AFTER_S,
                     OVERLOAD_RETRY_AFTER_S == 1 ? "" : "s");
}

int overload_peek(struct xrpc_req *rq)
{
    if (!ov.on) {
        return 0;
    }
    enum rl_class c = ratelimit_class(rq);
    if (c == RL_CLASS_NONE || c == RL_CLASS_BY_METHOD) {
        return 0;
    }
    maybe_update();
    return room(c) ? 0 : refuse(rq, c);
}

int overload_enter(struct xrpc_req *rq)
{
    if (!ov.on || rq->overload_class) {
        return 0;
    }
    enum rl_class c = ratelimit_class(rq);
    if (c == RL_CLASS_NONE || c == RL_CLASS_BY_METHOD) {
        return 0;
    }
    maybe_update();
    if (!room(c)) {
        return refuse(rq, c);
    }
    /* taken first and checked after, so two threads racing for the last slot cannot both
     * win; the loser gives it back */
    int total = atomic_fetch_add(&ov.total, 1) + 1;
    atomic_fetch_add(&ov.inflight[c], 1);
    int limit = atomic_load(&ov.limit);
    int ceiling = c == RL_CLASS_WRITE || c == RL_CLASS_BULK
                      ? limit
                      : limit + (limit / OVERLOAD_PRIORITY_SHARE > 0 ? limit / OVERLOAD_PRIORITY_SHARE : 1);
    if (total > ceiling) {
        atomic_fetch_sub(&ov.total, 1);
        atomic_fetch_sub(&ov.inflight[c], 1);
        return refuse(rq, c);
    }
    int peak = atomic_load(&ov.peak);
    while (total > peak && !atomic_compare_exchange_weak(&ov.peak, &peak, total)) {
    }
    rq->overload_class = (int)c;
    ratelimit_count(refusal_names[c], false);
    return 0;
}

void overload_leave(struct xrpc_req *rq)
{
    if (!rq->overload_class) {
        return;
    }
    atomic_fetch_sub(&ov.inflight[rq->overload_class], 1);
    atomic_fetch_sub(&ov.total, 1);
    rq->overload_class = 0;
}

json_t *overload_status_json(void)
{
    pthread_mutex_lock(&ov.lock);
    double long_us = ov.g.long_us, short_us = ov.g.short_us, limit = ov.g.limit;
    double max = ov.g.max_limit;
    pthread_mutex_unlock(&ov.lock);
    json_t *inflight = json_object(), *refused = json_object();
    for (int c = RL_CLASS_READ; c < RL_CLASSES; c++) {
        json_object_set_new(inflight, class_names[c], json_integer(atomic_load(&ov.inflight[c])));
        json_object_set_new(refused, class_names[c], json_integer(atomic_load(&ov.refused[c])));
    }
    return json_pack("{s:b,s:f,s:f,s:f,s:f,s:b,s:o,s:o,s:I}", "enabled", ov.on, "limit", limit,
                     "maxLimit", max, "dbLatencyBaselineMs", long_us / 1000.0,
                     "dbLatencyRecentMs", short_us / 1000.0, "congested",
                     atomic_load(&ov.congested), "inFlight", inflight, "refusedByThisProcess",
                     refused, "dbStatements", (json_int_t)atomic_load(&ov.statements));
}
