/* replica.c - see replica.h. The checker samples the primary's WAL position every
 * REPLICA_CHECK_MS and keeps the samples of the last few seconds; a replica is fresh when
 * its replay position has reached the primary's sample from max_lag_ms ago, so a fresh
 * replica never misses a commit older than max_lag_ms. A replica that cannot be asked is
 * stale until it answers again (warned once a minute, never an error to a client). */
#include "db/replica.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bytes.h"
#include "db/log.h"
#include "db/metrics.h"

#define SAMPLES       256   /* primary positions kept: 51 s at one per REPLICA_CHECK_MS */
#define WARN_EVERY_MS 60000 /* one warning a minute per unhealthy replica */

struct sample {
    int64_t at_ms;
    int64_t lsn;
};

struct replica {
    char *url;
    struct db db; /* the checker's own connection */
    atomic_bool fresh;
    int64_t warned_at_ms;
};

static struct {
    struct replica r[REPLICA_MAX];
    int n;
    struct db primary;
    int64_t max_lag_ms;
    struct sample s[SAMPLES];
    int ns, head;
    pthread_t thread;
    atomic_bool stop;
    bool running;
} rs;

static atomic_int next_replica;
static struct metrics_series *served_m, *fell_back_m; /* set once, before any thread reads */
static pthread_key_t thread_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

struct thread_replica {
    int index;
    struct db db;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void thread_free(void *p)
{
    struct thread_replica *t = p;
    db_clear(&t->db);
    free(t);
}

static void key_make(void)
{
    if (pthread_key_create(&thread_key, thread_free) != 0) {
        abort();
    }
}

/* One int8 from a one-row, one-column query; false when it failed or was NULL. */
static bool one_i64(struct db *db, const char *sql, int64_t *out)
{
    PGresult *r = NULL;
    if (db_query(db, sql, NULL, &r) != ERR_OK) {
        return false;
    }
    bool ok = PQntuples(r) == 1 && !PQgetisnull(r, 0, 0);
    if (ok) {
        *out = db_col_i64(r, 0, 0);
    }
    PQclear(r);
    return ok;
}

/* The primary's position max_lag_ms ago (the newest sample at least that old); false while
 * the samples do not reach back that far, when only the oldest is known. */
static bool position_then(int64_t now, int64_t *lsn)
{
    bool found = false;
    for (int i = 0; i < rs.ns; i++) {
        const struct sample *s = &rs.s[(rs.head - 1 - i + SAMPLES) % SAMPLES];
        *lsn = s->lsn; /* walking back: ends at the oldest when none is old enough */
        found = true;
        if (now - s->at_ms >= rs.max_lag_ms) {
            break;
        }
    }
    return found;
}

static void check_once(void)
{
    int64_t now = now_ms(), lsn;
    if (one_i64(&rs.primary, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8", &lsn)) {
        rs.s[rs.head] = (struct sample){now, lsn};
        rs.head = (rs.head + 1) % SAMPLES;
        rs.ns = rs.ns < SAMPLES ? rs.ns + 1 : SAMPLES;
    }
    int64_t want = 0;
    bool known = position_then(now, &want);
    for (int i = 0; i < rs.n; i++) {
        struct replica *r = &rs.r[i];
        int64_t replayed = -1;
        bool asked = one_i64(&r->db,
                             "SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'),"
                             " -1)::int8",
                             &replayed);
        bool fresh = asked && replayed >= 0 && known && replayed >= want;
        if (!fresh && now - r->warned_at_ms >= WARN_EVERY_MS) {
            r->warned_at_ms = now;
            log_warn(NULL, "replica %d of PDS_DATABASE_REPLICA_URLS: %s; reading from the primary",
                     i + 1,
                     !asked         ? "not answering"
                     : replayed < 0 ? "not a standby (pg_last_wal_replay_lsn() is null)"
                     : !known       ? "the primary's position is not known"
                                    : "behind the primary by more than the allowed lag");
        } else if (fresh && !atomic_load(&r->fresh) && r->warned_at_ms) {
            log_info(NULL, "replica %d of PDS_DATABASE_REPLICA_URLS is fresh again", i + 1);
            r->warned_at_ms = 0;
        }
        atomic_store(&r->fresh, fresh);
    }
}

static void *checker(void *arg)
{
    (void)arg;
    while (!atomic_load(&rs.stop)) {
        check_once();
        struct timespec ts = {0, REPLICA_CHECK_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

enum err replica_start(const char *primary_url, const char *urls, int64_t max_lag_ms)
{
    pthread_once(&key_once, key_make);
    served_m =
        metrics_counter("pds_replica_reads_total", "Public reads served by a PostgreSQL replica.");
    fell_back_m =
        metrics_counter("pds_replica_fallbacks_total",
                        "Public reads a replica could have served that went to the primary "
                        "(the replica stale, not answering, or failing the read).");
    if (!urls || !*urls) {
        return ERR_OK;
    }
    const char *p = urls;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && (*p == ' ')) {
            p++, len--;
        }
        while (len && p[len - 1] == ' ') {
            len--;
        }
        if (len) {
            if (rs.n == REPLICA_MAX) {
                return ERR_INVALID;
            }
            struct replica *r = &rs.r[rs.n++];
            r->url = xstrndup(p, len);
            db_init(&r->db, r->url);
            atomic_init(&r->fresh, false);
        }
        p = end ? end + 1 : p + strlen(p);
    }
    if (!rs.n) {
        return ERR_OK;
    }
    db_init(&rs.primary, primary_url);
    rs.max_lag_ms = max_lag_ms > 0 ? max_lag_ms : 0;
    atomic_init(&rs.stop, false);
    check_once(); /* a replica that is fresh now serves from the first request */
    if (pthread_create(&rs.thread, NULL, checker, NULL) != 0) {
        return ERR_INTERNAL;
    }
    rs.running = true;
    log_info(NULL, "reading public repository data from %d replica%s (fresh within %lld ms)", rs.n,
             rs.n == 1 ? "" : "s", (long long)rs.max_lag_ms);
    return ERR_OK;
}

void replica_stop(void)
{
    if (rs.running) {
        atomic_store(&rs.stop, true);
        pthread_join(rs.thread, NULL);
        rs.running = false;
    }
    for (int i = 0; i < rs.n; i++) {
        db_clear(&rs.r[i].db);
        free(rs.r[i].url);
    }
    db_clear(&rs.primary);
    rs.n = 0;
}

struct db *replica_thread(void)
{
    if (!rs.n) {
        return NULL;
    }
    pthread_once(&key_once, key_make);
    struct thread_replica *t = pthread_getspecific(thread_key);
    if (!t) {
        t = xmalloc(sizeof *t);
        t->index = atomic_fetch_add(&next_replica, 1) % rs.n;
        db_init(&t->db, rs.r[t->index].url);
        if (pthread_setspecific(thread_key, t) != 0) {
            abort();
        }
    }
    if (!atomic_load(&rs.r[t->index].fresh)) {
        metrics_inc(fell_back_m);
        return NULL;
    }
    return &t->db;
}

void replica_thread_failed(void)
{
    struct thread_replica *t = rs.n ? pthread_getspecific(thread_key) : NULL;
    if (t) {
        atomic_store(&rs.r[t->index].fresh, false);
    }
    metrics_inc(fell_back_m);
}

void replica_count_served(void)
{
    metrics_inc(served_m);
}
