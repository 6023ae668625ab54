/* ratelimit_math.h - the arithmetic of the rate limits, apart from their storage: lease
 * sizes, sliding-window counts, the relays' per-host event budget, max-min fair shares,
 * token buckets, the gradient concurrency limit, and durations like "5m".
 * Pure: no I/O, no globals, no clock (callers pass times in ms); thread-safe. */
#ifndef PDS_HTTP_RATELIMIT_MATH_H
#define PDS_HTTP_RATELIMIT_MATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define RL_SECOND_MS ((int64_t)1000)
#define RL_MINUTE_MS (60 * RL_SECOND_MS)
#define RL_HOUR_MS   (60 * RL_MINUTE_MS)
#define RL_DAY_MS    (24 * RL_HOUR_MS)

/* Leases: a process takes points of a shared counter from PostgreSQL in chunks and spends
 * them locally, so most checks need no round trip while the sum of what every process
 * admits never passes the limit. A chunk is an eighth of what remains (between `points`
 * and RL_LEASE_MAX_FACTOR times it): near the limit each process takes little, so points
 * parked in one process do not starve another. */
#define RL_LEASE_SHARE      8
#define RL_LEASE_MAX_FACTOR 64

/* Points to ask for when `points` are needed now and `remaining` of the limit are left
 * (as last seen; the store grants at most what is really left). */
int64_t rl_lease_chunk(int64_t limit, int64_t remaining, int64_t points);

/* The relays' event budget for one upstream host (indigo cmd/relay relay/slurper.go
 * ComputeLimiterCounts), sliding windows of a second, an hour and a day. */
#define RL_RELAY_BASE_PER_SECOND    50
#define RL_RELAY_BASE_PER_HOUR      2500
#define RL_RELAY_BASE_PER_DAY       20000
#define RL_RELAY_TRUSTED_PER_SECOND 5000
#define RL_RELAY_TRUSTED_PER_HOUR   50000000
#define RL_RELAY_TRUSTED_PER_DAY    500000000
#define RL_RELAY_DEFAULT_ACCOUNTS   100 /* RELAY_DEFAULT_ACCOUNT_LIMIT: a new host's limit */

enum rl_span {
    RL_SPAN_SECOND,
    RL_SPAN_HOUR,
    RL_SPAN_DAY,
    RL_SPANS,
};

/* Window lengths of the spans, in ms. */
extern const int64_t rl_span_ms[RL_SPANS];

struct rl_host_budget {
    int64_t limit[RL_SPANS]; /* events per window, indexed by enum rl_span */
};

/* per second 50 + L/1000, per hour 2,500 + L, per day 20,000 + 10 L (integer division as
 * the relay does), or the fixed trusted-host figures. */
void rl_relay_budget(int64_t account_limit, bool trusted, struct rl_host_budget *out);
/* The same scaled by pct/100 (rounded down, at least 1): our own target under the relay's. */
void rl_budget_scale(const struct rl_host_budget *in, int pct, struct rl_host_budget *out);

/* Approximate sliding window (the relay's RussellLuo/slidingwindow): the previous fixed
 * window's count weighted by how much of it still overlaps, plus the current one's.
 * elapsed_ms is how far into the current window now is (0 <= elapsed_ms < window_ms). */
double rl_sliding_count(int64_t prev, int64_t cur, int64_t elapsed_ms, int64_t window_ms);

/* How fast the host may emit events now, events/s: the per-second limit, and for the hour
 * and day windows what remains spread over 1/RL_SPREAD of the window, never below the
 * window's own average rate (so a full window still frees events as they age out). */
#define RL_SPREAD 8
double rl_host_rate(const struct rl_host_budget *b, const double used[RL_SPANS]);

/* Max-min fair share: the level x such that sum(min(demand[i], x)) == capacity. Demands
 * below x are met in full, the rest get x each. INFINITY when the demands fit. */
double rl_maxmin_level(const double *demand, size_t n, double capacity);

/* Token bucket: `rate` tokens/s up to `burst`. */
struct rl_bucket {
    double tokens;
    double rate;
    double burst;
    int64_t at_ms; /* time of the last refill */
};

void rl_bucket_init(struct rl_bucket *b, double rate, double burst, int64_t now_ms);
/* Changes rate and burst, keeping the tokens earned so far (capped at the new burst). */
void rl_bucket_set(struct rl_bucket *b, double rate, double burst, int64_t now_ms);
/* Takes n tokens if there are; else *wait_ms gets the time until there will be. */
bool rl_bucket_take(struct rl_bucket *b, double n, int64_t now_ms, int64_t *wait_ms);
/* Puts n tokens back (a refused or failed write). */
void rl_bucket_refund(struct rl_bucket *b, double n);

/* Exponentially weighted moving average with time constant tau_ms: the new value after
 * `sample` observed dt_ms after the last update. */
double rl_ewma(double avg, double sample, int64_t dt_ms, int64_t tau_ms);

/* Gradient concurrency limit (after Netflix's concurrency-limits Gradient2): the limit
 * follows the ratio of the long-term latency to the recent one, plus a small queue
 * allowance, so rising latency shrinks admission at once and a quiet database lets it
 * grow back. */
struct rl_gradient {
    double limit;     /* admitted requests in flight */
    double min_limit; /* never below */
    double max_limit; /* never above */
    double long_us;   /* baseline latency (slow average); 0 until the first sample */
    double short_us;  /* recent latency (fast average) */
};

void rl_gradient_init(struct rl_gradient *g, double initial, double min_limit, double max_limit);
/* Feeds the mean latency of the last interval; in_flight is the highest number in flight
 * during it (the limit only grows when it was used). Returns the new limit. */
double rl_gradient_update(struct rl_gradient *g, double mean_us, double in_flight);

/* "500ms", "30s", "5m", "1h", "1d" (or a bare number of seconds) into *ms; ERR_INVALID. */
enum err rl_parse_duration(const char *s, int64_t *ms) MUST_CHECK;

#endif
