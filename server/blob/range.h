/* range.h - HTTP Range requests on one blob (RFC 9110 §14): one byte range per request.
 * Pure; thread-safe. */
#ifndef PDS_BLOB_RANGE_H
#define PDS_BLOB_RANGE_H

#include <stdint.h>

enum range_result {
    RANGE_NONE,          /* no usable Range: serve the whole blob (200) */
    RANGE_PARTIAL,       /* serve [start, start + len) with 206 and Content-Range */
    RANGE_UNSATISFIABLE, /* 416 with Content-Range: bytes * / size */
};

struct range {
    uint64_t start;
    uint64_t len;
};

/* Reads a Range header value (NULL: absent) against a blob of size bytes.
 * "bytes=a-b", "bytes=a-" and "bytes=-n" (the last n bytes) are understood; b past the end
 * is cut to the end. A range starting at or past the end, or a suffix of 0 bytes, is
 * unsatisfiable. Anything else (another unit, several ranges, bad syntax) is ignored, as
 * RFC 9110 allows: the whole blob is served. */
enum range_result range_parse(const char *header, uint64_t size, struct range *out);

#endif
