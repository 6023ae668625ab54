/* cookie.c - Cookie header parsing and Set-Cookie. */
#include "web/cookie.h"

#include <stdio.h>
#include <string.h>

#include "config/config.h"

const char *web_cookie(struct xrpc_req *rq, const char *name)
{
    const char *h = xrpc_header(rq, "cookie");
    size_t name_len = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';') {
            h++;
        }
        const char *end = strchr(h, ';');
        size_t len = end ? (size_t)(end - h) : strlen(h);
        if (len > name_len && h[name_len] == '=' && strncmp(h, name, name_len) == 0) {
            const char *v = h + name_len + 1;
            size_t vlen = len - name_len - 1;
            if (vlen >= 2 && v[0] == '"' && v[vlen - 1] == '"') { /* RFC 6265 quoted value */
                v++;
                vlen -= 2;
            }
            return arena_strndup(rq->arena, v, vlen);
        }
        h = end;
    }
    return NULL;
}

void web_set_cookie(struct xrpc_req *rq, const char *name, const char *value, const char *path,
                    enum web_same_site same_site, int64_t max_age_s)
{
    char age[48] = "";
    if (max_age_s > 0) {
        snprintf(age, sizeof age, "; Max-Age=%lld", (long long)max_age_s);
    } else if (max_age_s < 0) {
        snprintf(age, sizeof age, "; Max-Age=0");
    }
    size_t n = strlen(name) + strlen(value) + strlen(path) + sizeof age + 64;
    char *h = arena_alloc(rq->arena, n);
    /* spec(RFC 6265bis): a Secure cookie is refused over plain http; localhost is the one
     * plain-http origin we serve */
    snprintf(h, n, "%s=%s; Path=%s; HttpOnly; SameSite=%s%s%s", name, max_age_s < 0 ? "" : value,
             path, same_site == WEB_SAME_SITE_STRICT ? "Strict" : "Lax",
             rq->cfg && rq->cfg->is_localhost ? "" : "; Secure", age);
    xrpc_set_header(rq, "Set-Cookie", h);
}
