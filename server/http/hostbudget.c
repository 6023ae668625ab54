/* hostbudget.c - the host's event budget, its per-process pool, and max-min fair shares
 * per account. */
#include "http/hostbudget.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "db/metrics.h"
#include "db/ratelimit_store.h"
#include "http/ratelimit.h"
#include "http/ratelimit_math.h"

#define SLOTS             (2 * HOSTBUDGET_ACCOUNTS_MAX) /* open addressing, half full at most */
#define DID_KEEP_MAX      160 /* longer DIDs pass untracked (did:web names are at most 253) */
#define IDLE_FORGET_MS    (5 * RL_MINUTE_MS)
#define ACQUIRE_NAP_MS    100 /* hostbudget_acquire sleeps at most this long between tries */
#define SLOWED_REPORT_MAX 50

/* Names of the refusals in the per-limit counts. */
#define REFUSED_SHARE  "host-share"
#define REFUSED_BUDGET "host-budget"

struct account {
    char did[DID_KEEP_MAX]; /* "" for a free slot */
    double demand;          /* events/s asked for (refused or not), averaged */
    int64_t asked;          /* requests since the last tick */
    int64_t refused;        /* refused since the last report */
    int64_t refused_recent; /* what the last report said, for the status */
    bool held;              /* over the fair level: spends from bucket */
    int64_t second_ms;      /* the second second_count counts in */
    int64_t second_count;   /* events taken in it: at most half the host's second */
    struct rl_bucket bucket;
    int64_t seen_ms;
};

static struct {
    bool started;
    bool enforce;
    int pct;
    int64_t configured_limit; /* 0: auto */
    bool trusted;
    char process[64];
    atomic_int_fast64_t relay_limit;
    atomic_int_fast64_t active_accounts;
    int64_t counted_ms;

    atomic_int_fast64_t pool;        /* events this process may spend now (negative: owed) */
    atomic_int_fast64_t spent_until; /* the host's budget is spent until then (ms) */
    int64_t pool_at_ms;              /* when the pool was taken (for giving back) */

    pthread_mutex_t lock; /* guards everything below */
    struct account *slots;
    size_t n_accounts;
    struct rl_host_budget relay, target;
    double used[RL_SPANS];
    double host_rate, my_rate, level, my_demand, total_demand;
    int processes;
    int64_t last_tick_ms;
    bool reported_slowed;
} hb = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint32_t hash_did(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h = (h ^ (uint8_t)*s) * 16777619u;
    }
    return h;
}

/* The account's slot (made when absent and room is left); NULL when untracked. Locked. */
static struct account *account_of(const char *did, bool make)
{
    size_t n = strlen(did);
    if (!hb.slots || n == 0 || n >= DID_KEEP_MAX) {
        return NULL;
    }
    for (uint32_t i = hash_did(did), k = 0; k < SLOTS; k++, i++) {
        struct account *a = &hb.slots[i % SLOTS];
        if (a->did[0] == '\0') {
            if (!make || hb.n_accounts >= HOSTBUDGET_ACCOUNTS_MAX) {
                return NULL;
            }
            memset(a, 0, sizeof *a);
            memcpy(a->did, did, n + 1);
            hb.n_accounts++;
            return a;
        }
        if (strcmp(a->did, did) == 0) {
            return a;
        }
    }
    return NULL;
}

/* Rebuilds the table without the forgotten accounts (open addressing cannot just clear). */
static void compact(int64_t now)
{
    struct account *old = hb.slots;
    hb.slots = xcalloc(SLOTS, sizeof *hb.slots);
    hb.n_accounts = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        struct account *a = &old[i];
        if (a->did[0] && (a->demand > 1e-3 || now - a->seen_ms < IDLE_FORGET_MS)) {
            struct account *b = account_of(a->did, true);
            if (b) {
                *b = *a;
            }
        }
    }
    free(old);
}

void hostbudget_init(const struct config *cfg, const char *process)
{
    pthread_mutex_lock(&hb.lock);
    free(hb.slots);
    hb.slots = xcalloc(SLOTS, sizeof *hb.slots);
    hb.n_accounts = 0;
    hb.enforce = cfg->host_budget_on && cfg->rate_limits_enabled;
    hb.pct = cfg->host_budget_percent > 0 ? cfg->host_budget_percent : 100;
    hb.configured_limit = cfg->relay_account_limit_n;
    hb.trusted = cfg->relay_trusted;
    snprintf(hb.process, sizeof hb.process, "%s", process);
    hb.level = INFINITY;
    hb.counted_ms = 0;
    hb.last_tick_ms = now_ms();
    atomic_store(&hb.relay_limit, 0);
    atomic_store(&hb.active_accounts, 0);
    /* until the first tick counts the accounts: the configured limit, or a new host's */
    rl_relay_budget(hostbudget_account_limit(NULL), hb.trusted, &hb.relay);
    rl_budget_scale(&hb.relay, hb.pct, &hb.target);
    pthread_mutex_unlock(&hb.lock);
    atomic_store(&hb.pool, 0);
    atomic_store(&hb.spent_until, 0);
    hb.started = true;
}

void hostbudget_set_relay_limit(int64_t limit)
{
    atomic_store(&hb.relay_limit, limit > 0 ? limit : 0);
}

int64_t hostbudget_account_limit(const char **source)
{
    const char *src;
    int64_t limit;
    int64_t relay = atomic_load(&hb.relay_limit), active = atomic_load(&hb.active_accounts);
    if (hb.trusted) {
        src = "trusted";
        limit = 0;
    } else if (hb.configured_limit > 0) {
        src = "configured";
        limit = hb.configured_limit;
    } else if (relay > 0) {
        src = "relay";
        limit = relay;
    } else {
        /* the relays alert their operators at 80 % of a host's limit and raise it, which is
         * how the budget grows with the host: budget for the accounts we have */
        src = "active accounts";
        limit = active > RL_RELAY_DEFAULT_ACCOUNTS ? active : RL_RELAY_DEFAULT_ACCOUNTS;
    }
    if (source) {
        *source = src;
    }
    return limit;
}

/* The held account's headers describe its bucket: burst events per burst/rate seconds. */
static int refuse_share(struct xrpc_req *rq, const struct account *a, int64_t wait_ms)
{
    double rate = a->bucket.rate > 0 ? a->bucket.rate : 1e-3;
    int64_t window_ms = (int64_t)ceil(a->bucket.burst / rate * 1000.0);
    ratelimit_count(REFUSED_SHARE, true);
    return ratelimit_refuse(rq, (int64_t)ceil(a->bucket.burst), window_ms, 0, wait_ms,
                            "This account is over its fair share of the host's event budget");
}

/* Counts one event of a in its second; true when that would pass half the host's second.
 * Locked. */
static bool over_half_second(struct account *a, int64_t now)
{
    int64_t second = now - now % RL_SECOND_MS;
    if (a->second_ms != second) {
        a->second_ms = second;
        a->second_count = 0;
    }
    int64_t cap = hb.target.limit[RL_SPAN_SECOND] / 2;
    if (a->second_count >= (cap > 0 ? cap : 1)) {
        return true;
    }
    a->second_count++;
    return false;
}

/* A refusal by over_half_second. Locked. */
static int refuse_second(struct xrpc_req *rq, int64_t now)
{
    int64_t cap = hb.target.limit[RL_SPAN_SECOND] / 2;
    ratelimit_count(REFUSED_SHARE, true);
    return ratelimit_refuse(rq, cap > 0 ? cap : 1, RL_SECOND_MS, 0,
                            RL_SECOND_MS - now % RL_SECOND_MS,
                            "This account is over its share of the host's event budget");
}

static int refuse_budget(struct xrpc_req *rq, int64_t wait_ms)
{
    ratelimit_count(REFUSED_BUDGET, true);
    pthread_mutex_lock(&hb.lock);
    /* the tightest window: the one with the least room */
    int span = RL_SPAN_SECOND;
    double best = INFINITY;
    for (int s = 0; s < RL_SPANS; s++) {
        double room = (double)hb.target.limit[s] - hb.used[s];
        if (room < best) {
            best = room;
            span = s;
        }
    }
    int64_t limit = hb.target.limit[span];
    pthread_mutex_unlock(&hb.lock);
    return ratelimit_refuse(rq, limit, rl_span_ms[span], 0, wait_ms,
                            "The host's event budget is spent for now");
}

/* Takes one event from the pool, else leases a few on db. Returns 0 or the wait (ms) until
 * the budget should have room again. */
static int64_t take_event(struct db *db)
{
    int64_t now = now_ms();
    int64_t p = atomic_load(&hb.pool);
    while (p > 0) {
        if (atomic_compare_exchange_weak(&hb.pool, &p, p - 1)) {
            return 0;
        }
    }
    int64_t until = atomic_load(&hb.spent_until);
    if (until > now) {
        return until - now; /* spent: refused without a round trip */
    }
    pthread_mutex_lock(&hb.lock);
    int64_t take = (int64_t)ceil(hb.my_rate / 4) + 1;
    int64_t limits[RL_SPANS];
    memcpy(limits, hb.target.limit, sizeof limits);
    pthread_mutex_unlock(&hb.lock);
    struct rl_host_events q = {.take = take, .limits = limits};
    int64_t granted = 0;
    double used[RL_SPANS];
    if (!db || db_in_tx(db) || rl_store_host_events(db, &q, &granted, used, NULL)) {
        return 0; /* fail open: counted when the tick can reach the database */
    }
    if (granted > 0) {
        atomic_fetch_add(&hb.pool, granted - 1);
        return 0;
    }
    int64_t wait = HOSTBUDGET_TICK_MS - (now - hb.last_tick_ms);
    wait = wait > 0 ? wait : HOSTBUDGET_TICK_MS;
    atomic_store(&hb.spent_until, now + wait);
    return wait;
}

/* An event held by a request: given back at the request's end unless it committed. */
struct held_event {
    char did[DID_KEEP_MAX];
    bool done;
};

static void held_event_end(void *p)
{
    struct held_event *h = p;
    if (!h->done) {
        hostbudget_refund(h->did);
    }
}

static int admitted(struct xrpc_req *rq, const char *did)
{
    struct held_event *h = arena_zalloc(rq->arena, sizeof *h);
    snprintf(h->did, sizeof h->did, "%s", did);
    arena_defer(rq->arena, held_event_end, h);
    rq->hostbudget = h;
    return 0;
}

void hostbudget_done(struct xrpc_req *rq)
{
    struct held_event *h = rq->hostbudget;
    if (h) {
        h->done = true;
    }
}

int hostbudget_peek(struct xrpc_req *rq)
{
    if (!hb.started || !hb.enforce || ratelimit_bypassed_by_operator(rq)) {
        return 0;
    }
    const char *did = ratelimit_peek_did(rq);
    if (!did) {
        return 0;
    }
    int64_t now = now_ms(), wait = 0;
    int st = 0;
    pthread_mutex_lock(&hb.lock);
    struct account *a = account_of(did, false);
    if (a && a->held) {
        struct rl_bucket probe = a->bucket; /* a copy: nothing taken */
        if (!rl_bucket_take(&probe, 1, now, &wait)) {
            a->asked++; /* it asked: its demand counts */
            a->refused++;
            st = refuse_share(rq, a, wait);
        }
    }
    pthread_mutex_unlock(&hb.lock);
    return st;
}

static int admit(struct xrpc_req *rq, const char *did);

int hostbudget_admit(struct xrpc_req *rq, const char *did)
{
    if (!hb.started || rq->hostbudget) {
        return 0;
    }
    int st = admit(rq, did);
    return st ? st : admitted(rq, did);
}

static int admit(struct xrpc_req *rq, const char *did)
{
    if (!hb.started) {
        return 0;
    }
    bool free_pass = !hb.enforce || ratelimit_bypassed_by_operator(rq);
    int64_t now = now_ms(), wait = 0;
    pthread_mutex_lock(&hb.lock);
    struct account *a = account_of(did, true);
    if (a) {
        a->asked++;
        a->seen_ms = now;
    }
    bool held = a && a->held && !free_pass;
    /* between two ticks an account's demand is not known yet: no account takes more than
     * half of any second of the host's budget, so one burst cannot shut the others out */
    if (a && !free_pass && over_half_second(a, now)) {
        a->refused++;
        int st = refuse_second(rq, now);
        pthread_mutex_unlock(&hb.lock);
        return st;
    }
    if (held && !rl_bucket_take(&a->bucket, 1, now, &wait)) {
        a->refused++;
        int st = refuse_share(rq, a, wait);
        pthread_mutex_unlock(&hb.lock);
        return st;
    }
    if (held) {
        ratelimit_note(
            rq, (int64_t)ceil(a->bucket.burst),
            (int64_t)ceil(a->bucket.burst / (a->bucket.rate > 0 ? a->bucket.rate : 1e-3) * 1000.0),
            (int64_t)a->bucket.tokens, 0);
    }
    pthread_mutex_unlock(&hb.lock);
    if (free_pass) {
        atomic_fetch_sub(&hb.pool, 1); /* may go below zero: the tick settles it */
        return 0;
    }
    wait = take_event(db_thread()); /* the primary: rq->db may be a replica (db/replica.h) */
    if (wait == 0) {
        return 0;
    }
    if (held) {
        pthread_mutex_lock(&hb.lock);
        struct account *b = account_of(did, false);
        if (b) {
            rl_bucket_refund(&b->bucket, 1);
            b->refused++;
        }
        pthread_mutex_unlock(&hb.lock);
    }
    return refuse_budget(rq, wait);
}

void hostbudget_refund(const char *did)
{
    if (!hb.started) {
        return;
    }
    atomic_fetch_add(&hb.pool, 1);
    pthread_mutex_lock(&hb.lock);
    struct account *a = account_of(did, false);
    if (a && a->held) {
        rl_bucket_refund(&a->bucket, 1);
    }
    pthread_mutex_unlock(&hb.lock);
}

enum err hostbudget_acquire(struct db *db, const char *did, int64_t max_wait_ms)
{
    if (!hb.started) {
        return ERR_OK;
    }
    int64_t start = now_ms();
    bool asked = false;
    for (;;) {
        int64_t now = now_ms(), wait = 0;
        bool ok = true;
        pthread_mutex_lock(&hb.lock);
        struct account *a = account_of(did, true);
        if (a && !asked) {
            a->asked++; /* one demand, however long it waits */
            a->seen_ms = now;
            asked = true;
        }
        if (hb.enforce && a && a->held) {
            ok = rl_bucket_take(&a->bucket, 1, now, &wait);
        }
        pthread_mutex_unlock(&hb.lock);
        if (!hb.enforce) {
            atomic_fetch_sub(&hb.pool, 1);
            return ERR_OK;
        }
        if (ok) {
            wait = take_event(db);
            if (wait == 0) {
                return ERR_OK;
            }
            pthread_mutex_lock(&hb.lock);
            a = account_of(did, false);
            if (a && a->held) {
                rl_bucket_refund(&a->bucket, 1);
            }
            pthread_mutex_unlock(&hb.lock);
        }
        if (now - start + wait > max_wait_ms) {
            return ERR_RATE_LIMITED;
        }
        int64_t nap = wait < ACQUIRE_NAP_MS ? wait : ACQUIRE_NAP_MS;
        usleep((useconds_t)(nap > 0 ? nap : 1) * 1000);
    }
}

void hostbudget_charge(const char *did, int64_t n)
{
    (void)did;
    if (hb.started && n > 0) {
        atomic_fetch_sub(&hb.pool, n);
    }
}

/* Demands averaged over the last tick; returns this process's total. Locked. */
static double update_demands(int64_t now, int64_t dt_ms)
{
    double total = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        struct account *a = &hb.slots[i];
        if (!a->did[0]) {
            continue;
        }
        double rate = dt_ms > 0 ? (double)a->asked * 1000.0 / (double)dt_ms : 0;
        a->demand = rl_ewma(a->demand, rate, dt_ms, HOSTBUDGET_DEMAND_TAU_MS);
        a->asked = 0;
        total += a->demand;
    }
    if (hb.n_accounts > HOSTBUDGET_ACCOUNTS_MAX * 3 / 4) {
        compact(now);
    }
    return total;
}

/* The fair level over this process's rate; holds the accounts above it. Locked. */
static void share_out(int64_t now)
{
    double *d = xmalloc((hb.n_accounts + 1) * sizeof *d);
    size_t n = 0;
    for (size_t i = 0; i < SLOTS; i++) {
        if (hb.slots[i].did[0]) {
            d[n++] = hb.slots[i].demand;
        }
    }
    hb.level = rl_maxmin_level(d, n, hb.my_rate);
    free(d);
    for (size_t i = 0; i < SLOTS; i++) {
        struct account *a = &hb.slots[i];
        if (!a->did[0]) {
            continue;
        }
        bool hold = isfinite(hb.level) && a->demand > hb.level;
        double burst = hb.level * HOSTBUDGET_BURST_S;
        burst = burst < HOSTBUDGET_BURST_MIN ? HOSTBUDGET_BURST_MIN : burst;
        if (hold && !a->held) {
            rl_bucket_init(&a->bucket, hb.level, burst, now);
        } else if (hold) {
            rl_bucket_set(&a->bucket, hb.level, burst, now);
        }
        a->held = hold;
    }
}

/* The held accounts, reported for the status (every process's in one table). Locked. */
static size_t slowed_rows(struct rl_slowed *rows, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < SLOTS && n < max; i++) {
        struct account *a = &hb.slots[i];
        if (a->did[0] && (a->held || a->refused)) {
            rows[n++] =
                (struct rl_slowed){a->did, a->demand, a->held ? hb.level : a->demand, a->refused};
            a->refused_recent = a->refused;
            a->refused = 0;
        }
    }
    return n;
}

void hostbudget_tick(struct db *db)
{
    if (!hb.started) {
        return;
    }
    int64_t now = now_ms();
    if (now - hb.counted_ms >= HOSTBUDGET_COUNT_EVERY_MS) {
        int64_t n;
        if (!rl_store_active_accounts(db, &n)) {
            atomic_store(&hb.active_accounts, n);
            hb.counted_ms = now;
        }
    }
    const char *src;
    int64_t limit = hostbudget_account_limit(&src);
    pthread_mutex_lock(&hb.lock);
    int64_t dt = now - hb.last_tick_ms;
    hb.last_tick_ms = now;
    double mine = update_demands(now, dt);
    rl_relay_budget(limit, hb.trusted, &hb.relay);
    rl_budget_scale(&hb.relay, hb.pct, &hb.target);
    int64_t limits[RL_SPANS];
    memcpy(limits, hb.target.limit, sizeof limits);
    hb.my_demand = mine;
    pthread_mutex_unlock(&hb.lock);

    double total = mine;
    int procs = 1;
    if (rl_store_process_demand(db, hb.process, mine, &total, &procs)) {
        return; /* the database is away: keep the old shares */
    }
    /* give back what is left of the pool and take the next second's: what this process is
     * asked for (with room to grow; a burst past it leases more on the request path),
     * settled against what was spent past the pool */
    int64_t left = atomic_exchange(&hb.pool, 0);
    int64_t want = (int64_t)ceil(mine * 1.5) + 1;
    struct rl_host_events q = {.limits = limits};
    if (left > 0) {
        q.give_back = left;
        q.give_back_at_ms = hb.pool_at_ms;
    }
    int64_t granted = 0;
    double used[RL_SPANS];
    if (left < 0) {
        q.take = -left; /* events spent without asking: count them */
        q.force = true;
        if (rl_store_host_events(db, &q, &granted, used, NULL)) {
            atomic_fetch_add(&hb.pool, left);
            return;
        }
        q = (struct rl_host_events){.limits = limits};
    }
    q.take = want;
    if (rl_store_host_events(db, &q, &granted, used, NULL)) {
        atomic_fetch_add(&hb.pool, left > 0 ? left : 0);
        return;
    }
    atomic_fetch_add(&hb.pool, granted);
    atomic_store(&hb.spent_until, 0);

    /* the console's and Prometheus's view: the hour window, the one relays alert on */
    metrics_set(metrics_gauge(METRICS_WRITE_BUDGET_USED,
                              "Events this host emitted in the relays' hour window"),
                (int64_t)used[RL_SPAN_HOUR]);
    metrics_set(metrics_gauge(METRICS_WRITE_BUDGET_LIMIT,
                              "Events per hour this host keeps itself under (the relays' budget)"),
                limits[RL_SPAN_HOUR]);
    pthread_mutex_lock(&hb.lock);
    hb.pool_at_ms = now;
    memcpy(hb.used, used, sizeof used);
    hb.processes = procs;
    hb.total_demand = total;
    hb.host_rate = rl_host_rate(&hb.target, used);
    /* this process's part of the host's rate: its part of the demand */
    double part = total > 1e-9 ? mine / total : 1.0 / (procs > 0 ? procs : 1);
    hb.my_rate = hb.host_rate * (part > 1 ? 1 : part);
    share_out(now);
    struct rl_slowed rows[SLOWED_REPORT_MAX];
    size_t n = slowed_rows(rows, SLOWED_REPORT_MAX);
    /* copies: the rows point into slots, which the lock guards */
    char(*dids)[DID_KEEP_MAX] = n ? xmalloc(n * sizeof *dids) : NULL;
    for (size_t i = 0; i < n; i++) {
        memcpy(dids[i], rows[i].did, DID_KEEP_MAX);
        rows[i].did = dids[i];
    }
    bool report = n > 0 || hb.reported_slowed;
    hb.reported_slowed = n > 0;
    pthread_mutex_unlock(&hb.lock);
    if (report && rl_store_slowed(db, hb.process, rows, n)) {
        log_warn(NULL, "host budget: could not record the accounts being slowed");
    }
    free(dids);
}

void hostbudget_leave(struct db *db)
{
    if (!hb.started) {
        return;
    }
    int64_t left = atomic_exchange(&hb.pool, 0);
    int64_t limits[RL_SPANS];
    pthread_mutex_lock(&hb.lock);
    memcpy(limits, hb.target.limit, sizeof limits);
    pthread_mutex_unlock(&hb.lock);
    if (left != 0) {
        struct rl_host_events q = {.limits = limits};
        if (left > 0) {
            q.give_back = left;
            q.give_back_at_ms = hb.pool_at_ms;
        } else {
            q.take = -left;
            q.force = true;
        }
        int64_t granted;
        double used[RL_SPANS];
        if (rl_store_host_events(db, &q, &granted, used, NULL)) {
            log_warn(NULL, "host budget: could not give back %lld events at shutdown",
                     (long long)left);
        }
    }
    if (rl_store_process_leave(db, hb.process)) {
        log_warn(NULL, "host budget: could not remove this process's demand at shutdown");
    }
    hb.started = false;
}

static json_t *spans_json(const int64_t *v)
{
    return json_pack("{s:I,s:I,s:I}", "perSecond", (json_int_t)v[RL_SPAN_SECOND], "perHour",
                     (json_int_t)v[RL_SPAN_HOUR], "perDay", (json_int_t)v[RL_SPAN_DAY]);
}

json_t *hostbudget_status_json(struct db *db)
{
    const char *src;
    int64_t limit = hostbudget_account_limit(&src);
    struct rl_host_budget relay, target;
    rl_relay_budget(limit, hb.trusted, &relay);
    rl_budget_scale(&relay, hb.pct, &target);
    pthread_mutex_lock(&hb.lock);
    double used[RL_SPANS];
    memcpy(used, hb.used, sizeof used);
    double host_rate = hb.host_rate, level = hb.level, total = hb.total_demand;
    int procs = hb.processes;
    json_t *slowed = json_array();
    for (size_t i = 0; !db && i < SLOTS; i++) {
        struct account *a = &hb.slots[i];
        if (a->did[0] && a->held) {
            json_array_append_new(slowed,
                                  json_pack("{s:s,s:f,s:f,s:I}", "did", a->did, "demandPerSecond",
                                            a->demand, "sharePerSecond", hb.level, "refused",
                                            (json_int_t)(a->refused + a->refused_recent)));
        }
    }
    pthread_mutex_unlock(&hb.lock);
    PGresult *r = NULL;
    if (db && !db_query(db,
                        "SELECT did, sum(demand)::text, sum(share)::text, sum(refused)::bigint"
                        " FROM host_budget_slowed"
                        " WHERE seen_at >= now() - interval '10 seconds'"
                        " GROUP BY did ORDER BY sum(demand) DESC LIMIT 50",
                        NULL, &r)) {
        for (int i = 0; i < PQntuples(r); i++) {
            json_array_append_new(slowed,
                                  json_pack("{s:s,s:f,s:f,s:I}", "did", db_col_text(r, i, 0),
                                            "demandPerSecond", strtod(db_col_text(r, i, 1), NULL),
                                            "sharePerSecond", strtod(db_col_text(r, i, 2), NULL),
                                            "refused", (json_int_t)db_col_i64(r, i, 3)));
        }
        PQclear(r);
    }
    json_t *usage = json_pack("{s:f,s:f,s:f}", "second", used[RL_SPAN_SECOND], "hour",
                              used[RL_SPAN_HOUR], "day", used[RL_SPAN_DAY]);
    return json_pack("{s:b,s:I,s:s,s:I,s:b,s:o,s:o,s:o,s:f,s:o,s:f,s:i,s:o}", "enforced",
                     hb.enforce, "accountLimit", (json_int_t)limit, "accountLimitSource", src,
                     "activeAccounts", (json_int_t)atomic_load(&hb.active_accounts), "trusted",
                     hb.trusted, "relayBudget", spans_json(relay.limit), "target",
                     spans_json(target.limit), "used", usage, "allowedEventsPerSecond", host_rate,
                     "fairSharePerSecond", isfinite(level) ? json_real(level) : json_null(),
                     "demandPerSecond", total, "processes", procs, "slowedAccounts", slowed);
}
