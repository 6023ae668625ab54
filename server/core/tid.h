/* tid.h - timestamp identifiers (TIDs): format, parse, build, and a monotonic generator.
 * Pure functions are thread-safe; a struct tid_gen may be shared by threads (lock-free CAS). */
#ifndef PDS_CORE_TID_H
#define PDS_CORE_TID_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

/* spec(tid): 64 bits = 0 (top bit) | 53 bits of microseconds since the Unix epoch | 10-bit
 * clock id; written big-endian as 13 base32-sortable characters. */
#define TID_STR_LEN        13
#define TID_CLOCK_ID_BITS  10
#define TID_CLOCK_ID_MASK  ((1u << TID_CLOCK_ID_BITS) - 1)
#define TID_TIMESTAMP_BITS 53
#define TID_TIMESTAMP_MASK ((UINT64_C(1) << TID_TIMESTAMP_BITS) - 1)

/* Writes the 13-character form of v and a NUL into out. Any 64-bit value formats; values
 * with the top bit set start with 'c'..'j' (accepted by the syntax, never generated). */
void tid_format(uint64_t v, char out[TID_STR_LEN + 1]);
/* Parses a TID that passes syntax_tid_valid; ERR_INVALID otherwise. */
enum err tid_parse(struct bytes s, uint64_t *out) MUST_CHECK;
/* Builds a TID from microseconds (low 53 bits kept) and a clock id (low 10 bits kept). */
uint64_t tid_make(uint64_t unix_us, unsigned clock_id);
/* The timestamp (microseconds since the epoch) and clock id inside a TID. */
uint64_t tid_timestamp_us(uint64_t tid);
unsigned tid_clock_id(uint64_t tid);
/* Microseconds since the Unix epoch from CLOCK_REALTIME. */
uint64_t tid_now_us(void);

/* A monotonic TID source. The caller owns the struct; any number of threads may call
 * tid_gen_next on the same one. Fields are private. */
struct tid_gen {
    _Atomic uint64_t _last; /* the last TID handed out (0 before the first) */
    unsigned _clock_id;     /* TID_CLOCK_ID_MASK bits, fixed at init */
};

/* clock_id is masked to 10 bits; pick it at random per process (spec: random clock id). */
void tid_gen_init(struct tid_gen *g, unsigned clock_id);
/* Returns a TID for now_us that is strictly greater than every TID this generator returned
 * before, even when now_us goes backwards or repeats (then the timestamp is bumped by 1 µs). */
uint64_t tid_gen_next(struct tid_gen *g, uint64_t now_us);
/* As tid_gen_next, and also strictly greater than prev (e.g. a repo's last rev, which may
 * come from another server's clock: revs must keep increasing across migrations). */
uint64_t tid_gen_next_after(struct tid_gen *g, uint64_t now_us, uint64_t prev);

#endif
