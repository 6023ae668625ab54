/* mig_pace.c - request pacing per host (mig_pace.h): the next free slot of each host,
 * booked under a lock and waited for outside it. */
#include "api/migrate/mig_pace.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"

#define PACE_HOSTS_MAX 64  /* hosts remembered; the oldest slot is reused beyond that */
#define PACE_HOST_MAX  256 /* base URLs longer than this share a slot by their prefix */
#define PACE_NAP_MS    100 /* how often a waiting worker looks at its stop flag */

struct host_slot {
    char host[PACE_HOST_MAX];
    int64_t next_ms; /* monotonic time the next request may go */
};

static const struct config *pace_cfg;
static struct host_slot slots[PACE_HOSTS_MAX];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER; /* guards slots */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mig_pace_init(const struct config *cfg)
{
    pace_cfg = cfg;
}

int64_t mig_pace_interval_ms(const char *host, enum mig_pace_kind kind)
{
    /* One configured pace for every request to another host, whatever its kind. This host's
     * own event budget needs nothing here: the job's import and activation go through
     * importRepo and activateAccount, which take their events from the host budget
     * (http/hostbudget.h) and wait for room rather than fail. Another host's budget is its
     * own business; the pace keeps us polite to it. */
    (void)host;
    (void)kind;
    int64_t rps = pace_cfg ? pace_cfg->migration_requests_per_second : 0;
    return rps > 0 ? 1000 / rps : 0;
}

bool mig_sleep_ms(int64_t ms, const atomic_bool *stop)
{
    while (ms > 0) {
        if (stop && atomic_load(stop)) {
            return false;
        }
        int64_t nap = ms < PACE_NAP_MS ? ms : PACE_NAP_MS;
        struct timespec ts = {(time_t)(nap / 1000), (long)(nap % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= nap;
    }
    return !(stop && atomic_load(stop));
}

bool mig_pace_wait(const char *host, enum mig_pace_kind kind, const atomic_bool *stop)
{
    int64_t interval = mig_pace_interval_ms(host, kind);
    if (interval <= 0) {
        return !(stop && atomic_load(stop));
    }
    int64_t now = now_ms(), at;
    pthread_mutex_lock(&slots_lock);
    struct host_slot *s = NULL, *oldest = &slots[0];
    for (size_t i = 0; i < PACE_HOSTS_MAX; i++) {
        if (strncmp(slots[i].host, host, PACE_HOST_MAX - 1) == 0) {
            s = &slots[i];
            break;
        }
        if (slots[i].next_ms < oldest->next_ms) {
            oldest = &slots[i];
        }
    }
    if (!s) {
        s = oldest;
        snprintf(s->host, sizeof s->host, "%s", host);
        s->next_ms = 0;
    }
    at = s->next_ms > now ? s->next_ms : now;
    s->next_ms = at + interval;
    pthread_mutex_unlock(&slots_lock);
    return mig_sleep_ms(at - now, stop);
}
