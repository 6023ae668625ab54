/* mig_lease.c - the lease keeper of one process (mig_lease.h). */
#include "api/migrate/mig_lease.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "api/migrate/mig_store.h"
#include "db/db.h"
#include "db/log.h"

#define HELD_MAX 32   /* jobs one process runs at once (workers are at most 16) */
#define RENEW_MS 3000 /* well inside MIG_LEASE_MS */

struct held {
    int64_t id; /* 0: free slot */
    const char *owner;
    atomic_bool *stop;
};

static struct held table[HELD_MAX];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER; /* guards table, quit */
static pthread_cond_t table_cond = PTHREAD_COND_INITIALIZER;
static bool quit;
static bool started;
static pthread_t thread;
static struct db lease_db;

void mig_lease_hold(int64_t id, const char *owner, atomic_bool *stop)
{
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < HELD_MAX; i++) {
        if (table[i].id == 0) {
            table[i] = (struct held){id, owner, stop};
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

void mig_lease_drop(int64_t id)
{
    pthread_mutex_lock(&table_lock);
    for (int i = 0; i < HELD_MAX; i++) {
        if (table[i].id == id) {
            table[i].id = 0;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

static void renew_all(void)
{
    struct held now[HELD_MAX];
    pthread_mutex_lock(&table_lock);
    memcpy(now, table, sizeof now);
    pthread_mutex_unlock(&table_lock);
    for (int i = 0; i < HELD_MAX; i++) {
        if (now[i].id == 0) {
            continue;
        }
        bool kept = true;
        if (mig_store_renew(&lease_db, now[i].id, now[i].owner, &kept) != ERR_OK) {
            continue; /* the database blinked: the lease still has time */
        }
        if (!kept) {
            pthread_mutex_lock(&table_lock);
            /* still the same holder (not dropped and re-held meanwhile) */
            if (table[i].id == now[i].id && table[i].stop == now[i].stop) {
                atomic_store(table[i].stop, true);
            }
            pthread_mutex_unlock(&table_lock);
            log_info(NULL, "migration %lld: lease lost (cancelled or taken over); stopping",
                     (long long)now[i].id);
        }
    }
}

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&table_lock);
    while (!quit) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += RENEW_MS / 1000;
        ts.tv_nsec += (long)(RENEW_MS % 1000) * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&table_cond, &table_lock, &ts);
        if (quit) {
            break;
        }
        pthread_mutex_unlock(&table_lock);
        renew_all();
        pthread_mutex_lock(&table_lock);
    }
    pthread_mutex_unlock(&table_lock);
    return NULL;
}

enum err mig_lease_start(const char *db_url)
{
    db_init(&lease_db, db_url);
    quit = false;
    if (pthread_create(&thread, NULL, run, NULL) != 0) {
        db_clear(&lease_db);
        return ERR_INTERNAL;
    }
    started = true;
    return ERR_OK;
}

void mig_lease_stop(void)
{
    if (!started) {
        return;
    }
    pthread_mutex_lock(&table_lock);
    quit = true;
    pthread_cond_broadcast(&table_cond);
    pthread_mutex_unlock(&table_lock);
    pthread_join(thread, NULL);
    db_clear(&lease_db);
    started = false;
}
