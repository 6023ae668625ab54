/* overload.c - admission and the handler pool: per-class queues taken in priority order,
 * at most a gradient limit of handlers at once, and refusal when queued work has waited
 * past the target. */
#include "http/overload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "db/log.h"
#include "http/ratelimit.h"
#include "http/ratelimit_math.h"

#define OVERLOAD_CONGESTED 1.5 /* recent latency this far above its baseline: congested */
/* Handler threads run a little behind the HTTP threads (Linux lets a thread lower its own
 * priority): when the CPU is the bottleneck, reading requests and refusing the excess must
 * not wait behind the work that made the machine busy. */
#define OVERLOAD_HANDLER_NICE 5

/* Classes in the order handler threads take them. */
static const enum rl_class priority[] = {RL_CLASS_AUTH, RL_CLASS_READ, RL_CLASS_WRITE,
                                         RL_CLASS_BULK};

static const char *const class_names[RL_CLASSES] = {
    [RL_CLASS_READ] = "read",
    [RL_CLASS_AUTH] = "auth",
    [RL_CLASS_WRITE] = "write",
    [RL_CLASS_BULK] = "bulk",
};
static const char *const refusal_names[RL_CLASSES] = {
    [RL_CLASS_READ] = "overload-read",
    [RL_CLASS_AUTH] = "overload-auth",
    [RL_CLASS_WRITE] = "overload-write",
    [RL_CLASS_BULK] = "overload-bulk",
};

struct job {
    struct job *next;
    void (*run)(void *ctx);
    void *ctx;
    int64_t queued_us;
};

struct queue {
    struct job *head, *tail;
    int len;
};

static struct {
    bool on;
    int threads;

    pthread_mutex_t lock; /* guards queues, running, stopping, g; with work */
    pthread_cond_t work;
    struct queue q[RL_CLASSES];
    int running;
    bool stopping;
    pthread_t *pool;
    int n_pool;
    struct rl_gradient g;
    int64_t above_since_us; /* CoDel: when the taken work's wait first stayed above target */
    bool standing;          /* ...for a whole interval: a standing queue, refuse new work */

    atomic_int limit; /* g.limit rounded, read without the lock */
    atomic_bool congested;
    atomic_int bulk; /* bulk requests admitted and not yet answered (streams too) */
    atomic_int inflight[RL_CLASSES];
    atomic_int peak; /* most handlers at once since the last update */
    atomic_int_fast64_t lat_sum_us, lat_n;
    atomic_int_fast64_t statements; /* every statement this process ran, ever */
    atomic_int_fast64_t refused[RL_CLASSES];
    atomic_int_fast64_t next_update_ms;
} ov = {.lock = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER};

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
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
    ov.threads = cfg->handler_threads > 0 ? cfg->handler_threads : OVERLOAD_MIN_LIMIT;
    if (ov.threads > OVERLOAD_THREADS_MAX) {
        ov.threads = OVERLOAD_THREADS_MAX;
    }
    double max = ov.threads < OVERLOAD_MIN_LIMIT ? OVERLOAD_MIN_LIMIT : ov.threads;
    /* never below half the threads: a noisy database (fsync, a busy machine) must not starve
     * the pool; the queue rule refuses what it cannot take */
    double min = max / 2 < OVERLOAD_MIN_LIMIT ? OVERLOAD_MIN_LIMIT : max / 2;
    pthread_mutex_lock(&ov.lock);
    rl_gradient_init(&ov.g, max, min, max);
    pthread_mutex_unlock(&ov.lock);
    atomic_store(&ov.limit, (int)max);
    atomic_store(&ov.next_update_ms, mono_us() / 1000 + OVERLOAD_INTERVAL_MS);
    db_set_latency_hook(overload_db_latency);
}

/* Every OVERLOAD_INTERVAL_MS: the mean latency of the statements since, into the limit. */
static void maybe_update(void)
{
    int64_t now = mono_us() / 1000, due = atomic_load(&ov.next_update_ms);
    if (now < due ||
        !atomic_compare_exchange_strong(&ov.next_update_ms, &due, now + OVERLOAD_INTERVAL_MS)) {
        return;
    }
    int64_t sum = atomic_exchange(&ov.lat_sum_us, 0), n = atomic_exchange(&ov.lat_n, 0);
    pthread_mutex_lock(&ov.lock);
    int peak = atomic_exchange(&ov.peak, ov.running);
    if (n > 0) {
        double limit = rl_gradient_update(&ov.g, (double)sum / (double)n, (double)peak);
        atomic_store(&ov.limit, (int)(limit + 0.5));
        atomic_store(&ov.congested, ov.g.short_us > OVERLOAD_CONGESTED * ov.g.long_us);
    }
    if (ov.running < atomic_load(&ov.limit)) {
        pthread_cond_broadcast(&ov.work); /* a grown limit: idle threads may take work */
    }
    pthread_mutex_unlock(&ov.lock);
}

static enum rl_class pooled_class(const struct xrpc_req *rq)
{
    enum rl_class c = ratelimit_class(rq);
    return c == RL_CLASS_NONE || c == RL_CLASS_BY_METHOD ? RL_CLASS_NONE : c;
}

/* Whether work of class c should be refused now. Locked. */
static bool full(enum rl_class c, int64_t now_us)
{
    int64_t oldest = now_us;
    for (size_t i = 0; i < ARRAY_LEN(priority); i++) {
        const struct queue *q = &ov.q[priority[i]];
        if (q->head && q->head->queued_us < oldest) {
            oldest = q->head->queued_us; /* work taken before c's delays it */
        }
        if (priority[i] == c) {
            break;
        }
    }
    if (ov.standing && now_us - oldest > OVERLOAD_TARGET_DELAY_MS * 1000) {
        return true;
    }
    if (ov.q[c].len >= ov.threads * OVERLOAD_QUEUE_PER_THREAD) {
        return true;
    }
    if (c == RL_CLASS_BULK) {
        int limit = atomic_load(&ov.limit);
        int cap = atomic_load(&ov.congested) ? 1 : limit / 2 < 2 ? 2 : limit / 2;
        return atomic_load(&ov.bulk) >= cap;
    }
    return false;
}

static int refuse(struct xrpc_req *rq, enum rl_class c)
{
    atomic_fetch_add(&ov.refused[c], 1);
    ratelimit_count(refusal_names[c], true);
    char v[16];
    snprintf(v, sizeof v, "%d", OVERLOAD_RETRY_AFTER_S);
    xrpc_set_header(rq, "Retry-After", v);
    return xrpc_fail(rq, 503, "NotEnoughResources", "The server is busy: try again in %d second%s",
                     OVERLOAD_RETRY_AFTER_S, OVERLOAD_RETRY_AFTER_S == 1 ? "" : "s");
}

int overload_peek(struct xrpc_req *rq)
{
    enum rl_class c = pooled_class(rq);
    if (!ov.on || !ov.pool || c == RL_CLASS_NONE) {
        return 0;
    }
    maybe_update();
    pthread_mutex_lock(&ov.lock);
    bool no = full(c, mono_us());
    pthread_mutex_unlock(&ov.lock);
    return no ? refuse(rq, c) : 0;
}

enum overload_verdict overload_submit(struct xrpc_req *rq, void (*before)(void *ctx),
                                      void (*run)(void *ctx), void *ctx)
{
    enum rl_class c = pooled_class(rq);
    if (!ov.on || !ov.pool || c == RL_CLASS_NONE) {
        return OVERLOAD_INLINE;
    }
    maybe_update();
    struct job *j = arena_zalloc(rq->arena, sizeof *j);
    j->run = run;
    j->ctx = ctx;
    pthread_mutex_lock(&ov.lock);
    j->queued_us = mono_us();
    if (ov.stopping || full(c, j->queued_us)) {
        pthread_mutex_unlock(&ov.lock);
        refuse(rq, c);
        return OVERLOAD_REFUSED;
    }
    if (c == RL_CLASS_BULK) {
        atomic_fetch_add(&ov.bulk, 1);
    }
    rq->overload_class = (int)c;
    atomic_fetch_add(&ov.inflight[c], 1);
    ratelimit_count(refusal_names[c], false);
    if (before) {
        before(ctx); /* under the lock: no handler thread can take the job before it */
    }
    struct queue *q = &ov.q[c];
    if (q->tail) {
        q->tail->next = j;
    } else {
        q->head = j;
    }
    q->tail = j;
    q->len++;
    pthread_cond_signal(&ov.work);
    pthread_mutex_unlock(&ov.lock);
    return OVERLOAD_QUEUED;
}

void overload_leave(struct xrpc_req *rq)
{
    if (!rq->overload_class) {
        return;
    }
    atomic_fetch_sub(&ov.inflight[rq->overload_class], 1);
    if (rq->overload_class == RL_CLASS_BULK) {
        atomic_fetch_sub(&ov.bulk, 1);
    }
    rq->overload_class = 0;
}

/* CoDel's rule on the wait of each job taken: a wait above the target that lasts a whole
 * interval is a standing queue (more work than capacity), not a burst; one wait below the
 * target ends it. Locked. */
static void note_wait(int64_t wait_us)
{
    int64_t now = mono_us();
    if (wait_us < OVERLOAD_TARGET_DELAY_MS * 1000) {
        ov.above_since_us = 0;
        ov.standing = false;
    } else if (ov.above_since_us == 0) {
        ov.above_since_us = now;
    } else if (now - ov.above_since_us >= OVERLOAD_INTERVAL_MS * 1000) {
        ov.standing = true;
    }
}

/* The next job by priority, or NULL. Locked. */
static struct job *take(void)
{
    for (size_t i = 0; i < ARRAY_LEN(priority); i++) {
        struct queue *q = &ov.q[priority[i]];
        if (q->head) {
            struct job *j = q->head;
            q->head = j->next;
            if (!q->head) {
                q->tail = NULL;
            }
            q->len--;
            return j;
        }
    }
    return NULL;
}

static bool queued(void)
{
    for (size_t i = 0; i < ARRAY_LEN(priority); i++) {
        if (ov.q[priority[i]].head) {
            return true;
        }
    }
    return false;
}

static void *handler_main(void *arg)
{
    (void)arg;
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), OVERLOAD_HANDLER_NICE) != 0) {
        log_debug(NULL, "overload: handler threads run at the HTTP threads' priority");
    }
    pthread_mutex_lock(&ov.lock);
    for (;;) {
        /* while stopping, everything queued still runs: its connection must be resumed */
        while (!(queued() && (ov.running < atomic_load(&ov.limit) || ov.stopping)) &&
               !(ov.stopping && !queued())) {
            pthread_cond_wait(&ov.work, &ov.lock);
        }
        if (ov.stopping && !queued()) {
            break;
        }
        struct job *j = take();
        note_wait(mono_us() - j->queued_us);
        ov.running++;
        int peak = atomic_load(&ov.peak);
        if (ov.running > peak) {
            atomic_store(&ov.peak, ov.running);
        }
        pthread_mutex_unlock(&ov.lock);
        j->run(j->ctx); /* the job may be freed once it has run: do not touch it after */
        maybe_update();
        pthread_mutex_lock(&ov.lock);
        ov.running--;
        pthread_cond_signal(&ov.work);
    }
    pthread_mutex_unlock(&ov.lock);
    return NULL;
}

enum err overload_pool_start(void)
{
    if (!ov.on || ov.pool) {
        return ERR_OK;
    }
    ov.pool = xcalloc((size_t)ov.threads, sizeof *ov.pool);
    ov.stopping = false;
    for (int i = 0; i < ov.threads; i++) {
        if (pthread_create(&ov.pool[i], NULL, handler_main, NULL) != 0) {
            log_error(NULL, "overload: could not start handler thread %d", i);
            ov.n_pool = i;
            overload_pool_stop();
            return ERR_INTERNAL;
        }
        ov.n_pool = i + 1;
    }
    return ERR_OK;
}

void overload_pool_stop(void)
{
    if (!ov.pool) {
        return;
    }
    pthread_mutex_lock(&ov.lock);
    ov.stopping = true;
    pthread_cond_broadcast(&ov.work);
    pthread_mutex_unlock(&ov.lock);
    for (int i = 0; i < ov.n_pool; i++) {
        pthread_join(ov.pool[i], NULL);
    }
    free(ov.pool);
    ov.pool = NULL;
    ov.n_pool = 0;
}

json_t *overload_status_json(void)
{
    pthread_mutex_lock(&ov.lock);
    double long_us = ov.g.long_us, short_us = ov.g.short_us, limit = ov.g.limit;
    int running = ov.running;
    bool standing = ov.standing;
    json_t *queued_by = json_object();
    for (size_t i = 0; i < ARRAY_LEN(priority); i++) {
        json_object_set_new(queued_by, class_names[priority[i]],
                            json_integer(ov.q[priority[i]].len));
    }
    pthread_mutex_unlock(&ov.lock);
    json_t *inflight = json_object(), *refused = json_object();
    for (size_t i = 0; i < ARRAY_LEN(priority); i++) {
        enum rl_class c = priority[i];
        json_object_set_new(inflight, class_names[c], json_integer(atomic_load(&ov.inflight[c])));
        json_object_set_new(refused, class_names[c], json_integer(atomic_load(&ov.refused[c])));
    }
    return json_pack("{s:b,s:i,s:f,s:i,s:f,s:f,s:b,s:b,s:o,s:o,s:o,s:I}", "enabled",
                     ov.on && ov.pool != NULL, "handlerThreads", ov.threads, "limit", limit,
                     "running", running, "dbLatencyBaselineMs", long_us / 1000.0,
                     "dbLatencyRecentMs", short_us / 1000.0, "congested",
                     atomic_load(&ov.congested), "standingQueue", standing, "queued", queued_by,
                     "inFlight", inflight, "refusedByThisProcess", refused, "dbStatements",
                     (json_int_t)atomic_load(&ov.statements));
}
