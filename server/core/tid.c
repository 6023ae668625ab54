/* tid.c - TID encoding in base32-sortable and a lock-free monotonic generator.
 * No globals: generator state lives in the caller's struct tid_gen. */
#include "core/tid.h"

#include <time.h>

#include "core/syntax.h"

/* spec(tid): base32-sortable, so string order equals numeric order */
static const char tid_alphabet[] = "234567abcdefghijklmnopqrstuvwxyz";

#define TID_BITS_PER_CHAR 5

void tid_format(uint64_t v, char out[TID_STR_LEN + 1])
{
    /* 13 x 5 = 65 bits: the first character carries only the top 4 bits */
    for (int i = TID_STR_LEN - 1; i >= 0; i--) {
        out[i] = tid_alphabet[v & 31];
        v >>= TID_BITS_PER_CHAR;
    }
    out[TID_STR_LEN] = '\0';
}

static unsigned tid_char_value(uint8_t c)
{
    return (c >= '2' && c <= '7') ? (unsigned)(c - '2') : (unsigned)(c - 'a') + 6;
}

enum err tid_parse(struct bytes s, uint64_t *out)
{
    if (!syntax_tid_valid(s)) {
        return ERR_INVALID;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < TID_STR_LEN; i++) {
        /* the syntax check keeps the first value < 16, so nothing shifts out */
        v = (v << TID_BITS_PER_CHAR) | tid_char_value(s.ptr[i]);
    }
    *out = v;
    return ERR_OK;
}

uint64_t tid_make(uint64_t unix_us, unsigned clock_id)
{
    return ((unix_us & TID_TIMESTAMP_MASK) << TID_CLOCK_ID_BITS) | (clock_id & TID_CLOCK_ID_MASK);
}

uint64_t tid_timestamp_us(uint64_t tid)
{
    return (tid >> TID_CLOCK_ID_BITS) & TID_TIMESTAMP_MASK;
}

unsigned tid_clock_id(uint64_t tid)
{
    return (unsigned)(tid & TID_CLOCK_ID_MASK);
}

uint64_t tid_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void tid_gen_init(struct tid_gen *g, unsigned clock_id)
{
    atomic_init(&g->_last, 0);
    g->_clock_id = clock_id & TID_CLOCK_ID_MASK;
}

/* The smallest TID with our clock id that is greater than floor. */
static uint64_t tid_after(uint64_t floor, unsigned clock_id)
{
    /* no timestamp mask here: a foreign prev may have the top bit set */
    uint64_t base = floor & ~(uint64_t)TID_CLOCK_ID_MASK;
    uint64_t cand = base | clock_id;
    return cand > floor ? cand : (base + (UINT64_C(1) << TID_CLOCK_ID_BITS)) | clock_id;
}

uint64_t tid_gen_next_after(struct tid_gen *g, uint64_t now_us, uint64_t prev)
{
    uint64_t want = tid_make(now_us, g->_clock_id);
    uint64_t last = atomic_load(&g->_last);
    for (;;) {
        uint64_t floor = last > prev ? last : prev;
        uint64_t next = want > floor ? want : tid_after(floor, g->_clock_id);
        /* on failure `last` is reloaded and the candidate recomputed */
        if (atomic_compare_exchange_weak(&g->_last, &last, next)) {
            return next;
        }
    }
}

uint64_t tid_gen_next(struct tid_gen *g, uint64_t now_us)
{
    return tid_gen_next_after(g, now_us, 0);
}
