/* test.h - the smallest test harness that does the job: CHECK records a failure and goes
 * on, RUN names each test, test_report prints "N passed, N failed" and sets the exit code. */
#ifndef PDS_TESTS_TEST_H
#define PDS_TESTS_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks_failed_, tests_passed_, tests_failed_;
static const char *test_current_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_checks_failed_++;                                                                 \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", __FILE__, __LINE__, test_current_,    \
                    #cond);                                                                        \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            test_checks_failed_++;                                                                 \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__,    \
                    test_current_, #a, a_, #b, b_);                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                   \
            test_checks_failed_++;                                                                 \
            fprintf(stderr, "%s:%d: %s: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__,      \
                    test_current_, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                    \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        int before_ = test_checks_failed_;                                                         \
        test_current_ = #fn;                                                                       \
        fn();                                                                                      \
        if (test_checks_failed_ == before_) {                                                      \
            tests_passed_++;                                                                       \
        } else {                                                                                   \
            tests_failed_++;                                                                       \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        }                                                                                          \
    } while (0)

static inline int test_report(void)
{
    printf("%d passed, %d failed\n", tests_passed_, tests_failed_);
    return tests_failed_ == 0 && tests_passed_ > 0 ? 0 : 1;
}

/* Where the interop vectors are: $PDS_INTEROP_DIR, set by ctest. */
static inline const char *test_interop_dir(void)
{
    const char *d = getenv("PDS_INTEROP_DIR");
    return d ? d : "../shared/interop";
}

#endif
