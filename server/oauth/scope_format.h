/* scope_format.h - granular scope values written in the reference's normal form
 * (@atproto/oauth-scopes Parser.format): parameters in schema order, a lone value of the
 * positional parameter after ':', defaults left out, lists de-duplicated and sorted, and
 * URL encoding that keeps ':' '/' '+' ',' '@' '%' readable. Used for the scopes a
 * permission set expands into and for naming the scope a refused request lacks.
 * Pure; thread-safe. */
#ifndef PDS_OAUTH_SCOPE_FORMAT_H
#define PDS_OAUTH_SCOPE_FORMAT_H

#include <stddef.h>

#include "core/bytes.h"
#include "core/err.h"
#include "oauth/scope.h"

/* repo:<collection> or repo?collection=…&collection=…, then action=… unless all three
 * (create, update, delete, in that order). A '*' among several collections leaves '*'. */
enum err scope_format_repo(const struct bytes *collections, size_t n, unsigned actions,
                           struct buf *out) MUST_CHECK;

/* rpc:<lxm>?aud=<aud> or rpc?lxm=…&lxm=…&aud=<aud> ('#' in aud written %23). */
enum err scope_format_rpc(const struct bytes *lxms, size_t n, struct bytes aud,
                          struct buf *out) MUST_CHECK;

/* account:<attr> (read) or account:<attr>?action=manage. */
enum err scope_format_account(enum scope_account_attr attr, enum scope_account_action action,
                              struct buf *out) MUST_CHECK;

/* blob:<mime> (lower-cased). */
enum err scope_format_blob(struct bytes mime, struct buf *out) MUST_CHECK;

/* identity:handle or identity:*. */
enum err scope_format_identity(enum scope_identity_attr attr, struct buf *out) MUST_CHECK;

#endif
