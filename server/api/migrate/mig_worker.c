/* mig_worker.c - the migration workers of one process (migrate.h): each owns a database
 * connection, claims a runnable job (mig_store_claim: FOR UPDATE SKIP LOCKED, then a lease),
 * runs it (mig_run_job) and looks for the next; idle, it sleeps until woken or a second
 * passes, so jobs made by other processes are found too. */
#include "api/migrate/migrate.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api/migrate/mig_lease.h"
#include "api/migrate/mig_pace.h"
#include "api/migrate/mig_run.h"
#include "api/migrate/mig_store.h"
#include "config/config.h"

#define WORKERS_MAX  16
#define IDLE_WAIT_MS 1000
#define OWNER_MAX    96

struct worker {
    pthread_t thread;
    bool started;
    char owner[OWNER_MAX]; /* lease owner: host, process, thread, and a random tag */
    struct db db;
};

static struct worker workers[WORKERS_MAX];
static int nworkers;
static const struct config *worker_cfg;
static atomic_bool stopping;
static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER; /* guards idle_cond's wait */
static pthread_cond_t idle_cond = PTHREAD_COND_INITIALIZER;

void migrate_wake(void)
{
    pthread_mutex_lock(&idle_lock);
    pthread_cond_signal(&idle_cond);
    pthread_mutex_unlock(&idle_lock);
}

static void idle_wait(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)(IDLE_WAIT_MS % 1000) * 1000000L;
    ts.tv_sec += IDLE_WAIT_MS / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&idle_lock);
    if (!atomic_load(&stopping)) {
        pthread_cond_timedwait(&idle_cond, &idle_lock, &ts);
    }
    pthread_mutex_unlock(&idle_lock);
}

static void *run(void *arg)
{
    struct worker *w = arg;
    while (!atomic_load(&stopping)) {
        int64_t id = 0;
        if (mig_store_claim(&w->db, w->owner, &id) != ERR_OK) {
            idle_wait(); /* the database is away: look again later */
            continue;
        }
        if (!id) {
            idle_wait();
            continue;
        }
        mig_run_job(&w->db, worker_cfg, id, w->owner, &stopping);
    }
    return NULL;
}

enum err migrate_start(const struct config *cfg, const char *db_url)
{
    worker_cfg = cfg;
    mig_pace_init(cfg);
    atomic_store(&stopping, false);
    int n = cfg->migration_workers;
    n = n < 0 ? 0 : n > WORKERS_MAX ? WORKERS_MAX : n;
    if (n > 0 && mig_lease_start(db_url) != ERR_OK) {
        log_error(NULL, "could not start the migration lease keeper");
        return ERR_INTERNAL;
    }
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    for (int i = 0; i < n; i++) {
        struct worker *w = &workers[i];
        snprintf(w->owner, sizeof w->owner, "%s:%d:%d:%08x", host, (int)getpid(), i,
                 (unsigned)randombytes_random());
        db_init(&w->db, db_url);
        if (pthread_create(&w->thread, NULL, run, w) != 0) {
            db_clear(&w->db);
            log_error(NULL, "could not start migration worker %d", i);
            migrate_stop();
            return ERR_INTERNAL;
        }
        w->started = true;
        nworkers = i + 1;
    }
    if (n > 0) {
        log_info(NULL, "%d migration worker%s started", n, n == 1 ? "" : "s");
    }
    return ERR_OK;
}

void migrate_stop(void)
{
    atomic_store(&stopping, true);
    pthread_mutex_lock(&idle_lock);
    pthread_cond_broadcast(&idle_cond);
    pthread_mutex_unlock(&idle_lock);
    for (int i = 0; i < nworkers; i++) {
        if (workers[i].started) {
            pthread_join(workers[i].thread, NULL);
            db_clear(&workers[i].db);
            workers[i].started = false;
        }
    }
    nworkers = 0;
    mig_lease_stop();
}
