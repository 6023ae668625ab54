/* metrics.h - the process's Prometheus metrics: named counters, gauges and histograms with
 * optional labels, which any module registers and updates, written out in the text
 * exposition format (version 0.0.4) for GET /metrics. It sits beside log.h, the lowest I/O
 * layer, so that db (query latency), identity and mail (outbound calls), http (requests)
 * and api (firehose, rate limits) can all count into it.
 *
 * Thread-safe. Updating a series is one relaxed atomic add, with no lock and no allocation:
 * cheap enough for every request and every query. Finding a labelled series is a lock-free
 * hash probe; only the first use of a new label set takes the family's lock. Families and
 * series live until the process exits (there are few: the label values are bounded, see
 * METRICS_SERIES_MAX). */
#ifndef PDS_DB_METRICS_H
#define PDS_DB_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

#define METRICS_LABELS_MAX  4   /* label names per family */
#define METRICS_BUCKETS_MAX 16  /* histogram upper bounds per family (+Inf is implicit) */
#define METRICS_SERIES_MAX  512 /* label sets per family; later ones count under "_other" */
#define METRICS_LABEL_MAX   96  /* bytes of one label value kept; longer ones are cut */
#define METRICS_OTHER       "_other"

/* Names other modules look up or provide (the rate-limit module registers these; the
 * console shows the budget as "not available" while they are absent). */
#define METRICS_WRITE_BUDGET_USED  "pds_host_write_budget_used"    /* gauge: points spent */
#define METRICS_WRITE_BUDGET_LIMIT "pds_host_write_budget_limit"   /* gauge: points allowed */
#define METRICS_RATE_LIMIT_REFUSED "pds_rate_limit_refusals_total" /* counter{limit} */

enum metrics_kind {
    METRICS_COUNTER,   /* only goes up */
    METRICS_GAUGE,     /* set or moved either way (integers) */
    METRICS_HISTOGRAM, /* observations of a non-negative value in buckets */
};

struct metrics_family;
struct metrics_series;

/* Latency buckets in seconds, 1 ms to 10 s, for request, query and outbound histograms. */
extern const double metrics_latency_buckets[];
extern const size_t metrics_latency_buckets_len;

/* Registers a family, or returns the one already registered under name (so two modules, or
 * two calls, share it). name, help and labels must be string literals or otherwise live as
 * long as the process (kept by reference); name follows Prometheus's [a-zA-Z_:][a-zA-Z0-9_:]*.
 * buckets: ascending upper bounds for a histogram (copied), NULL otherwise. Registering an
 * existing name with another kind or other labels is a programming error: it aborts. */
struct metrics_family *metrics_family(const char *name, const char *help, enum metrics_kind kind,
                                      const char *const *labels, size_t n_labels,
                                      const double *buckets, size_t n_buckets);

/* The series of f for the label values (one per label name; NULL counts as ""), made on
 * first use. Past METRICS_SERIES_MAX distinct sets every value becomes METRICS_OTHER, so a
 * label fed from requests cannot grow memory without bound. Never NULL. */
struct metrics_series *metrics_series(struct metrics_family *f, const char *const *values);

/* A family without labels and its one series, in one call. */
struct metrics_series *metrics_counter(const char *name, const char *help);
struct metrics_series *metrics_gauge(const char *name, const char *help);

void metrics_add(struct metrics_series *s, uint64_t n); /* counters */
void metrics_inc(struct metrics_series *s);             /* counters: add 1 */
void metrics_set(struct metrics_series *s, int64_t v);  /* gauges */
void metrics_move(struct metrics_series *s, int64_t d); /* gauges: add d (may be negative) */
/* Histograms: one observation of v (>= 0; negative counts as 0). The sum is kept in
 * millionths of the unit, which is exact enough for seconds and bytes. */
void metrics_observe(struct metrics_series *s, double v);

/* Families whose values are read when scraped (process stats, queue depths): fn appends
 * one sample per call of metrics_sample. A collector family is written after the others,
 * in registration order. Registering the same name twice keeps the first. fn runs under
 * the registry's lock: it must not register families. */
struct metrics_writer;
typedef void metrics_collect_fn(void *ctx, struct metrics_writer *w);
void metrics_collector(const char *name, const char *help, enum metrics_kind kind,
                       metrics_collect_fn *fn, void *ctx);
/* One sample of the family being collected: label pairs (n may be 0) and a value. */
void metrics_sample(struct metrics_writer *w, const char *const *label_names,
                    const char *const *label_values, size_t n, double value);

/* The value of a counter or gauge series that exists (label values as for metrics_series,
 * NULL with a family without labels); false when the family or series is not registered.
 * For the console, which shows figures other modules may or may not provide. */
bool metrics_value(const char *name, const char *const *values, double *out);

/* One call to another service (target: "plc", "appview", "moderation", "smtp", "relay", "s3"
 * ...; result: "ok", "refused" (it answered with an error), "error" (unreachable, timed
 * out)) that took seconds: pds_outbound_requests_total{target,result} and
 * pds_outbound_request_duration_seconds{target}. */
void metrics_outbound(const char *target, const char *result, double seconds);

/* Registers the families every scrape should show even before their first event (outbound
 * calls, METRICS_RATE_LIMIT_REFUSED{limit}), so dashboards and alerts find them. `pds serve`
 * calls it at start-up. */
void metrics_register_defaults(void);

/* Appends every family in the text exposition format: # HELP and # TYPE lines, then one
 * line per series (histograms: _bucket{le=...}, _sum, _count). ERR_TOO_LARGE past out's
 * maximum. */
enum err metrics_write(struct buf *out) MUST_CHECK;

/* Appends one family written by the caller (values it computed, e.g. from the database):
 * its HELP/TYPE header, then samples with metrics_write_sample. */
enum err metrics_write_header(struct buf *out, const char *name, const char *help,
                              enum metrics_kind kind) MUST_CHECK;
enum err metrics_write_sample(struct buf *out, const char *name, const char *const *label_names,
                              const char *const *label_values, size_t n, double value) MUST_CHECK;

#endif
