/* test_ratelimit_math.c - the arithmetic of the limits: the relays' budget formula against
 * the table in reference-pds-facts.md §1.2, budget growth with the account limit, sliding
 * windows, max-min fair shares, token buckets, lease sizes, the gradient limit, and
 * durations with a bad-input table. */
#include "http/ratelimit_math.h"

#include <math.h>

#include "unit/test.h"

static void test_relay_budget_is_the_relays_formula(void)
{
    /* account limit -> per second, per hour, per day (facts §1.2's table) */
    static const int64_t rows[][4] = {
        {100, 50, 2600, 21000},
        {1000, 51, 3500, 30000},
        {10000, 60, 12500, 120000},
        {100000, 150, 102500, 1020000},
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
        struct rl_host_budget b;
        rl_relay_budget(rows[i][0], false, &b);
        CHECK_EQ(b.limit[RL_SPAN_SECOND], rows[i][1]);
        CHECK_EQ(b.limit[RL_SPAN_HOUR], rows[i][2]);
        CHECK_EQ(b.limit[RL_SPAN_DAY], rows[i][3]);
    }
    struct rl_host_budget t;
    rl_relay_budget(100, true, &t);
    CHECK_EQ(t.limit[RL_SPAN_SECOND], 5000);
    CHECK_EQ(t.limit[RL_SPAN_HOUR], 50000000);
    CHECK_EQ(t.limit[RL_SPAN_DAY], 500000000);
}

static void test_relay_budget_grows_with_accounts(void)
{
    struct rl_host_budget prev;
    rl_relay_budget(100, false, &prev);
    for (int64_t n = 137; n <= 5000; n += 37) {
        struct rl_host_budget b;
        rl_relay_budget(n, false, &b);
        CHECK_EQ(b.limit[RL_SPAN_HOUR] - prev.limit[RL_SPAN_HOUR], 37);
        CHECK_EQ(b.limit[RL_SPAN_DAY] - prev.limit[RL_SPAN_DAY], 370);
        CHECK_EQ(b.limit[RL_SPAN_SECOND], 50 + n / 1000);
        prev = b;
    }
    struct rl_host_budget s;
    rl_relay_budget(10000, false, &prev);
    rl_budget_scale(&prev, 90, &s);
    CHECK_EQ(s.limit[RL_SPAN_SECOND], 54);
    CHECK_EQ(s.limit[RL_SPAN_HOUR], 11250);
    CHECK_EQ(s.limit[RL_SPAN_DAY], 108000);
    rl_budget_scale(&prev, 1, &s);
    CHECK_EQ(s.limit[RL_SPAN_SECOND], 1); /* never zero */
}

static void test_sliding_count_weights_the_previous_window(void)
{
    CHECK(fabs(rl_sliding_count(100, 10, 0, 1000) - 110) < 1e-9);
    CHECK(fabs(rl_sliding_count(100, 10, 250, 1000) - 85) < 1e-9);
    CHECK(fabs(rl_sliding_count(100, 10, 1000, 1000) - 10) < 1e-9);
    CHECK(fabs(rl_sliding_count(100, 10, 5000, 1000) - 10) < 1e-9); /* clamped */
}

static void test_host_rate_spreads_what_is_left(void)
{
    struct rl_host_budget b = {{45, 2340, 18900}};
    double empty[RL_SPANS] = {0, 0, 0};
    /* an empty day: its 18,900 spread over a day/8 = 1.75/s, tighter than the hour's */
    CHECK(fabs(rl_host_rate(&b, empty) - 18900.0 * 8 / 86400) < 1e-9);
    double full[RL_SPANS] = {0, 0, 18900};
    /* a full day still frees its average rate as events age out */
    CHECK(fabs(rl_host_rate(&b, full) - 18900.0 / 86400) < 1e-9);
    struct rl_host_budget big = {{5000, 50000000, 500000000}};
    CHECK(fabs(rl_host_rate(&big, empty) - 5000) < 1e-9); /* the second window binds */
}

static void test_maxmin_meets_small_demands_in_full(void)
{
    double fits[] = {1, 2, 3};
    CHECK(isinf(rl_maxmin_level(fits, 3, 10)));
    /* one greedy account beside ten light ones: the light ones get theirs, it the rest */
    double d[11] = {1000, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    double level = rl_maxmin_level(d, 11, 50);
    CHECK(fabs(level - 40) < 1e-9);
    double two[] = {30, 30, 2};
    CHECK(fabs(rl_maxmin_level(two, 3, 20) - 9) < 1e-9);
    double equal[] = {10, 10, 10, 10};
    CHECK(fabs(rl_maxmin_level(equal, 4, 20) - 5) < 1e-9);
    double none[] = {5};
    CHECK(fabs(rl_maxmin_level(none, 1, 0) - 0) < 1e-9);
    /* the level hands out the capacity exactly */
    double mix[] = {0.5, 7, 2, 12, 0.1, 3};
    double x = rl_maxmin_level(mix, 6, 10);
    double sum = 0;
    for (size_t i = 0; i < ARRAY_LEN(mix); i++) {
        sum += mix[i] < x ? mix[i] : x;
    }
    CHECK(fabs(sum - 10) < 1e-9);
}

static void test_bucket_refills_at_its_rate(void)
{
    struct rl_bucket b;
    rl_bucket_init(&b, 2, 4, 0);
    int64_t wait;
    for (int i = 0; i < 4; i++) {
        CHECK(rl_bucket_take(&b, 1, 0, &wait));
    }
    CHECK(!rl_bucket_take(&b, 1, 0, &wait));
    CHECK_EQ(wait, 500);
    CHECK(rl_bucket_take(&b, 1, 500, &wait));
    CHECK(!rl_bucket_take(&b, 1, 500, &wait));
    rl_bucket_refund(&b, 1);
    CHECK(rl_bucket_take(&b, 1, 500, &wait));
    CHECK(rl_bucket_take(&b, 3, 10000, &wait)); /* capped at the burst */
    CHECK(!rl_bucket_take(&b, 2, 10000, &wait));
    rl_bucket_set(&b, 0, 4, 10000);
    CHECK(!rl_bucket_take(&b, 2, 20000, &wait));
    CHECK(wait >= RL_HOUR_MS); /* no rate: a long wait, never a division by zero */
}

static void test_lease_chunk_shrinks_near_the_limit(void)
{
    CHECK_EQ(rl_lease_chunk(3000, 3000, 1), 64); /* capped at 64 times the points */
    CHECK_EQ(rl_lease_chunk(300, 300, 1), 37);   /* an eighth of what is left */
    CHECK_EQ(rl_lease_chunk(30, 30, 1), 3);
    CHECK_EQ(rl_lease_chunk(30, 4, 1), 1); /* never below what is needed now */
    CHECK_EQ(rl_lease_chunk(5000, 5000, 3), 192);
    CHECK_EQ(rl_lease_chunk(5, 5, 3), 3);
    CHECK_EQ(rl_lease_chunk(2, 2, 0), 1);
}

static void test_gradient_shrinks_when_latency_rises(void)
{
    struct rl_gradient g;
    rl_gradient_init(&g, 16, 2, 16);
    for (int i = 0; i < 50; i++) {
        rl_gradient_update(&g, 1000, 16); /* 1 ms, fully used */
    }
    CHECK(g.limit > 15);
    for (int i = 0; i < 10; i++) {
        rl_gradient_update(&g, 20000, 16); /* 20 ms: the database is struggling */
    }
    CHECK(g.limit < 7); /* within ten intervals (a second) */
    for (int i = 0; i < 20; i++) {
        rl_gradient_update(&g, 20000, 16);
    }
    CHECK(g.limit < 5);
    CHECK(g.limit >= 2);
    for (int i = 0; i < 200; i++) {
        rl_gradient_update(&g, 1000, 16);
    }
    CHECK(g.limit > 15); /* and recovers */
    double before = g.limit;
    rl_gradient_init(&g, 4, 2, 16);
    for (int i = 0; i < 50; i++) {
        rl_gradient_update(&g, 1000, 1); /* idle: no reason to grow */
    }
    CHECK(fabs(g.limit - 4) < 1e-9);
    (void)before;
}

static void test_durations_parse_with_units(void)
{
    static const struct {
        const char *text;
        int64_t ms;
    } good[] = {{"500ms", 500},  {"30s", 30000},   {"5m", 300000}, {"5min", 300000},
                {"1h", 3600000}, {"1d", 86400000}, {"90", 90000}};
    for (size_t i = 0; i < ARRAY_LEN(good); i++) {
        int64_t ms = 0;
        CHECK_EQ(rl_parse_duration(good[i].text, &ms), ERR_OK);
        CHECK_EQ(ms, good[i].ms);
    }
    static const char *const bad[] = {"",    "0s",   "-5m", "5x", "m",
                                      "5 m", "1.5h", "5mm", NULL, "99999999999999999999d"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        int64_t ms;
        CHECK_EQ(rl_parse_duration(bad[i], &ms), ERR_INVALID);
    }
}

static void test_ewma_moves_toward_samples(void)
{
    double a = rl_ewma(0, 10, 1000, 1000);
    CHECK(fabs(a - 10 * (1 - exp(-1))) < 1e-9);
    CHECK(fabs(rl_ewma(5, 10, 0, 1000) - 5) < 1e-9);
    CHECK(fabs(rl_ewma(5, 10, 1000, 0) - 10) < 1e-9);
}

int main(void)
{
    RUN(test_relay_budget_is_the_relays_formula);
    RUN(test_relay_budget_grows_with_accounts);
    RUN(test_sliding_count_weights_the_previous_window);
    RUN(test_host_rate_spreads_what_is_left);
    RUN(test_maxmin_meets_small_demands_in_full);
    RUN(test_bucket_refills_at_its_rate);
    RUN(test_lease_chunk_shrinks_near_the_limit);
    RUN(test_gradient_shrinks_when_latency_rises);
    RUN(test_durations_parse_with_units);
    RUN(test_ewma_moves_toward_samples);
    return test_report();
}
