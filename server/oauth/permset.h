/* permset.h - permission sets: Lexicon documents whose main definition is a
 * "permission-set", which an `include:<nsid>` scope names. Reading one, expanding it into
 * the concrete repo: and rpc: scopes a token carries (the reference's IncludeScope:
 * bad or foreign entries are dropped one by one, never the whole set), and the title and
 * detail to show in the user's language. Pure; thread-safe; borrows the document. */
#ifndef PDS_OAUTH_PERMSET_H
#define PDS_OAUTH_PERMSET_H

#include <stddef.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/err.h"

#define PERMSET_MAX_PERMISSIONS 256 /* entries read from one set; the rest are ignored */

struct permset {
    const char *title;         /* NULL when absent */
    const char *detail;        /* NULL when absent */
    const json_t *title_lang;  /* "title:lang" object, or NULL */
    const json_t *detail_lang; /* "detail:lang" object, or NULL */
    const json_t *permissions; /* array */
};

/* Reads the permission set of a Lexicon document (borrowed: it must outlive out) whose id is
 * nsid. ERR_INVALID when the document has another id, or its defs.main is not an object of
 * type "permission-set" with a permissions array. */
enum err permset_parse(const json_t *doc, const char *nsid, struct permset *out) MUST_CHECK;

/* The scopes `include:<nsid>[?aud=<include_aud>]` grants from set, in the set's order, each in
 * the reference's normal form (scope_format.h): only repo and rpc entries; an rpc entry with
 * an audience of its own other than "*" is dropped; with inheritAud it takes include_aud (and
 * is dropped when the include has none); every collection and lxm must lie in the set's
 * own NSID group or below it (nsid up to its last '.'), so '*' never passes. *scopes is an
 * arena array of *n NUL-terminated strings. include_aud empty: the include had none. */
enum err permset_expand(const struct permset *set, const char *nsid, struct bytes include_aud,
                        struct arena *a, const char ***scopes, size_t *n) MUST_CHECK;

/* The title (or, with detail, the detail) in the first language of accept_language (an
 * Accept-Language header value, or NULL) that the set has: an exact tag first, then the
 * same primary language; else the plain title/detail (NULL when the set has none). */
const char *permset_text(const struct permset *set, bool detail, const char *accept_language);

/* Whether nsid lies in the group of set_nsid or below it (the authority rule). */
bool permset_in_authority(const char *set_nsid, struct bytes nsid);

#endif
