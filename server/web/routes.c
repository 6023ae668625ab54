/* routes.c - the web layer's own routes: the static assets of admin-ui/ and the branding
 * stylesheet. Pages themselves are routed by the areas that render them. */
#include "web/page.h"

#include "core/err.h"
#include "http/router.h"

/* clang-format off */
static const struct xrpc_route rows[] = {
    {"/static/",          HTTP_GET, web_static,    NULL, 0, ROUTE_PREFIX, NULL},
    {"/static/brand.css", HTTP_GET, web_brand_css, NULL, 0, 0,            NULL},
};
/* clang-format on */

const struct route_table web_routes = {rows, ARRAY_LEN(rows)};
