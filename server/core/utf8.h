/* utf8.h - UTF-8 validation (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
 * Pure; thread-safe. */
#ifndef PDS_CORE_UTF8_H
#define PDS_CORE_UTF8_H

#include "core/bytes.h"

bool utf8_valid(struct bytes s);

#endif
