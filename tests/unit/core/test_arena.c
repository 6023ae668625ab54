/* test_arena.c - region allocator: alignment, zeroing, copies, large blocks, deferred
 * cleanups run last-first at reset, and reuse after reset. */
#include "unit/test.h"

#include <stdint.h>

#include "core/arena.h"

static void test_arena_alignment_and_zeroing(void)
{
    struct arena a;
    arena_init(&a);
    for (size_t n = 0; n < 100; n++) {
        uint8_t *p = arena_alloc(&a, n);
        CHECK(((uintptr_t)p & 15) == 0);
        memset(p, 0xaa, n); /* ASan: every byte asked for is usable */
        uint8_t *z = arena_zalloc(&a, n + 1);
        size_t nonzero = 0;
        for (size_t i = 0; i <= n; i++) {
            nonzero += z[i] != 0;
        }
        CHECK_EQ(nonzero, 0);
    }
    CHECK(arena_used(&a) > 0);
    arena_clear(&a);
    CHECK_EQ(arena_used(&a), 0);
}

static void test_arena_copies_and_large_blocks(void)
{
    struct arena a;
    arena_init(&a);
    char *s = arena_strndup(&a, "hello world", 5);
    CHECK_STR(s, "hello");
    uint8_t *m = arena_memdup(&a, "\x01\x00\x02", 3);
    CHECK(m[0] == 1 && m[1] == 0 && m[2] == 2);
    CHECK(arena_memdup(&a, NULL, 0) != NULL);
    /* a block bigger than a chunk, then small ones that must not overlap it */
    uint8_t *big = arena_alloc(&a, 100000);
    memset(big, 0x5a, 100000);
    char *after = arena_strndup(&a, "tail", 4);
    CHECK_STR(s, "hello");
    CHECK_STR(after, "tail");
    CHECK(big[0] == 0x5a && big[99999] == 0x5a);
    CHECK(arena_used(&a) >= 100000);
    arena_clear(&a);
}

static int order[4], norder;

static void record(void *p)
{
    order[norder++] = *(int *)p;
}

static void test_arena_defer_runs_last_first_once(void)
{
    static int one = 1, two = 2, three = 3;
    struct arena a;
    arena_init(&a);
    norder = 0;
    arena_defer(&a, record, &one);
    arena_defer(&a, record, &two);
    arena_defer(&a, record, &three);
    arena_reset(&a);
    CHECK_EQ(norder, 3);
    CHECK(order[0] == 3 && order[1] == 2 && order[2] == 1);
    /* usable again; a second reset runs nothing new */
    CHECK(arena_alloc(&a, 8) != NULL);
    arena_reset(&a);
    CHECK_EQ(norder, 3);
    arena_clear(&a);
}

int main(void)
{
    RUN(test_arena_alignment_and_zeroing);
    RUN(test_arena_copies_and_large_blocks);
    RUN(test_arena_defer_runs_last_first_once);
    return test_report();
}
