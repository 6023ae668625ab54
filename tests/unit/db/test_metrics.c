/* test_metrics.c - the metrics registry and its text exposition: counters, gauges,
 * histograms with cumulative buckets, label escaping, the series limit, collectors, and
 * concurrent updates losing nothing. */
#include "unit/test.h"

#include <pthread.h>
#include <string.h>

#include "db/metrics.h"

static char *scrape(void)
{
    static struct buf b;
    buf_clear(&b);
    buf_init(&b, 16 << 20);
    CHECK(metrics_write(&b) == ERR_OK);
    return (char *)b.ptr;
}

static void test_metrics_counter_and_gauge_lines(void)
{
    struct metrics_series *c = metrics_counter("t_requests_total", "Requests\nseen \\ here");
    metrics_add(c, 41);
    metrics_inc(c);
    struct metrics_series *g = metrics_gauge("t_depth", "Depth");
    metrics_set(g, 7);
    metrics_move(g, -10);
    char *text = scrape();
    CHECK(strstr(text, "# HELP t_requests_total Requests\\nseen \\\\ here\n"));
    CHECK(strstr(text, "# TYPE t_requests_total counter\nt_requests_total 42\n"));
    CHECK(strstr(text, "# TYPE t_depth gauge\nt_depth -3\n"));
    double v = 0;
    CHECK(metrics_value("t_requests_total", NULL, &v));
    CHECK_EQ((long long)v, 42);
    CHECK(!metrics_value("t_absent", NULL, &v));
}

static void test_metrics_same_name_is_one_family(void)
{
    struct metrics_series *a = metrics_counter("t_shared_total", "Shared");
    struct metrics_series *b = metrics_counter("t_shared_total", "Shared");
    CHECK(a == b);
}

static void test_metrics_labels_are_escaped(void)
{
    static const char *const labels[] = {"nsid", "status"};
    struct metrics_family *f =
        metrics_family("t_labelled_total", "Labelled", METRICS_COUNTER, labels, 2, NULL, 0);
    const char *v1[] = {"com.example.a", "200"};
    const char *v2[] = {"we\"ird\\\nname", "500"};
    metrics_inc(metrics_series(f, v1));
    metrics_inc(metrics_series(f, v1));
    metrics_add(metrics_series(f, v2), 3);
    CHECK(metrics_series(f, v1) == metrics_series(f, v1));
    char *text = scrape();
    CHECK(strstr(text, "t_labelled_total{nsid=\"com.example.a\",status=\"200\"} 2\n"));
    CHECK(strstr(text, "t_labelled_total{nsid=\"we\\\"ird\\\\\\nname\",status=\"500\"} 3\n"));
    double v = 0;
    CHECK(metrics_value("t_labelled_total", v1, &v));
    CHECK_EQ((long long)v, 2);
}

static void test_metrics_histogram_buckets_are_cumulative(void)
{
    static const double bounds[] = {0.1, 1, 10};
    static const char *const labels[] = {"op"};
    struct metrics_family *f =
        metrics_family("t_latency_seconds", "Latency", METRICS_HISTOGRAM, labels, 1, bounds, 3);
    const char *op[] = {"x"};
    struct metrics_series *s = metrics_series(f, op);
    metrics_observe(s, 0.05);
    metrics_observe(s, 0.1); /* on the bound: counts in it (le = less or equal) */
    metrics_observe(s, 5);
    metrics_observe(s, 50);
    metrics_observe(s, -1); /* counts as 0 */
    char *text = scrape();
    CHECK(strstr(text, "# TYPE t_latency_seconds histogram\n"));
    CHECK(strstr(text, "t_latency_seconds_bucket{op=\"x\",le=\"0.1\"} 3\n"));
    CHECK(strstr(text, "t_latency_seconds_bucket{op=\"x\",le=\"1\"} 3\n"));
    CHECK(strstr(text, "t_latency_seconds_bucket{op=\"x\",le=\"10\"} 4\n"));
    CHECK(strstr(text, "t_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 5\n"));
    CHECK(strstr(text, "t_latency_seconds_sum{op=\"x\"} 55.149999999999999\n") ||
          strstr(text, "t_latency_seconds_sum{op=\"x\"} 55.15\n"));
    CHECK(strstr(text, "t_latency_seconds_count{op=\"x\"} 5\n"));
}

static void test_metrics_series_past_the_limit_count_as_other(void)
{
    static const char *const labels[] = {"k"};
    struct metrics_family *f =
        metrics_family("t_many_total", "Many", METRICS_COUNTER, labels, 1, NULL, 0);
    for (int i = 0; i < METRICS_SERIES_MAX + 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "v%d", i);
        const char *v[] = {k};
        metrics_inc(metrics_series(f, v));
    }
    char *text = scrape();
    CHECK(strstr(text, "t_many_total{k=\"_other\"} 51\n"));
    CHECK(strstr(text, "t_many_total{k=\"v0\"} 1\n"));
    CHECK(!strstr(text, "t_many_total{k=\"v600\"}"));
}

static void collect(void *ctx, struct metrics_writer *w)
{
    static const char *const names[] = {"subscriber"};
    const char *a[] = {"1"}, *b[] = {"2"};
    metrics_sample(w, names, a, 1, 12);
    metrics_sample(w, names, b, 1, *(int *)ctx);
}

static void test_metrics_collector_samples_when_scraped(void)
{
    static int lag = 5;
    metrics_collector("t_lag_events", "Lag", METRICS_GAUGE, collect, &lag);
    lag = 9;
    char *text = scrape();
    CHECK(strstr(text, "# TYPE t_lag_events gauge\nt_lag_events{subscriber=\"1\"} 12\n"
                       "t_lag_events{subscriber=\"2\"} 9\n"));
}

static void *hammer(void *arg)
{
    struct metrics_series *s = arg;
    for (int i = 0; i < 100000; i++) {
        metrics_inc(s);
        metrics_observe(s, 0.001);
    }
    return NULL;
}

static void test_metrics_concurrent_updates_lose_nothing(void)
{
    struct metrics_series *s =
        metrics_series(metrics_family("t_concurrent", "Both", METRICS_HISTOGRAM, NULL, 0,
                                      metrics_latency_buckets, metrics_latency_buckets_len),
                       NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, hammer, s);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    char *text = scrape();
    /* metrics_inc and metrics_observe share the count of a series: 2 per loop */
    CHECK(strstr(text, "t_concurrent_count 800000\n"));
    CHECK(strstr(text, "t_concurrent_bucket{le=\"0.001\"} 400000\n"));
}

int main(void)
{
    RUN(test_metrics_counter_and_gauge_lines);
    RUN(test_metrics_same_name_is_one_family);
    RUN(test_metrics_labels_are_escaped);
    RUN(test_metrics_histogram_buckets_are_cumulative);
    RUN(test_metrics_series_past_the_limit_count_as_other);
    RUN(test_metrics_collector_samples_when_scraped);
    RUN(test_metrics_concurrent_updates_lose_nothing);
    return test_report();
}
