/* sequencer.c - the sequencer thread: numbers committed outbox rows after commit, so that a
 * reader following `seq > last` never skips an event; also prunes old events.
 *
 * Why a reader never skips (the invariant the firehose rests on):
 *
 *   Writers insert outbox rows with seq NULL inside the transaction that makes the change;
 *   only pds_sequence_outbox (migrations/0003_sequencer.sql) ever sets seq. Call its runs,
 *   in any process, S1, S2, ... in the order they obtain the advisory lock "pdsseq". The lock
 *   is held until the run's transaction ends, and PostgreSQL makes a transaction visible to
 *   new snapshots (ProcArrayEndTransaction) before it releases its locks. So:
 *
 *   (1) S(k+1) gets the lock only after S(k) released it, hence after S(k) became
 *       visible; its queries take fresh snapshots after that (READ COMMITTED, a VOLATILE
 *       function) and read base = max(every seq and the recorded head committed so far)
 *       >= every seq S1..Sk assigned; S(k+1) assigns
 *       base+1, base+2, ... So each run's seqs are above all earlier runs' seqs, and a seq is
 *       never assigned twice (the recorded head survives pruning and deletion).
 *   (2) S(k) commits before S(k+1) even starts, so any snapshot that sees S(k+1)'s commit
 *       sees S(k)'s, and by induction S1..Sk. A snapshot is atomic, so it sees each run's
 *       seqs all or none.
 *
 *   A reader whose snapshot contains seq x therefore sees every seq < x that exists: all
 *   were assigned by the run that assigned x or by earlier runs (1), which the same snapshot
 *   includes (2). Rows visible to readers are always a prefix of the final seq order (minus
 *   rows deleted by pruning or account deletion, which leave holes nobody waits for). After
 *   reading up to x, every seq a later `seq > x` meets is either one the reader's snapshot
 *   already held above x, or one assigned by a later run, hence above x; none can appear
 *   below x. Hence no skip, and no duplicate. A transaction that commits late simply
 *   has its row numbered by a later run, above everything readers have seen; a transaction
 *   that aborts never had a visible row; kill -9 of a writer or a sequencer loses nothing
 *   committed (unnumbered rows wait for the next run, in this or any process).
 *
 *   Runs commit with synchronous_commit on (set by the function itself), so a reader never
 *   sees a seq that a crash could take back and hand to another event; that flush also
 *   makes durable the commits of the rows it numbered, which precede it in the WAL.
 *
 * Waking makes this prompt, not correct: the INSERT trigger's NOTIFY (on commit),
 * sequencer_wake from a writer in this process, or the one-second poll; each run then
 * announces its head on OUTBOX_CHANNEL_SEQUENCED for the listeners. */
#include "db/sequencer.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "db/log.h"
#include "db/outbox.h"

enum err sequencer_step(struct db *db, int64_t *numbered, int64_t *head)
{
    *numbered = 0;
    if (head) {
        *head = 0;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, SEQUENCER_BATCH);
    PGresult *r;
    enum err e = db_query(db, "SELECT * FROM pds_sequence_outbox($1::integer)", &p, &r);
    if (e) {
        return e;
    }
    *numbered = db_col_i64(r, 0, 0);
    if (head) {
        *head = db_col_i64(r, 0, 1); /* 0 for SQL NULL */
    }
    PQclear(r);
    return ERR_OK;
}

enum err sequencer_run(struct db *db)
{
    for (;;) {
        int64_t n;
        enum err e = sequencer_step(db, &n, NULL);
        if (e || n < SEQUENCER_BATCH) {
            return e;
        }
    }
}

struct sequencer {
    pthread_t thread;
    int wake_fd; /* eventfd written by sequencer_stop and sequencer_wake */
    atomic_bool stop;
    char *url;
    int64_t retention_ms;
    int64_t pruned; /* sequencer thread: rows deleted in the current pruning pass */
};

/* The sequencer sequencer_wake wakes: the process's first. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER; /* guards registered */
static struct sequencer *registered;

void sequencer_wake(void)
{
    pthread_mutex_lock(&registry_lock);
    if (registered) {
        uint64_t one = 1;
        (void)!write(registered->wake_fd, &one, sizeof one);
    }
    pthread_mutex_unlock(&registry_lock);
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Pruning goes one batch per loop turn, between numbering steps, so deleting a window's
 * worth of old rows never holds up new events for long. */
static void maybe_prune(struct sequencer *s, struct db *db, int64_t *next_prune, bool *pruning)
{
    if (s->retention_ms <= 0 || (!*pruning && now_ms() < *next_prune)) {
        return;
    }
    int64_t deleted = 0;
    if (outbox_prune_batch(db, s->retention_ms, &deleted) != ERR_OK) {
        log_warn(NULL, "sequencer: pruning old events failed; will retry");
        deleted = 0;
    }
    s->pruned += deleted;
    *pruning = deleted == OUTBOX_PRUNE_BATCH;
    if (!*pruning) {
        if (s->pruned > 0) {
            log_info(NULL, "sequencer: pruned %lld events older than %lld ms", (long long)s->pruned,
                     (long long)s->retention_ms);
        }
        s->pruned = 0;
        *next_prune = now_ms() + SEQUENCER_PRUNE_EVERY_MS;
    }
}

static void *sequencer_main(void *arg)
{
    struct sequencer *s = arg;
    struct db db;
    db_init(&db, s->url);
    struct outbox_notify n;
    outbox_notify_init(&n, &db, OUTBOX_CHANNEL_ADDED);
    int64_t next_prune = now_ms(); /* prune once at start-up */
    bool pruning = false;          /* a pruning pass has more batches to go */
    int timeout = 0;               /* the first wait only issues LISTEN */
    bool warned = false;
    int64_t last_run = 0;
    while (!atomic_load(&s->stop)) {
        int count = 0;
        /* LISTEN comes before the step, so a row committed during the step notifies */
        enum err e = outbox_notify_wait(&n, s->wake_fd, timeout, &count, NULL);
        uint64_t woken;
        (void)!read(s->wake_fd, &woken, sizeof woken); /* reset a sequencer_wake */
        /* Under load every commit wakes us: numbering at most every SEQUENCER_BATCH_MS
         * gathers the events of many writes into one (fsynced) numbering transaction, for
         * at most that much added stream latency. */
        int64_t since = now_ms() - last_run;
        if (since < SEQUENCER_BATCH_MS) {
            struct timespec nap = {0, (long)(SEQUENCER_BATCH_MS - since) * 1000000L};
            nanosleep(&nap, NULL);
        }
        if (!e && !atomic_load(&s->stop)) {
            e = sequencer_run(&db); /* on a notification and on every poll timeout */
            last_run = now_ms();
        }
        if (!e) {
            maybe_prune(s, &db, &next_prune, &pruning);
            timeout = pruning ? 0 : SEQUENCER_POLL_MS;
            warned = false;
            continue;
        }
        if (db_should_retry(&db)) {
            timeout = 0; /* a deadlock with an account deletion: PostgreSQL chose us */
            continue;
        }
        if (!warned) {
            log_warn(NULL, "sequencer: database unavailable; retrying every %d ms",
                     SEQUENCER_POLL_MS);
            warned = true;
        }
        struct pollfd pf = {.fd = s->wake_fd, .events = POLLIN};
        (void)poll(&pf, 1, SEQUENCER_POLL_MS);
        timeout = 0;
    }
    db_clear(&db);
    return NULL;
}

enum err sequencer_start(const char *db_url, int64_t retention_ms, struct sequencer **out)
{
    *out = NULL;
    struct sequencer *s = xcalloc(1, sizeof *s);
    s->url = xstrndup(db_url, strlen(db_url));
    s->retention_ms = retention_ms;
    atomic_init(&s->stop, false);
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0 || pthread_create(&s->thread, NULL, sequencer_main, s) != 0) {
        log_error(NULL, "sequencer: could not start its thread");
        if (s->wake_fd >= 0) {
            close(s->wake_fd);
        }
        free(s->url);
        free(s);
        return ERR_INTERNAL;
    }
    pthread_mutex_lock(&registry_lock);
    if (!registered) {
        registered = s;
    }
    pthread_mutex_unlock(&registry_lock);
    *out = s;
    return ERR_OK;
}

void sequencer_stop(struct sequencer *s)
{
    if (!s) {
        return;
    }
    pthread_mutex_lock(&registry_lock);
    if (registered == s) {
        registered = NULL;
    }
    pthread_mutex_unlock(&registry_lock);
    atomic_store(&s->stop, true);
    uint64_t one = 1;
    (void)!write(s->wake_fd, &one, sizeof one);
    pthread_join(s->thread, NULL);
    close(s->wake_fd);
    explicit_bzero(s->url, strlen(s->url));
    free(s->url);
    free(s);
}
