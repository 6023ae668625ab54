/* csrf.c - device ids and CSRF tokens. */
#include "web/csrf.h"

#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "config/config.h"
#include "core/base.h"
#include "crypto/ready.h"
#include "web/cookie.h"
#include "web/web.h"

#define DEVICE_RANDOM_BYTES     32
#define DEVICE_COOKIE_MAX_AGE_S (2 * 365 * 24 * 3600)

static bool b64url_token(const char *s, size_t len)
{
    if (!s || strlen(s) != len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_')) {
            return false;
        }
    }
    return true;
}

static void b64url(const uint8_t *p, size_t n, char *out, size_t out_len)
{
    struct buf b;
    buf_init(&b, out_len);
    if (base64url_encode(bytes_of(p, n), &b) != ERR_OK || b.len >= out_len) {
        abort(); /* sizes are constants: cannot happen */
    }
    memcpy(out, b.ptr, b.len + 1);
    buf_clear(&b);
}

const char *web_device_id(struct xrpc_req *rq, bool create)
{
    const char *id = web_cookie(rq, WEB_DEVICE_COOKIE);
    if (b64url_token(id, WEB_DEVICE_ID_LEN)) {
        return id;
    }
    /* made earlier in this request (the cookie is not back yet): the same id again */
    size_t prefix = strlen(WEB_DEVICE_COOKIE "=");
    for (size_t i = 0; i < rq->resp.n_headers; i++) {
        const struct xrpc_header *h = &rq->resp.headers[i];
        if (strcasecmp(h->name, "Set-Cookie") == 0 &&
            strncmp(h->value, WEB_DEVICE_COOKIE "=", prefix) == 0 &&
            strlen(h->value) > prefix + WEB_DEVICE_ID_LEN &&
            h->value[prefix + WEB_DEVICE_ID_LEN] == ';') {
            return arena_strndup(rq->arena, h->value + prefix, WEB_DEVICE_ID_LEN);
        }
    }
    if (!create) {
        return NULL;
    }
    ready_sodium();
    uint8_t r[DEVICE_RANDOM_BYTES];
    randombytes_buf(r, sizeof r);
    char *fresh = arena_alloc(rq->arena, WEB_DEVICE_ID_LEN + 1);
    b64url(r, sizeof r, fresh, WEB_DEVICE_ID_LEN + 1);
    web_set_cookie(rq, WEB_DEVICE_COOKIE, fresh, "/", WEB_SAME_SITE_LAX, DEVICE_COOKIE_MAX_AGE_S);
    return fresh;
}

void web_csrf_token(const char *device_id, char out[WEB_CSRF_TOKEN_LEN + 1])
{
    static const char label[] = "csrf:";
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, web_csrf_key(), WEB_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof label - 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)device_id, strlen(device_id));
    crypto_auth_hmacsha256_final(&st, mac);
    b64url(mac, sizeof mac, out, WEB_CSRF_TOKEN_LEN + 1);
}

/* Another site's page must not drive ours: Origin (sent on every POST by current browsers)
 * must be ours, and Sec-Fetch-Site, when sent, same-origin (or none: typed by the user). */
static bool same_origin(struct xrpc_req *rq)
{
    const char *origin = xrpc_header(rq, "origin");
    if (origin && rq->cfg && strcmp(origin, rq->cfg->public_url) != 0) {
        return false;
    }
    const char *site = xrpc_header(rq, "sec-fetch-site");
    return !site || strcmp(site, "same-origin") == 0 || strcmp(site, "none") == 0;
}

bool web_csrf_valid(struct xrpc_req *rq, const char *sent)
{
    if (!sent) {
        sent = xrpc_header(rq, WEB_CSRF_HEADER);
    }
    const char *device = web_device_id(rq, false);
    if (!device || !sent || strlen(sent) != WEB_CSRF_TOKEN_LEN || !same_origin(rq)) {
        return false;
    }
    char want[WEB_CSRF_TOKEN_LEN + 1];
    web_csrf_token(device, want);
    return sodium_memcmp(want, sent, WEB_CSRF_TOKEN_LEN) == 0;
}

int web_csrf_require(struct xrpc_req *rq, const char *sent)
{
    if (web_csrf_valid(rq, sent)) {
        return 0;
    }
    return xrpc_fail(rq, 403, "InvalidCsrfToken",
                     "this form has expired or came from another site: reload the page");
}
