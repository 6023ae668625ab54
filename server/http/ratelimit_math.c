/* ratelimit_math.c - the pure arithmetic of rate limits, budgets, shares and admission. */
#include "http/ratelimit_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const int64_t rl_span_ms[RL_SPANS] = {
    [RL_SPAN_SECOND] = RL_SECOND_MS,
    [RL_SPAN_HOUR] = RL_HOUR_MS,
    [RL_SPAN_DAY] = RL_DAY_MS,
};

int64_t rl_lease_chunk(int64_t limit, int64_t remaining, int64_t points)
{
    if (points < 1) {
        points = 1;
    }
    int64_t chunk = remaining / RL_LEASE_SHARE;
    if (chunk > points * RL_LEASE_MAX_FACTOR) {
        chunk = points * RL_LEASE_MAX_FACTOR;
    }
    if (chunk > limit) {
        chunk = limit;
    }
    return chunk < points ? points : chunk;
}

void rl_relay_budget(int64_t account_limit, bool trusted, struct rl_host_budget *out)
{
    if (trusted) {
        out->limit[RL_SPAN_SECOND] = RL_RELAY_TRUSTED_PER_SECOND;
        out->limit[RL_SPAN_HOUR] = RL_RELAY_TRUSTED_PER_HOUR;
        out->limit[RL_SPAN_DAY] = RL_RELAY_TRUSTED_PER_DAY;
        return;
    }
    if (account_limit < 0) {
        account_limit = 0;
    }
    out->limit[RL_SPAN_SECOND] = RL_RELAY_BASE_PER_SECOND + account_limit / 1000;
    out->limit[RL_SPAN_HOUR] = RL_RELAY_BASE_PER_HOUR + account_limit;
    out->limit[RL_SPAN_DAY] = RL_RELAY_BASE_PER_DAY + account_limit * 10;
}

void rl_budget_scale(const struct rl_host_budget *in, int pct, struct rl_host_budget *out)
{
    for (int s = 0; s < RL_SPANS; s++) {
        int64_t v = in->limit[s] / 100 * pct + in->limit[s] % 100 * pct / 100;
        out->limit[s] = v < 1 ? 1 : v;
    }
}

double rl_sliding_count(int64_t prev, int64_t cur, int64_t elapsed_ms, int64_t window_ms)
{
    if (window_ms <= 0) {
        return (double)cur;
    }
    if (elapsed_ms < 0) {
        elapsed_ms = 0;
    }
    if (elapsed_ms > window_ms) {
        elapsed_ms = window_ms;
    }
    double overlap = 1.0 - (double)elapsed_ms / (double)window_ms;
    return (double)prev * overlap + (double)cur;
}

double rl_host_rate(const struct rl_host_budget *b, const double used[RL_SPANS])
{
    double rate = (double)b->limit[RL_SPAN_SECOND];
    for (int s = RL_SPAN_HOUR; s < RL_SPANS; s++) {
        double window_s = (double)rl_span_ms[s] / 1000.0;
        double average = (double)b->limit[s] / window_s;
        double left = (double)b->limit[s] - used[s];
        double spread = left > 0 ? left * RL_SPREAD / window_s : 0;
        double r = spread > average ? spread : average;
        if (r < rate) {
            rate = r;
        }
    }
    return rate;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double rl_maxmin_level(const double *demand, size_t n, double capacity)
{
    if (capacity < 0) {
        capacity = 0;
    }
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        total += demand[i] > 0 ? demand[i] : 0;
    }
    if (total <= capacity) {
        return INFINITY;
    }
    double *d = malloc(n * sizeof *d);
    if (!d) {
        abort(); /* OOM aborts, as xmalloc does */
    }
    for (size_t i = 0; i < n; i++) {
        d[i] = demand[i] > 0 ? demand[i] : 0;
    }
    qsort(d, n, sizeof *d, cmp_double);
    /* fill from the smallest: each demand met in full while the rest could still get at
     * least as much; the first one that cannot sets the level for itself and all above */
    double left = capacity;
    double level = 0;
    for (size_t i = 0; i < n; i++) {
        double share = left / (double)(n - i);
        if (d[i] >= share) {
            level = share;
            break;
        }
        left -= d[i];
    }
    free(d);
    return level;
}

void rl_bucket_init(struct rl_bucket *b, double rate, double burst, int64_t now_ms)
{
    b->rate = rate;
    b->burst = burst;
    b->tokens = burst;
    b->at_ms = now_ms;
}

static void refill(struct rl_bucket *b, int64_t now_ms)
{
    if (now_ms > b->at_ms) {
        b->tokens += b->rate * (double)(now_ms - b->at_ms) / 1000.0;
        if (b->tokens > b->burst) {
            b->tokens = b->burst;
        }
        b->at_ms = now_ms;
    }
}

void rl_bucket_set(struct rl_bucket *b, double rate, double burst, int64_t now_ms)
{
    refill(b, now_ms);
    b->rate = rate;
    b->burst = burst;
    if (b->tokens > burst) {
        b->tokens = burst;
    }
}

bool rl_bucket_take(struct rl_bucket *b, double n, int64_t now_ms, int64_t *wait_ms)
{
    refill(b, now_ms);
    if (b->tokens >= n) {
        b->tokens -= n;
        *wait_ms = 0;
        return true;
    }
    double missing = n - b->tokens;
    *wait_ms = b->rate > 0 ? (int64_t)ceil(missing / b->rate * 1000.0) : RL_DAY_MS;
    return false;
}

void rl_bucket_refund(struct rl_bucket *b, double n)
{
    b->tokens += n;
    if (b->tokens > b->burst) {
        b->tokens = b->burst;
    }
}

double rl_ewma(double avg, double sample, int64_t dt_ms, int64_t tau_ms)
{
    if (tau_ms <= 0 || dt_ms < 0) {
        return sample;
    }
    double keep = exp(-(double)dt_ms / (double)tau_ms);
    return avg * keep + sample * (1.0 - keep);
}

/* Gradient2's constants: latency may grow by this factor before admission shrinks (PostgreSQL
 * with fsync is noisy; 2 keeps ordinary jitter from costing throughput); the smoothing of
 * limit changes; the weights of the two latency averages per update (one update per
 * interval, so the long one spans about 100 intervals). */
#define GRADIENT_TOLERANCE        2.0
#define GRADIENT_SMOOTHING        0.2
#define GRADIENT_SHRINK_SMOOTHING 0.5
#define GRADIENT_SHORT_WEIGHT     0.5
#define GRADIENT_LONG_WEIGHT      0.01

void rl_gradient_init(struct rl_gradient *g, double initial, double min_limit, double max_limit)
{
    memset(g, 0, sizeof *g);
    g->min_limit = min_limit;
    g->max_limit = max_limit;
    g->limit = initial < min_limit ? min_limit : initial > max_limit ? max_limit : initial;
}

double rl_gradient_update(struct rl_gradient *g, double mean_us, double in_flight)
{
    if (mean_us <= 0) {
        return g->limit;
    }
    if (g->long_us <= 0) {
        g->long_us = g->short_us = mean_us;
    } else {
        g->short_us += (mean_us - g->short_us) * GRADIENT_SHORT_WEIGHT;
        g->long_us += (mean_us - g->long_us) * GRADIENT_LONG_WEIGHT;
    }
    /* after a spell of load the baseline has crept up: let it fall back with the latency */
    if (g->long_us > 2 * g->short_us) {
        g->long_us *= 0.95;
    }
    double gradient = GRADIENT_TOLERANCE * g->long_us / g->short_us;
    gradient = gradient < 0.5 ? 0.5 : gradient > 1.0 ? 1.0 : gradient;
    double queue = sqrt(g->limit);
    double target = g->limit * gradient + queue;
    if (target > g->limit && in_flight < g->limit / 2) {
        return g->limit; /* an idle limit proves nothing: do not grow it */
    }
    /* shrink fast, grow slowly: an overloaded database needs relief within a second */
    double smoothing = target < g->limit ? GRADIENT_SHRINK_SMOOTHING : GRADIENT_SMOOTHING;
    double limit = g->limit * (1 - smoothing) + target * smoothing;
    g->limit = limit < g->min_limit ? g->min_limit : limit > g->max_limit ? g->max_limit : limit;
    return g->limit;
}

enum err rl_parse_duration(const char *s, int64_t *ms)
{
    if (!s || *s < '0' || *s > '9' || strlen(s) > 24) {
        return ERR_INVALID;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (v <= 0) {
        return ERR_INVALID;
    }
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"", RL_SECOND_MS},    {"ms", 1},         {"s", RL_SECOND_MS}, {"m", RL_MINUTE_MS},
                 {"min", RL_MINUTE_MS}, {"h", RL_HOUR_MS}, {"d", RL_DAY_MS}};
    for (size_t i = 0; i < ARRAY_LEN(units); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > INT64_MAX / units[i].ms) {
                return ERR_INVALID;
            }
            *ms = (int64_t)v * units[i].ms;
            return ERR_OK;
        }
    }
    return ERR_INVALID;
}
