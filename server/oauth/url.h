/* url.h - the small URL parser OAuth needs for client_id, redirect_uri and jwks_uri checks
 * (RFC 3986 generic syntax: scheme, authority, path, query, fragment), and the host tests
 * the profile names. Pure; results in the caller's arena; thread-safe. */
#ifndef PDS_OAUTH_URL_H
#define PDS_OAUTH_URL_H

#include <stdbool.h>

#include "core/arena.h"
#include "core/err.h"

struct url {
    const char *scheme;   /* lower-cased */
    bool has_authority;   /* "//" followed */
    bool userinfo;        /* user[:password]@ was present */
    const char *host;     /* lower-cased; an IPv6 literal keeps its brackets; "" if none */
    const char *port;     /* the digits, or NULL */
    const char *path;     /* as written, "" when empty */
    const char *query;    /* without '?', NULL when absent */
    const char *fragment; /* without '#', NULL when absent */
};

/* ERR_INVALID unless text is an absolute URL: a scheme ([a-z][a-z0-9+.-]*), printable
 * ASCII without spaces, a numeric port at most 65535. */
enum err url_parse(struct arena *a, const char *text, struct url *out) MUST_CHECK;

/* An IPv4 dotted quad or an IPv6 literal in brackets. */
bool url_host_is_ip(const char *host);
/* A name that is not on the public internet: one label, or a TLD of test, local,
 * localhost, invalid or example (reference isLocalHostname). */
bool url_host_is_local(const char *host);
/* scheme://host[:port] of u, in the arena. */
const char *url_origin(struct arena *a, const struct url *u);

#endif
