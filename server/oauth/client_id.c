/* client_id.c - the two client_id forms, and the loopback client's metadata. */
#include "oauth/client.h"

#include <string.h>

#include "http/form.h"
#include "oauth/oauth.h"
#include "oauth/url.h"

#define LOOPBACK_PARAMS_MAX 32

/* spec(oauth): a loopback client's redirect URIs are http on 127.0.0.1 or [::1] */
static bool loopback_redirect_ok(struct arena *a, const char *uri)
{
    struct url u;
    return url_parse(a, uri, &u) == ERR_OK && strcmp(u.scheme, "http") == 0 && u.has_authority &&
           !u.userinfo && !u.fragment &&
           (strcmp(u.host, "127.0.0.1") == 0 || strcmp(u.host, "[::1]") == 0);
}

static bool scope_has(const char *scope, const char *want)
{
    size_t n = strlen(want);
    for (const char *p = scope; *p;) {
        size_t len = strcspn(p, " ");
        if (len == n && memcmp(p, want, n) == 0) {
            return true;
        }
        p += len;
        p += strspn(p, " ");
    }
    return false;
}

/* The loopback id's query: *scope and the redirect URIs (NULL/0 when absent). */
static enum err loopback_params(struct arena *a, const char *id, const char **scope,
                                const char ***uris, size_t *n_uris, const char **why)
{
    size_t base = strlen(OAUTH_LOOPBACK_ORIGIN);
    *scope = NULL;
    *uris = NULL;
    *n_uris = 0;
    if (strncmp(id, OAUTH_LOOPBACK_ORIGIN, base) != 0) {
        *why = "Value must start with \"http://localhost\"";
        return ERR_INVALID;
    }
    if (strchr(id + base, '#')) {
        *why = "Loopback client ID must not contain a hash component";
        return ERR_INVALID;
    }
    const char *q = id + base;
    if (*q == '/') {
        q++;
    }
    if (*q && *q != '?') {
        *why = "Loopback client ID must not contain a path component or a port";
        return ERR_INVALID;
    }
    if (*q != '?') {
        return ERR_OK;
    }
    struct xrpc_param *p;
    size_t n;
    if (form_parse(a, bytes_str(q + 1), LOOPBACK_PARAMS_MAX, &p, &n)) {
        *why = "Loopback client ID has a malformed query";
        return ERR_INVALID;
    }
    const char **list = arena_alloc(a, (n ? n : 1) * sizeof *list);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p[i].name, "scope") == 0) {
            if (*scope) {
                *why = "Duplicate \"scope\" query parameter";
                return ERR_INVALID;
            }
            *scope = p[i].value;
        } else if (strcmp(p[i].name, "redirect_uri") == 0) {
            if (!loopback_redirect_ok(a, p[i].value)) {
                *why = "Invalid \"redirect_uri\" query parameter: loopback clients redirect "
                       "to http://127.0.0.1 or http://[::1]";
                return ERR_INVALID;
            }
            list[(*n_uris)++] = p[i].value;
        } else {
            *why = "Unexpected query parameter in loopback client ID";
            return ERR_INVALID;
        }
    }
    if (*scope && !scope_has(*scope, "atproto")) {
        *why = "Loopback client ID must include the \"atproto\" scope";
        return ERR_INVALID;
    }
    *uris = list;
    return ERR_OK;
}

static bool has_dot_segment(const char *path)
{
    for (const char *p = path; (p = strchr(p, '/')) != NULL; p++) {
        if (p[1] == '/' || (p[1] == '.' && (p[2] == '/' || p[2] == '\0')) ||
            (p[1] == '.' && p[2] == '.' && (p[3] == '/' || p[3] == '\0'))) {
            return true;
        }
    }
    return false;
}

static enum err discoverable_check(struct arena *a, const char *id, bool dev_mode, const char **why)
{
    struct url u;
    if (url_parse(a, id, &u) || !u.has_authority) {
        *why = "client_id must be a URL";
        return ERR_INVALID;
    }
    if (strcmp(u.scheme, "https") != 0 && !(dev_mode && strcmp(u.scheme, "http") == 0)) {
        *why = "client_id must be an https URL";
    } else if (u.userinfo) {
        *why = "ClientID must not contain credentials";
    } else if (u.fragment) {
        *why = "ClientID must not contain a fragment";
    } else if (!u.path[0] || strcmp(u.path, "/") == 0) {
        *why = "ClientID must contain a path component (e.g. \"/client-metadata.json\")";
    } else if (u.path[strlen(u.path) - 1] == '/') {
        *why = "ClientID path must not end with a trailing slash";
    } else if (has_dot_segment(u.path)) {
        *why = "ClientID must be in canonical form";
    } else if (!u.host[0] || url_host_is_ip(u.host)) {
        *why = "ClientID hostname must not be an IP address";
    } else if (!strchr(u.host, '.')) {
        *why = "Domain name must contain at least two segments";
    } else if (!dev_mode && u.port) {
        *why = "ClientID must not contain a port";
    } else if (!dev_mode && url_host_is_local(u.host)) {
        *why = "The client_id's TLD must not be a local hostname";
    } else {
        return ERR_OK;
    }
    return ERR_INVALID;
}

enum err oauth_client_id_check(struct arena *a, const char *client_id, bool dev_mode,
                               bool *loopback, const char **why)
{
    *why = NULL;
    *loopback = false;
    if (!client_id || !*client_id || strlen(client_id) > OAUTH_URL_MAX_BYTES) {
        *why = "Invalid client_id";
        return ERR_INVALID;
    }
    if (strncmp(client_id, "http://localhost", strlen(OAUTH_LOOPBACK_ORIGIN)) == 0 &&
        (client_id[16] == '\0' || client_id[16] == '/' || client_id[16] == '?' ||
         client_id[16] == '#' || client_id[16] == ':')) {
        *loopback = true;
        const char *scope, **uris;
        size_t n;
        return loopback_params(a, client_id, &scope, &uris, &n, why);
    }
    return discoverable_check(a, client_id, dev_mode, why);
}

json_t *oauth_loopback_metadata(struct arena *a, const char *client_id, const char **why)
{
    const char *scope, **uris;
    size_t n;
    if (loopback_params(a, client_id, &scope, &uris, &n, why)) {
        return NULL;
    }
    json_t *redirects = json_array();
    if (n == 0) {
        json_array_append_new(redirects, json_string("http://127.0.0.1/"));
        json_array_append_new(redirects, json_string("http://[::1]/"));
    }
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(redirects, json_string(uris[i]));
    }
    return json_pack("{s:s,s:s,s:o,s:[s],s:[s,s],s:s,s:s,s:b}", "client_id", client_id, "scope",
                     scope ? scope : "atproto", "redirect_uris", redirects, "response_types",
                     "code", "grant_types", "authorization_code", "refresh_token",
                     "token_endpoint_auth_method", "none", "application_type", "native",
                     "dpop_bound_access_tokens", 1);
}
