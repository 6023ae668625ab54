/* page.c - embedded assets, page headers and rendered pages. */
#include "web/page.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "web/csrf.h"

/* Generated at build time from admin-ui/ (server/tools/embed.c). */
extern const struct embedded_file web_assets[];
extern const size_t web_assets_len;

#define PAGE_MAX_BYTES ((size_t)1 << 20) /* a rendered page; ours are a few KB */

/* spec(CSP3): 'self' only for anything that runs or styles the page; images may come from
 * https: because PDS_LOGO_URL and a trusted client's logo are on other hosts */
#define PAGE_CSP                                                                                   \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "       \
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "            \
    "base-uri 'none'; object-src 'none'"

const struct embedded_file *web_asset(const char *path)
{
    return embedded_find(web_assets, web_assets_len, path);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

const char *web_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
    };
    for (size_t i = 0; i < ARRAY_LEN(types); i++) {
        if (ends_with(path, types[i].ext)) {
            return types[i].type;
        }
    }
    return "application/octet-stream";
}

void web_page_headers(struct xrpc_req *rq)
{
    xrpc_set_header(rq, "Content-Security-Policy", PAGE_CSP);
    xrpc_set_header(rq, "X-Frame-Options", "DENY");
    xrpc_set_header(rq, "X-Content-Type-Options", "nosniff");
    xrpc_set_header(rq, "Referrer-Policy", "same-origin");
    xrpc_set_header(rq, "Cache-Control", "no-store");
}

int web_reply_page(struct xrpc_req *rq, int status, const char *template_path,
                   const struct web_var *vars, size_t n)
{
    const struct embedded_file *f = web_asset(template_path);
    if (!f) {
        log_error(&rq->log, "web: no template %s", template_path);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    const struct config *cfg = rq->cfg;
    char csrf[WEB_CSRF_TOKEN_LEN + 1];
    web_csrf_token(web_device_id(rq, true), csrf);
    const struct web_var common[] = {
        {"csrf_token", csrf},
        {"service_name", cfg ? cfg->service_name : NULL},
        {"logo_url", cfg ? cfg->logo_url : NULL},
        {"home_url", cfg ? cfg->home_url : NULL},
        {"support_url", cfg ? cfg->support_url : NULL},
        {"privacy_policy_url", cfg ? cfg->privacy_policy_url : NULL},
        {"terms_of_service_url", cfg ? cfg->terms_of_service_url : NULL},
        {"lang", "en"},
    };
    size_t total = n + ARRAY_LEN(common);
    struct web_var *all = arena_alloc(rq->arena, total * sizeof *all);
    if (n) {
        memcpy(all, vars, n * sizeof *vars); /* the caller's first: they win */
    }
    memcpy(all + n, common, sizeof common);
    struct buf out;
    buf_init(&out, PAGE_MAX_BYTES);
    struct bytes unknown;
    enum err e = web_template(bytes_of(f->data, f->len), all, total, web_assets, web_assets_len,
                              &out, &unknown);
    if (e) {
        if (e == ERR_INVALID) {
            log_error(&rq->log, "web: %s uses {{%.*s}}, which the page does not provide",
                      template_path, (int)unknown.len, (const char *)unknown.ptr);
        } else if (unknown.len) {
            log_error(&rq->log, "web: %s nests includes deeper than %d at {{%.*s}}", template_path,
                      WEB_INCLUDE_DEPTH_MAX, (int)unknown.len, (const char *)unknown.ptr);
        }
        buf_clear(&out);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    web_page_headers(rq);
    return xrpc_reply_buf(rq, status, "text/html; charset=utf-8", &out);
}

int web_error_page(struct xrpc_req *rq, int status, const char *title, const char *message)
{
    const struct web_var vars[] = {{"title", title}, {"message", message}};
    return web_reply_page(rq, status, "common/error.html", vars, ARRAY_LEN(vars));
}

int web_static(struct xrpc_req *rq)
{
    const char *path = rq->path + strlen(WEB_STATIC_PREFIX);
    const struct embedded_file *f =
        ends_with(path, ".html") || strstr(path, "..") ? NULL : web_asset(path);
    if (!f) {
        return xrpc_reply_static(rq, 404, "text/plain; charset=utf-8", "Not Found\n");
    }
    char etag[24];
    snprintf(etag, sizeof etag, "\"%016llx\"", (unsigned long long)f->hash);
    xrpc_set_header(rq, "ETag", etag);
    /* revalidate every time: the binary may be upgraded under the same URL */
    xrpc_set_header(rq, "Cache-Control", "no-cache");
    xrpc_set_header(rq, "X-Content-Type-Options", "nosniff");
    const char *inm = xrpc_header(rq, "if-none-match");
    if (inm && strstr(inm, etag)) {
        return xrpc_reply_empty(rq, 304);
    }
    /* embedded data lives as long as the program: no copy */
    return xrpc_reply_const(rq, 200, web_content_type(path), f->data, f->len);
}

int web_brand_css(struct xrpc_req *rq)
{
    const struct config *cfg = rq->cfg;
    struct {
        const char *var, *value;
    } colors[] = {
        {"--primary", cfg ? cfg->primary_color : NULL}, {"--error", cfg ? cfg->error_color : NULL},
        {"--warning", cfg ? cfg->warning_color : NULL}, {"--info", cfg ? cfg->info_color : NULL},
        {"--success", cfg ? cfg->success_color : NULL},
    };
    struct buf b;
    buf_init(&b, 4096);
    enum err e = buf_append_str(&b, "/* the operator's colours (PDS_*_COLOR) */\n:root {\n");
    for (size_t i = 0; i < ARRAY_LEN(colors) && !e; i++) {
        if (colors[i].value) { /* validated by config: no ; { } or quotes */
            e = buf_appendf(&b, "  %s: %s;\n", colors[i].var, colors[i].value);
        }
    }
    if (!e) {
        e = buf_append_str(&b, "}\n");
    }
    if (e) {
        buf_clear(&b);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    xrpc_set_header(rq, "Cache-Control", "no-cache");
    xrpc_set_header(rq, "X-Content-Type-Options", "nosniff");
    return xrpc_reply_buf(rq, 200, "text/css; charset=utf-8", &b);
}

static void json_free(void *p)
{
    json_decref(p);
}

int web_json_body(struct xrpc_req *rq, bool empty_ok)
{
    if (rq->json) {
        return 0;
    }
    json_t *j = !rq->body.len && empty_ok ? json_object()
                                          : json_loadb((const char *)rq->body.ptr, rq->body.len,
                                                       JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return xrpc_fail(rq, 400, "InvalidRequest", "The request body must be a JSON object");
    }
    arena_defer(rq->arena, json_free, j);
    rq->json = j;
    return 0;
}

int web_read_json(struct xrpc_req *rq, json_t **out)
{
    *out = NULL;
    if (!rq->content_type || strcmp(rq->content_type, "application/json") != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "expected an application/json body");
    }
    int st = web_json_body(rq, false);
    *out = st ? NULL : rq->json;
    return st;
}

int web_page_post(struct xrpc_req *rq, json_t **body)
{
    web_page_headers(rq);
    *body = NULL;
    int st = web_csrf_require(rq, NULL);
    return st ? st : web_read_json(rq, body);
}
