/* limits.c - the limiters' start, stop and background thread. */
#include "http/limits.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "config/config.h"
#include "db/db.h"
#include "db/log.h"
#include "db/ratelimit_store.h"
#include "http/hostbudget.h"
#include "http/overload.h"
#include "http/ratelimit.h"

static struct {
    bool running;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop, with wake */
    pthread_cond_t wake;
    bool stop;
    struct db db;
} lt = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Sleeps until due (monotonic ms) or until stopped; false when stopped. */
static bool nap_until(int64_t due)
{
    pthread_mutex_lock(&lt.lock);
    while (!lt.stop) {
        int64_t wait = due - mono_ms();
        if (wait <= 0) {
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += wait / 1000;
        ts.tv_nsec += (wait % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&lt.wake, &lt.lock, &ts);
    }
    bool go = !lt.stop;
    pthread_mutex_unlock(&lt.lock);
    return go;
}

static void *limits_main(void *arg)
{
    (void)arg;
    int64_t next = mono_ms(), next_sweep = next + LIMITS_SWEEP_EVERY_MS;
    while (nap_until(next)) {
        next += HOSTBUDGET_TICK_MS;
        if (next < mono_ms()) {
            next = mono_ms() + HOSTBUDGET_TICK_MS; /* fell behind (database slow): skip */
        }
        hostbudget_tick(&lt.db);
        if (ratelimit_flush(&lt.db)) {
            /* the counts are kept for the next flush */
        }
        if (mono_ms() >= next_sweep) {
            next_sweep = mono_ms() + LIMITS_SWEEP_EVERY_MS;
            int64_t gone = 0;
            if (!rl_store_sweep(&lt.db, &gone) && gone > 0) {
                log_debug(NULL, "rate limits: swept %lld expired counters", (long long)gone);
            }
        }
    }
    return NULL;
}

enum err limits_start(const struct config *cfg, const char *db_url, char *why, size_t why_len)
{
    enum err e = ratelimit_start(cfg, why, why_len);
    if (e) {
        return e;
    }
    overload_init(cfg);
    char process[64];
    char host[32] = "";
    gethostname(host, sizeof host - 1);
    snprintf(process, sizeof process, "%s-%ld-%08x", host, (long)getpid(), randombytes_random());
    hostbudget_init(cfg, process);
    if (!db_url) {
        return ERR_OK;
    }
    db_init(&lt.db, db_url);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lt.wake, &ca);
    pthread_condattr_destroy(&ca);
    lt.stop = false;
    if (pthread_create(&lt.thread, NULL, limits_main, NULL) != 0) {
        snprintf(why, why_len, "rate limits: could not start their thread");
        db_clear(&lt.db);
        pthread_cond_destroy(&lt.wake);
        return ERR_INTERNAL;
    }
    lt.running = true;
    return ERR_OK;
}

void limits_stop(void)
{
    if (lt.running) {
        pthread_mutex_lock(&lt.lock);
        lt.stop = true;
        pthread_cond_signal(&lt.wake);
        pthread_mutex_unlock(&lt.lock);
        pthread_join(lt.thread, NULL);
        hostbudget_leave(&lt.db);
        if (ratelimit_flush(&lt.db)) {
            log_warn(NULL, "rate limits: the last counts could not be recorded");
        }
        db_clear(&lt.db);
        pthread_cond_destroy(&lt.wake);
        lt.running = false;
    }
    ratelimit_stop();
}
