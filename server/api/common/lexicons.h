/* lexicons.h - the Lexicon schemas the server validates records with: the official ones
 * compiled into the binary (lexicons/, see its README) plus any in PDS_LEXICON_DIR. Built
 * once at start-up by one thread; the catalog is read-only afterwards. */
#ifndef PDS_API_COMMON_LEXICONS_H
#define PDS_API_COMMON_LEXICONS_H

#include <stddef.h>

#include "core/err.h"

#define LEXICONS_FILE_MAX   ((size_t)1 << 20) /* the largest official schema is ~40 KB */
#define LEXICONS_SOURCE_MAX 128               /* "@atproto/api 0.21.0" */

struct lexicon_catalog;

/* What a catalog was built from, for the start-up log line. */
struct lexicons_info {
    size_t shipped;                   /* documents from the embedded copy */
    size_t extra;                     /* documents from extra_dir (replacing or adding) */
    char source[LEXICONS_SOURCE_MAX]; /* the shipped copy's origin, from lexicons/SOURCE */
};

/* A new catalog of every document in extra_dir (every *.json below it; may be NULL), then
 * every shipped document whose id extra_dir did not provide. Caller frees with
 * lexicon_catalog_free. ERR_INVALID with a reason in why for an unreadable directory or a
 * document that is not a valid schema (a shipped one too: a build fault). */
enum err lexicons_load(const char *extra_dir, struct lexicon_catalog **out,
                       struct lexicons_info *info, char *why, size_t why_len) MUST_CHECK;

#endif
