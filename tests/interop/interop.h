/* interop.h - harness for the public atproto interop vectors in ../shared/interop.
 * Each suite (one file per vector folder) reads its files through this harness, so the
 * runner can prove that every file was read and count every case. */
#ifndef PDS_TESTS_INTEROP_H
#define PDS_TESTS_INTEROP_H

#include <jansson.h>
#include <stdbool.h>

#include "core/bytes.h"

struct interop {
    const char *dir;
    int files;
    long cases, failures; /* failures counts failed cases and unread files */
    long case_failures;
    char **read; /* relative paths read so far */
    size_t nread;
};

/* Reads dir/rel whole and marks it read; NULL (and a failure) when missing.
 * Caller frees. *len excludes the NUL added after the contents. */
char *interop_read(struct interop *t, const char *rel, size_t *len);
/* Parses dir/rel as JSON (NUL bytes in strings allowed); NULL and a failure on error. */
json_t *interop_json(struct interop *t, const char *rel);
/* Calls fn for each vector line of a .txt list: split on '\n', skip empty lines and
 * lines whose first byte is '#', never trim. Returns the number of lines given to fn. */
long interop_lines(struct interop *t, const char *rel,
                   void (*fn)(struct interop *t, struct bytes line, void *ctx), void *ctx);
/* Counts one case; when !ok prints "FAIL <file>: <message>" and counts a failure. */
void interop_case(struct interop *t, bool ok, const char *file, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* Suites. A suite that is not linked in leaves its files unread, which the runner
 * reports as a failure. */
void interop_syntax(struct interop *t);     /* syntax/ and upstream-atproto syntax files */
void interop_crypto(struct interop *t);     /* crypto/ */
void interop_data_model(struct interop *t); /* data-model/ */
void interop_mst(struct interop *t);        /* mst/ */
void interop_firehose(struct interop *t);   /* firehose/ */
void interop_car(struct interop *t);        /* upstream-atproto/packages/repo/tests CAR */
void interop_lexicon(struct interop *t);    /* lexicon/ */
void interop_permission(struct interop *t); /* permission/ */

#endif
