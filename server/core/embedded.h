/* embedded.h - files compiled into the binary at build time (server/tools/embed.c writes the
 * tables: the web pages of admin-ui/, the shipped Lexicon schemas). Constant data: thread-safe.
 */
#ifndef PDS_CORE_EMBEDDED_H
#define PDS_CORE_EMBEDDED_H

#include <stddef.h>
#include <stdint.h>

struct embedded_file {
    const char *path;    /* relative to the embedded folder, '/'-separated: "oauth/sign-in.html" */
    const uint8_t *data; /* len bytes, followed by a NUL that len does not count */
    size_t len;
    uint64_t hash; /* FNV-1a 64 of the bytes: a cheap validator (ETag), not a security hash */
};

/* The entry for path in a table of n, NULL when absent. */
const struct embedded_file *embedded_find(const struct embedded_file *table, size_t n,
                                          const char *path);

#endif
