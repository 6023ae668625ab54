/* metrics.c - the metrics registry and its text exposition.
 *
 * A family keeps its series in an open-addressing table of atomic pointers, twice the
 * series limit in size, so a probe always ends at an empty slot. Readers probe without a
 * lock (a slot, once set, never changes); writers insert under the family's mutex after
 * probing again. Values are atomics updated with relaxed ordering: a scrape may see one
 * counter a moment older than another, which Prometheus tolerates by design. */
#include "db/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS (2 * METRICS_SERIES_MAX)
#define MICRO 1e6

const double metrics_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
const size_t metrics_latency_buckets_len = ARRAY_LEN(metrics_latency_buckets);

struct metrics_series {
    const struct metrics_family *family; /* for a histogram's bounds */
    char *values[METRICS_LABELS_MAX];
    _Atomic uint64_t count; /* counters; histograms: observations */
    _Atomic int64_t gauge;
    _Atomic uint64_t sum_micro;                    /* histograms */
    _Atomic uint64_t buckets[METRICS_BUCKETS_MAX]; /* histograms: per bucket, not cumulative */
};

struct metrics_family {
    const char *name, *help;
    enum metrics_kind kind;
    const char *labels[METRICS_LABELS_MAX];
    size_t n_labels;
    double bounds[METRICS_BUCKETS_MAX];
    size_t n_bounds;
    metrics_collect_fn *collect; /* collector families only */
    void *collect_ctx;
    struct metrics_family *next;
    pthread_mutex_t lock; /* guards inserts into slots and n_series */
    size_t n_series;
    _Atomic(struct metrics_series *) slots[SLOTS];
};

struct metrics_writer {
    struct buf *out;
    const char *name;
    enum err e;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the list */
static struct metrics_family *families, **families_tail = &families;

static struct metrics_family *find_family(const char *name)
{
    for (struct metrics_family *f = families; f; f = f->next) {
        if (strcmp(f->name, name) == 0) {
            return f;
        }
    }
    return NULL;
}

struct metrics_family *metrics_family(const char *name, const char *help, enum metrics_kind kind,
                                      const char *const *labels, size_t n_labels,
                                      const double *buckets, size_t n_buckets)
{
    if (n_labels > METRICS_LABELS_MAX || n_buckets > METRICS_BUCKETS_MAX) {
        abort(); /* a programming error: raise the limit */
    }
    pthread_mutex_lock(&registry_lock);
    struct metrics_family *f = find_family(name);
    if (f) {
        bool same = f->kind == kind && f->n_labels == n_labels && !f->collect;
        for (size_t i = 0; same && i < n_labels; i++) {
            same = strcmp(f->labels[i], labels[i]) == 0;
        }
        pthread_mutex_unlock(&registry_lock);
        if (!same) {
            abort(); /* one name, two meanings */
        }
        return f;
    }
    f = xcalloc(1, sizeof *f);
    f->name = name;
    f->help = help;
    f->kind = kind;
    for (size_t i = 0; i < n_labels; i++) {
        f->labels[i] = labels[i];
    }
    f->n_labels = n_labels;
    for (size_t i = 0; kind == METRICS_HISTOGRAM && i < n_buckets; i++) {
        f->bounds[i] = buckets[i];
    }
    f->n_bounds = kind == METRICS_HISTOGRAM ? n_buckets : 0;
    pthread_mutex_init(&f->lock, NULL);
    *families_tail = f;
    families_tail = &f->next;
    pthread_mutex_unlock(&registry_lock);
    return f;
}

/* FNV-1a over the values, each ended by a 0 byte so ("ab","c") differs from ("a","bc"). */
static uint64_t hash_values(const char *const *values, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] ? values[i] : "";
        for (size_t k = 0; v[k] && k < METRICS_LABEL_MAX; k++) {
            h = (h ^ (uint8_t)v[k]) * 1099511628211ull;
        }
        h = (h ^ 0) * 1099511628211ull;
    }
    return h;
}

static bool same_values(const struct metrics_series *s, const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = values[i] ? values[i] : "";
        if (strncmp(s->values[i], v, METRICS_LABEL_MAX) != 0) {
            return false;
        }
    }
    return true;
}

static bool all_other(const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!values[i] || strcmp(values[i], METRICS_OTHER) != 0) {
            return false;
        }
    }
    return true;
}

static struct metrics_series *probe(struct metrics_family *f, const char *const *values, uint64_t h,
                                    size_t *empty)
{
    for (size_t i = 0; i < SLOTS; i++) {
        size_t at = (size_t)((h + i) % SLOTS);
        struct metrics_series *s = atomic_load_explicit(&f->slots[at], memory_order_acquire);
        if (!s) {
            *empty = at;
            return NULL;
        }
        if (same_values(s, values, f->n_labels)) {
            return s;
        }
    }
    abort(); /* cannot happen: at most half the slots are ever used */
}

struct metrics_series *metrics_series(struct metrics_family *f, const char *const *values)
{
    static const char *const none[METRICS_LABELS_MAX] = {NULL};
    if (!values) {
        values = none;
    }
    uint64_t h = hash_values(values, f->n_labels);
    size_t empty = 0;
    struct metrics_series *s = probe(f, values, h, &empty);
    if (s) {
        return s;
    }
    pthread_mutex_lock(&f->lock);
    s = probe(f, values, h, &empty);
    /* the last slot is kept for the _other set, so it can always be made */
    if (!s && f->n_series >= METRICS_SERIES_MAX - 1 && !all_other(values, f->n_labels)) {
        pthread_mutex_unlock(&f->lock);
        const char *other[METRICS_LABELS_MAX];
        for (size_t i = 0; i < f->n_labels; i++) {
            other[i] = METRICS_OTHER;
        }
        return metrics_series(f, other);
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->family = f;
        for (size_t i = 0; i < f->n_labels; i++) {
            const char *v = values[i] ? values[i] : "";
            s->values[i] = xstrndup(v, strnlen(v, METRICS_LABEL_MAX));
        }
        f->n_series++;
        atomic_store_explicit(&f->slots[empty], s, memory_order_release);
    }
    pthread_mutex_unlock(&f->lock);
    return s;
}

struct metrics_series *metrics_counter(const char *name, const char *help)
{
    return metrics_series(metrics_family(name, help, METRICS_COUNTER, NULL, 0, NULL, 0), NULL);
}

struct metrics_series *metrics_gauge(const char *name, const char *help)
{
    return metrics_series(metrics_family(name, help, METRICS_GAUGE, NULL, 0, NULL, 0), NULL);
}

void metrics_add(struct metrics_series *s, uint64_t n)
{
    atomic_fetch_add_explicit(&s->count, n, memory_order_relaxed);
}

void metrics_inc(struct metrics_series *s)
{
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void metrics_set(struct metrics_series *s, int64_t v)
{
    atomic_store_explicit(&s->gauge, v, memory_order_relaxed);
}

void metrics_move(struct metrics_series *s, int64_t d)
{
    atomic_fetch_add_explicit(&s->gauge, d, memory_order_relaxed);
}

void metrics_observe(struct metrics_series *s, double v)
{
    if (!(v > 0)) {
        v = 0; /* also NaN */
    }
    const struct metrics_family *f = s->family;
    size_t i = 0;
    while (i < f->n_bounds && v > f->bounds[i]) {
        i++;
    }
    if (i < f->n_bounds) {
        atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    }
    double micro = v * MICRO;
    uint64_t add = micro >= 1.8e19 ? UINT64_MAX / 2 : (uint64_t)(micro + 0.5);
    atomic_fetch_add_explicit(&s->sum_micro, add, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void metrics_collector(const char *name, const char *help, enum metrics_kind kind,
                       metrics_collect_fn *fn, void *ctx)
{
    pthread_mutex_lock(&registry_lock);
    if (!find_family(name)) {
        struct metrics_family *f = xcalloc(1, sizeof *f);
        f->name = name;
        f->help = help;
        f->kind = kind == METRICS_HISTOGRAM ? METRICS_GAUGE : kind;
        f->collect = fn;
        f->collect_ctx = ctx;
        pthread_mutex_init(&f->lock, NULL);
        *families_tail = f;
        families_tail = &f->next;
    }
    pthread_mutex_unlock(&registry_lock);
}

bool metrics_value(const char *name, const char *const *values, double *out)
{
    pthread_mutex_lock(&registry_lock);
    struct metrics_family *f = find_family(name);
    pthread_mutex_unlock(&registry_lock);
    if (!f || f->collect || f->kind == METRICS_HISTOGRAM) {
        return false;
    }
    static const char *const none[METRICS_LABELS_MAX] = {NULL};
    size_t empty;
    struct metrics_series *s =
        probe(f, values ? values : none, hash_values(values ? values : none, f->n_labels), &empty);
    if (!s) {
        return false;
    }
    *out = f->kind == METRICS_COUNTER ? (double)atomic_load(&s->count)
                                      : (double)atomic_load(&s->gauge);
    return true;
}

/* ---- exposition ---- */

static const char *kind_name(enum metrics_kind k)
{
    return k == METRICS_COUNTER ? "counter" : k == METRICS_GAUGE ? "gauge" : "histogram";
}

/* spec(prometheus text format): label values escape \ " and newline; HELP escapes \ and
 * newline */
static enum err put_escaped(struct buf *out, const char *s, bool quotes)
{
    enum err e = ERR_OK;
    for (const char *p = s; *p && !e; p++) {
        if (*p == '\\') {
            e = buf_append_str(out, "\\\\");
        } else if (*p == '\n') {
            e = buf_append_str(out, "\\n");
        } else if (*p == '"' && quotes) {
            e = buf_append_str(out, "\\\"");
        } else {
            e = buf_append_byte(out, (uint8_t)*p);
        }
    }
    return e;
}

static enum err put_number(struct buf *out, double v)
{
    if (isnan(v)) {
        return buf_append_str(out, "NaN");
    }
    if (isinf(v)) {
        return buf_append_str(out, v > 0 ? "+Inf" : "-Inf");
    }
    if (v > -9e15 && v < 9e15 && v == (double)(long long)v) { /* whole: no exponent */
        return buf_appendf(out, "%lld", (long long)v);
    }
    return buf_appendf(out, "%.17g", v);
}

/* {a="x",b="y"[,extra="z"]}, or nothing without labels. */
static enum err put_labels(struct buf *out, const char *const *names, const char *const *values,
                           size_t n, const char *extra_name, const char *extra_value)
{
    if (n == 0 && !extra_name) {
        return ERR_OK;
    }
    enum err e = buf_append_byte(out, '{');
    for (size_t i = 0; i < n && !e; i++) {
        e = buf_appendf(out, "%s%s=\"", i ? "," : "", names[i]);
        if (!e) {
            e = put_escaped(out, values[i] ? values[i] : "", true);
        }
        if (!e) {
            e = buf_append_byte(out, '"');
        }
    }
    if (!e && extra_name) {
        e = buf_appendf(out, "%s%s=\"%s\"", n ? "," : "", extra_name, extra_value);
    }
    return e ? e : buf_append_byte(out, '}');
}

enum err metrics_write_header(struct buf *out, const char *name, const char *help,
                              enum metrics_kind kind)
{
    enum err e = buf_appendf(out, "# HELP %s ", name);
    if (!e) {
        e = put_escaped(out, help, false);
    }
    return e ? e : buf_appendf(out, "\n# TYPE %s %s\n", name, kind_name(kind));
}

enum err metrics_write_sample(struct buf *out, const char *name, const char *const *label_names,
                              const char *const *label_values, size_t n, double value)
{
    enum err e = buf_append_str(out, name);
    if (!e) {
        e = put_labels(out, label_names, label_values, n, NULL, NULL);
    }
    if (!e) {
        e = buf_append_byte(out, ' ');
    }
    if (!e) {
        e = put_number(out, value);
    }
    return e ? e : buf_append_byte(out, '\n');
}

static enum err write_histogram(struct buf *out, const struct metrics_family *f,
                                const struct metrics_series *s)
{
    const char *const *values = (const char *const *)s->values;
    uint64_t cumulative = 0;
    enum err e = ERR_OK;
    char le[32];
    for (size_t i = 0; i <= f->n_bounds && !e; i++) {
        if (i < f->n_bounds) {
            cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
            snprintf(le, sizeof le, "%g", f->bounds[i]);
        } else {
            /* +Inf is the count itself, so the two always agree even mid-update */
            cumulative = atomic_load_explicit(&s->count, memory_order_relaxed);
            snprintf(le, sizeof le, "+Inf");
        }
        e = buf_appendf(out, "%s_bucket", f->name);
        if (!e) {
            e = put_labels(out, f->labels, values, f->n_labels, "le", le);
        }
        if (!e) {
            e = buf_appendf(out, " %llu\n", (unsigned long long)cumulative);
        }
    }
    if (!e) {
        e = buf_appendf(out, "%s_sum", f->name);
    }
    if (!e) {
        e = put_labels(out, f->labels, values, f->n_labels, NULL, NULL);
    }
    if (!e) {
        e = buf_append_byte(out, ' ');
    }
    if (!e) {
        e = put_number(out, (double)atomic_load(&s->sum_micro) / MICRO);
    }
    if (!e) {
        e = buf_appendf(out, "\n%s_count", f->name);
    }
    if (!e) {
        e = put_labels(out, f->labels, values, f->n_labels, NULL, NULL);
    }
    return e ? e : buf_appendf(out, " %llu\n", (unsigned long long)cumulative);
}

static enum err write_family(struct buf *out, struct metrics_family *f)
{
    enum err e = metrics_write_header(out, f->name, f->help, f->kind);
    if (f->collect) {
        struct metrics_writer w = {out, f->name, e};
        if (!e) {
            f->collect(f->collect_ctx, &w);
        }
        return w.e;
    }
    for (size_t i = 0; i < SLOTS && !e; i++) {
        const struct metrics_series *s = atomic_load_explicit(&f->slots[i], memory_order_acquire);
        if (!s) {
            continue;
        }
        const char *const *values = (const char *const *)s->values;
        if (f->kind == METRICS_HISTOGRAM) {
            e = write_histogram(out, f, s);
        } else {
            double v = f->kind == METRICS_COUNTER ? (double)atomic_load(&s->count)
                                                  : (double)atomic_load(&s->gauge);
            e = metrics_write_sample(out, f->name, f->labels, values, f->n_labels, v);
        }
    }
    return e;
}

void metrics_sample(struct metrics_writer *w, const char *const *label_names,
                    const char *const *label_values, size_t n, double value)
{
    if (!w->e) {
        w->e = metrics_write_sample(w->out, w->name, label_names, label_values, n, value);
    }
}

enum err metrics_write(struct buf *out)
{
    /* collectors must not register families (they would wait for this lock) */
    pthread_mutex_lock(&registry_lock);
    enum err e = ERR_OK;
    for (int pass = 0; pass < 2 && !e; pass++) {
        for (struct metrics_family *f = families; f && !e; f = f->next) {
            if ((f->collect != NULL) == (pass == 1)) {
                e = write_family(out, f);
            }
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return e;
}

static struct metrics_family *outbound_calls(void)
{
    static const char *const labels[] = {"target", "result"};
    return metrics_family("pds_outbound_requests_total",
                          "Calls this server made to other services, by outcome", METRICS_COUNTER,
                          labels, 2, NULL, 0);
}

static struct metrics_family *outbound_duration(void)
{
    static const char *const labels[] = {"target"};
    return metrics_family("pds_outbound_request_duration_seconds",
                          "Time calls to other services took", METRICS_HISTOGRAM, labels, 1,
                          metrics_latency_buckets, metrics_latency_buckets_len);
}

void metrics_register_defaults(void)
{
    static const char *const limit[] = {"limit"};
    outbound_calls();
    outbound_duration();
    metrics_family(METRICS_RATE_LIMIT_REFUSED, "Requests refused by a rate limit, by limit",
                   METRICS_COUNTER, limit, 1, NULL, 0);
}

void metrics_outbound(const char *target, const char *result, double seconds)
{
    struct metrics_family *calls = outbound_calls();
    struct metrics_family *dur = outbound_duration();
    const char *values[] = {target, result};
    metrics_inc(metrics_series(calls, values));
    const char *t[] = {target};
    metrics_observe(metrics_series(dur, t), seconds);
}
