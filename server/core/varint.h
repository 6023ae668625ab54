/* varint.h - unsigned LEB128 varints (multiformats, CAR section lengths).
 * Pure; thread-safe. */
#ifndef PDS_CORE_VARINT_H
#define PDS_CORE_VARINT_H

#include "core/bytes.h"

#define VARINT_MAX_BYTES 10 /* a uint64 needs at most 10 groups of 7 bits */

/* Reads one varint at *in, advancing it. Minimal encoding is required (multiformats'
 * rule): a trailing 0x00 group is ERR_INVALID; ending early is ERR_TRUNCATED. */
enum err varint_read(struct bytes *in, uint64_t *out) MUST_CHECK;
/* Writes v to dst, returns the number of bytes (1..VARINT_MAX_BYTES). */
size_t varint_write(uint64_t v, uint8_t dst[VARINT_MAX_BYTES]);
size_t varint_len(uint64_t v);

#endif
