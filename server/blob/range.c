/* range.c - the Range header of getBlob. */
#include "blob/range.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Reads decimal digits at *p (at least one, no overflow); advances. */
static bool read_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*s)) {
        return false;
    }
    while (isdigit((unsigned char)*s)) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

static void skip_spaces(const char **p)
{
    while (**p == ' ' || **p == '\t') {
        (*p)++;
    }
}

enum range_result range_parse(const char *header, uint64_t size, struct range *out)
{
    out->start = 0;
    out->len = size;
    if (!header) {
        return RANGE_NONE;
    }
    const char *p = header;
    skip_spaces(&p);
    if (strncasecmp(p, "bytes=", 6) != 0) {
        return RANGE_NONE;
    }
    p += 6;
    skip_spaces(&p);
    uint64_t first = 0, last = 0;
    bool has_first = read_u64(&p, &first);
    skip_spaces(&p);
    if (*p != '-') {
        return RANGE_NONE;
    }
    p++;
    skip_spaces(&p);
    bool has_last = read_u64(&p, &last);
    skip_spaces(&p);
    if (*p != '\0' || (!has_first && !has_last)) {
        return RANGE_NONE; /* several ranges or junk: ignored */
    }
    if (!has_first) { /* suffix: the last `last` bytes */
        if (last == 0 || size == 0) {
            return RANGE_UNSATISFIABLE;
        }
        uint64_t n = last < size ? last : size;
        out->start = size - n;
        out->len = n;
        return RANGE_PARTIAL;
    }
    if (has_last && last < first) {
        return RANGE_NONE; /* invalid: ignored */
    }
    if (first >= size) {
        return RANGE_UNSATISFIABLE;
    }
    uint64_t end = has_last && last < size - 1 ? last : size - 1;
    out->start = first;
    out->len = end - first + 1;
    return RANGE_PARTIAL;
}
