/* scope_text.h - each requested permission in plain words for the consent page: a title and
 * a sentence of detail, in English (the pages' one language today). Pure; thread-safe. */
#ifndef PDS_OAUTH_SCOPE_TEXT_H
#define PDS_OAUTH_SCOPE_TEXT_H

#include <jansson.h>

#include "core/arena.h"

/* [{"scope", "title", "detail", "required"}] for each value of scope, in order; "atproto"
 * is the one required entry (a session always has it), the user may untick the others.
 * Values that are not valid scopes are left out (they grant nothing). Caller decref's. */
json_t *scope_text_list(struct arena *a, const char *scope);

#endif
