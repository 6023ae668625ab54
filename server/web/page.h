/* page.h - serving admin-ui/: the files compiled into the binary (static assets under
 * /static/, with ETag revalidation), the security headers every page carries, and pages
 * rendered from an HTML template with the branding values and the CSRF token filled in.
 * Request-scoped; thread-safe once web_init has run. */
#ifndef PDS_WEB_PAGE_H
#define PDS_WEB_PAGE_H

#include <stddef.h>

#include "core/embedded.h"
#include "http/router.h"
#include "http/xrpc.h"
#include "web/html.h"

#define WEB_STATIC_PREFIX "/static/"

/* The web layer's routes (routes.c): /static/ and /static/brand.css. */
extern const struct route_table web_routes;

/* The embedded file at path ("oauth/sign-in.html"), NULL when there is none. */
const struct embedded_file *web_asset(const char *path);

/* Content-Type for a file name, by extension (text types with charset=utf-8). */
const char *web_content_type(const char *path);

/* The headers of every page and page API answer: a strict Content-Security-Policy (scripts,
 * styles, fonts and connections from this origin only; images also from https: and data:
 * URLs, for an operator's logo; no framing, no plugins, forms only to this origin),
 * X-Frame-Options DENY, nosniff, Referrer-Policy same-origin, and Cache-Control no-store. */
void web_page_headers(struct xrpc_req *rq);

/* Renders template (a path under admin-ui/, e.g. "oauth/sign-in.html") with vars[0..n) and
 * these provided for every page: csrf_token (for the device cookie, created if needed),
 * service_name, logo_url, home_url, support_url, privacy_policy_url, terms_of_service_url,
 * lang ("en"). A var of the same name in vars wins. Sends it as text/html with
 * web_page_headers. A missing template or unknown {{name}} is a 500 (logged). */
int web_reply_page(struct xrpc_req *rq, int status, const char *template_path,
                   const struct web_var *vars, size_t n);

/* An error page (common/error.html) that says what went wrong: title and message, and a
 * link back home. */
int web_error_page(struct xrpc_req *rq, int status, const char *title, const char *message);

/* The request's JSON body as rq->json, for a page's API endpoint (path routes get no parsed
 * body): an object, parsed once (a body already in rq->json is kept), duplicate keys
 * refused, owned by rq's arena; an empty body is {} when empty_ok. 0, or 400 InvalidRequest
 * set (not JSON, not an object). */
int web_json_body(struct xrpc_req *rq, bool empty_ok);

/* As web_json_body (no empty body) for an endpoint that also wants the Content-Type
 * application/json; the body into *out too. 0, or 400 InvalidRequest set. */
int web_read_json(struct xrpc_req *rq, json_t **out);

/* The start of a page's state-changing JSON call: the page headers (web_page_headers), the
 * CSRF token required (web_csrf_require), the body read (web_read_json). 0 with *body, or
 * the error set. */
int web_page_post(struct xrpc_req *rq, json_t **body);

/* GET /static/<path>: an embedded asset that is not a template (.html files are served only
 * through the pages that render them), with ETag / If-None-Match (304) and no-cache
 * revalidation; 404 otherwise. */
int web_static(struct xrpc_req *rq);

/* GET /static/brand.css: the colour variables of the operator's branding (PDS_PRIMARY_COLOR
 * and the others, validated by config), so that no page needs an inline style. */
int web_brand_css(struct xrpc_req *rq);

#endif
