/* test_tid.c - TID format/parse known answers, field extraction, and the generator's strict
 * monotonicity (clock going backwards, a foreign previous rev, two threads at once). */
#include "unit/test.h"

#include <pthread.h>

#include "core/syntax.h"
#include "core/tid.h"

static void test_tid_format_known_values(void)
{
    char s[TID_STR_LEN + 1];
    tid_format(0, s);
    CHECK_STR(s, "2222222222222");
    tid_format(1, s);
    CHECK_STR(s, "2222222222223");
    tid_format(31, s);
    CHECK_STR(s, "222222222222z");
    tid_format(32, s);
    CHECK_STR(s, "2222222222232");
    tid_format(UINT64_MAX >> 1, s); /* largest value with the top bit clear */
    CHECK_STR(s, "bzzzzzzzzzzzz");
    tid_format(UINT64_MAX, s);
    CHECK_STR(s, "jzzzzzzzzzzzz");
}

static void test_tid_parse_round_trips(void)
{
    const uint64_t vals[] = {
        0, 1, 1023, 1024, UINT64_C(0x0123456789abcdef), UINT64_MAX >> 1, UINT64_MAX};
    for (size_t i = 0; i < ARRAY_LEN(vals); i++) {
        char s[TID_STR_LEN + 1];
        uint64_t back = 0;
        tid_format(vals[i], s);
        CHECK(syntax_tid_valid(bytes_str(s)));
        CHECK_EQ(tid_parse(bytes_str(s), &back), ERR_OK);
        CHECK(back == vals[i]);
    }
    uint64_t v = 7;
    CHECK_EQ(tid_parse(bytes_str("3jzfcijpj2z2"), &v), ERR_INVALID);
    CHECK_EQ(tid_parse(bytes_str("3JZFCIJPJ2Z2A"), &v), ERR_INVALID);
    CHECK_EQ(tid_parse(bytes_str("k222222222222"), &v), ERR_INVALID);
    CHECK_EQ(tid_parse(bytes_of("3jzfcijpj2z2\0", 13), &v), ERR_INVALID);
    CHECK_EQ(v, 7); /* untouched on failure */
}

static void test_tid_string_order_is_numeric_order(void)
{
    uint64_t a = tid_make(1700000000000000ull, 5), b = tid_make(1700000000000001ull, 0);
    char sa[TID_STR_LEN + 1], sb[TID_STR_LEN + 1];
    tid_format(a, sa);
    tid_format(b, sb);
    CHECK(a < b);
    CHECK(strcmp(sa, sb) < 0);
}

static void test_tid_make_and_fields(void)
{
    uint64_t us = 1700000000123456ull;
    uint64_t t = tid_make(us, 0x3ff);
    CHECK(tid_timestamp_us(t) == us);
    CHECK_EQ(tid_clock_id(t), 0x3ff);
    CHECK((t >> 63) == 0);
    CHECK_EQ(tid_clock_id(tid_make(us, 0x400 | 7)), 7); /* clock id masked to 10 bits */
    /* a known rev: 3jzfcijpj2z2a */
    uint64_t v;
    CHECK_EQ(tid_parse(bytes_str("3jzfcijpj2z2a"), &v), ERR_OK);
    char s[TID_STR_LEN + 1];
    tid_format(tid_make(tid_timestamp_us(v), tid_clock_id(v)), s);
    CHECK_STR(s, "3jzfcijpj2z2a");
    uint64_t now = tid_now_us();
    CHECK(now > 1600000000000000ull && now < 4000000000000000ull);
}

static void test_tid_gen_increases_when_clock_goes_back(void)
{
    struct tid_gen g;
    tid_gen_init(&g, 42);
    uint64_t t1 = tid_gen_next(&g, 1000000);
    CHECK(t1 == tid_make(1000000, 42));
    uint64_t t2 = tid_gen_next(&g, 1000000); /* same microsecond */
    uint64_t t3 = tid_gen_next(&g, 500000);  /* clock stepped back */
    uint64_t t4 = tid_gen_next(&g, 2000000);
    CHECK(t1 < t2 && t2 < t3 && t3 < t4);
    CHECK_EQ(tid_clock_id(t2), 42);
    CHECK_EQ(tid_clock_id(t3), 42);
    CHECK(tid_timestamp_us(t2) == 1000001);
    CHECK(t4 == tid_make(2000000, 42));
}

static void test_tid_gen_next_after_beats_prev(void)
{
    struct tid_gen g;
    tid_gen_init(&g, 1);
    /* a rev from another server whose clock ran ahead, with a larger clock id */
    uint64_t prev = tid_make(5000000, 900);
    uint64_t t = tid_gen_next_after(&g, 1000000, prev);
    CHECK(t > prev);
    CHECK(tid_timestamp_us(t) == 5000001);
    CHECK(tid_gen_next(&g, 1000000) > t); /* the generator remembers */
    /* prev with the same timestamp and a smaller clock id: same microsecond suffices */
    struct tid_gen h;
    tid_gen_init(&h, 500);
    uint64_t p2 = tid_make(7000000, 3);
    uint64_t t2 = tid_gen_next_after(&h, 10, p2);
    CHECK(t2 > p2 && t2 == tid_make(7000000, 500));
    /* an older prev changes nothing */
    CHECK(tid_gen_next_after(&h, 9000000, tid_make(1, 1)) == tid_make(9000000, 500));
}

#define THREAD_TIDS 20000

struct worker {
    struct tid_gen *g;
    uint64_t out[THREAD_TIDS];
};

static void *worker_run(void *arg)
{
    struct worker *w = arg;
    for (size_t i = 0; i < THREAD_TIDS; i++) {
        /* a frozen clock forces every call through the bump path */
        w->out[i] = tid_gen_next(w->g, 1234567);
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_tid_gen_two_threads_never_repeat(void)
{
    static struct worker w[2];
    static uint64_t all[2 * THREAD_TIDS];
    struct tid_gen g;
    tid_gen_init(&g, 9);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        w[i].g = &g;
        CHECK_EQ(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    int ordered = 1;
    for (int i = 0; i < 2; i++) {
        for (size_t k = 1; k < THREAD_TIDS; k++) {
            ordered &= w[i].out[k - 1] < w[i].out[k]; /* increasing within each thread */
        }
        memcpy(all + (size_t)i * THREAD_TIDS, w[i].out, sizeof(w[i].out));
    }
    CHECK(ordered);
    qsort(all, ARRAY_LEN(all), sizeof(all[0]), cmp_u64);
    int unique = 1;
    for (size_t k = 1; k < ARRAY_LEN(all); k++) {
        unique &= all[k - 1] != all[k];
    }
    CHECK(unique);
    /* every value was handed out exactly once: they fill the range without gaps */
    CHECK(tid_timestamp_us(all[ARRAY_LEN(all) - 1]) - tid_timestamp_us(all[0]) ==
          ARRAY_LEN(all) - 1);
}

int main(void)
{
    RUN(test_tid_format_known_values);
    RUN(test_tid_parse_round_trips);
    RUN(test_tid_string_order_is_numeric_order);
    RUN(test_tid_make_and_fields);
    RUN(test_tid_gen_increases_when_clock_goes_back);
    RUN(test_tid_gen_next_after_beats_prev);
    RUN(test_tid_gen_two_threads_never_repeat);
    return test_report();
}
