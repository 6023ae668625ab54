/* routes.c - the lexicon route table: one line per NSID, sorted by name. */
#include "api/lexicon/lexicon.h"

#include "core/err.h"

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"com.atproto.lexicon.resolveLexicon", HTTP_GET, api_lexicon_resolve_lexicon, NULL, 0, 0, NULL},
};
/* clang-format on */

const struct route_table api_lexicon_routes = {rows, ARRAY_LEN(rows)};
