/* test_range.c - Range headers of getBlob: the forms served partially, the unsatisfiable
 * ones (416), and the ones ignored (whole blob). */
#include "unit/test.h"

#include "blob/range.h"

struct range_case {
    const char *header;
    uint64_t size;
    enum range_result want;
    uint64_t start, len;
};

static void test_range_table(void)
{
    static const struct range_case cases[] = {
        {NULL, 100, RANGE_NONE, 0, 100},
        {"bytes=0-9", 100, RANGE_PARTIAL, 0, 10},
        {"bytes=10-", 100, RANGE_PARTIAL, 10, 90},
        {"bytes=-10", 100, RANGE_PARTIAL, 90, 10},
        {"bytes=-500", 100, RANGE_PARTIAL, 0, 100},   /* suffix longer than the blob */
        {"bytes=90-500", 100, RANGE_PARTIAL, 90, 10}, /* end cut to the blob */
        {"bytes=99-99", 100, RANGE_PARTIAL, 99, 1},
        {"Bytes=5-6", 100, RANGE_PARTIAL, 5, 2},
        {"bytes=100-", 100, RANGE_UNSATISFIABLE, 0, 100},
        {"bytes=100-200", 100, RANGE_UNSATISFIABLE, 0, 100},
        {"bytes=-0", 100, RANGE_UNSATISFIABLE, 0, 100},
        {"bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-1,4-5", 100, RANGE_NONE, 0, 100}, /* several ranges: whole blob */
        {"bytes=5-1", 100, RANGE_NONE, 0, 100},     /* invalid: ignored */
        {"items=0-1", 100, RANGE_NONE, 0, 100},
        {"bytes=-", 100, RANGE_NONE, 0, 100},
        {"bytes=a-b", 100, RANGE_NONE, 0, 100},
        {"bytes=99999999999999999999-", 100, RANGE_NONE, 0, 100}, /* overflow */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct range_case *c = &cases[i];
        struct range r;
        enum range_result got = range_parse(c->header, c->size, &r);
        if (got != c->want) {
            fprintf(stderr, "case %zu (%s): result %d, want %d\n", i,
                    c->header ? c->header : "NULL", got, c->want);
        }
        CHECK_EQ(got, c->want);
        if (got == RANGE_PARTIAL) {
            CHECK_EQ(r.start, c->start);
            CHECK_EQ(r.len, c->len);
        }
    }
}

int main(void)
{
    RUN(test_range_table);
    return test_report();
}
