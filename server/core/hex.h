/* hex.h - hexadecimal digits: the one decoder behind percent-escapes, hex keys and secrets.
 * Pure; thread-safe. */
#ifndef PDS_CORE_HEX_H
#define PDS_CORE_HEX_H

#include <stdint.h>

/* The value of one hex digit (either case), or -1. */
static inline int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

#endif
