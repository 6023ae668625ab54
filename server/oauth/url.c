/* url.c - URL parsing for the OAuth checks. */
#include "oauth/url.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static char *dup_lower(struct arena *a, const char *s, size_t n)
{
    char *d = arena_strndup(a, s, n);
    for (size_t i = 0; i < n; i++) {
        d[i] = (char)tolower((unsigned char)d[i]);
    }
    return d;
}

enum err url_parse(struct arena *a, const char *text, struct url *out)
{
    memset(out, 0, sizeof *out);
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
            return ERR_INVALID;
        }
    }
    size_t i = 0;
    if (!isalpha((unsigned char)text[0])) {
        return ERR_INVALID;
    }
    while (isalnum((unsigned char)text[i]) || text[i] == '+' || text[i] == '-' || text[i] == '.') {
        i++;
    }
    if (text[i] != ':') {
        return ERR_INVALID;
    }
    out->scheme = dup_lower(a, text, i);
    const char *rest = text + i + 1;
    out->host = "";
    if (rest[0] == '/' && rest[1] == '/') {
        out->has_authority = true;
        const char *auth = rest + 2;
        size_t alen = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', alen);
        if (at) {
            out->userinfo = true;
            alen -= (size_t)(at + 1 - auth);
            auth = at + 1;
        }
        size_t hlen = alen;
        const char *colon = NULL;
        if (auth[0] == '[') {
            const char *close = memchr(auth, ']', alen);
            if (!close) {
                return ERR_INVALID;
            }
            hlen = (size_t)(close + 1 - auth);
            if (hlen < alen) {
                if (auth[hlen] != ':') {
                    return ERR_INVALID;
                }
                colon = auth + hlen;
            }
        } else {
            colon = memchr(auth, ':', alen);
            if (colon) {
                hlen = (size_t)(colon - auth);
            }
        }
        out->host = dup_lower(a, auth, hlen);
        if (colon) {
            size_t plen = alen - hlen - 1;
            if (plen == 0 || plen > 5) {
                return ERR_INVALID;
            }
            long v = 0;
            for (size_t k = 0; k < plen; k++) {
                if (!isdigit((unsigned char)colon[1 + k])) {
                    return ERR_INVALID;
                }
                v = v * 10 + (colon[1 + k] - '0');
            }
            if (v > 65535) {
                return ERR_INVALID;
            }
            out->port = arena_strndup(a, colon + 1, plen);
        }
        rest = auth + alen;
    }
    size_t plen = strcspn(rest, "?#");
    out->path = arena_strndup(a, rest, plen);
    rest += plen;
    if (*rest == '?') {
        size_t qlen = strcspn(rest + 1, "#");
        out->query = arena_strndup(a, rest + 1, qlen);
        rest += 1 + qlen;
    }
    if (*rest == '#') {
        out->fragment = arena_strndup(a, rest + 1, strlen(rest + 1));
    }
    return ERR_OK;
}

bool url_host_is_ip(const char *host)
{
    if (host[0] == '[') {
        return true;
    }
    int dots = 0;
    size_t digits = 0;
    for (const char *p = host; *p; p++) {
        if (*p == '.') {
            if (!digits) {
                return false;
            }
            dots++;
            digits = 0;
        } else if (isdigit((unsigned char)*p) && digits < 3) {
            digits++;
        } else {
            return false;
        }
    }
    return dots == 3 && digits > 0;
}

bool url_host_is_local(const char *host)
{
    const char *dot = strrchr(host, '.');
    if (!dot) {
        return true;
    }
    static const char *const tlds[] = {"test", "local", "localhost", "invalid", "example"};
    for (size_t i = 0; i < sizeof tlds / sizeof tlds[0]; i++) {
        if (strcmp(dot + 1, tlds[i]) == 0) {
            return true;
        }
    }
    return false;
}

const char *url_origin(struct arena *a, const struct url *u)
{
    size_t n = strlen(u->scheme) + strlen(u->host) + (u->port ? strlen(u->port) : 0) + 8;
    char *o = arena_alloc(a, n);
    snprintf(o, n, "%s://%s%s%s", u->scheme, u->host, u->port ? ":" : "", u->port ? u->port : "");
    return o;
}
