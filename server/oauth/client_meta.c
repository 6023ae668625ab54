/* client_meta.c - validating a client metadata document (reference client-manager.ts
 * validateClientMetadata and its discoverable/loopback checks; the messages are its). */
#include "oauth/client.h"

#include <stdio.h>
#include <string.h>

#include "oauth/url.h"

static const char *str_member(const json_t *doc, const char *name, bool *bad)
{
    json_t *v = json_object_get(doc, name);
    if (!v || json_is_null(v)) {
        return NULL;
    }
    const char *s = json_string_value(v);
    if (!s || strlen(s) > OAUTH_METADATA_STRING_MAX) {
        *bad = true;
        return NULL;
    }
    return s;
}

/* A string array member: *n items into an arena array; defaults when absent. */
static bool str_array(struct arena *a, const json_t *doc, const char *name, const char ***out,
                      size_t *n, size_t max)
{
    json_t *v = json_object_get(doc, name);
    *out = NULL;
    *n = 0;
    if (!v) {
        return true;
    }
    if (!json_is_array(v) || json_array_size(v) > max) {
        return false;
    }
    size_t len = json_array_size(v);
    const char **list = arena_alloc(a, (len ? len : 1) * sizeof *list);
    for (size_t i = 0; i < len; i++) {
        const char *s = json_string_value(json_array_get(v, i));
        if (!s || !*s || strlen(s) > OAUTH_METADATA_STRING_MAX) {
            return false;
        }
        list[i] = s;
    }
    *out = list;
    *n = len;
    return true;
}

static bool list_has(const char **l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(l[i], s) == 0) {
            return true;
        }
    }
    return false;
}

static const char *first_duplicate(const char **l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            if (strcmp(l[i], l[j]) == 0) {
                return l[i];
            }
        }
    }
    return NULL;
}

static const char *msg(struct arena *a, const char *fmt, const char *arg)
{
    size_t n = strlen(fmt) + strlen(arg) + 1;
    char *m = arena_alloc(a, n);
    snprintf(m, n, fmt, arg);
    return m;
}

/* The client_id host reversed: com.example.app for app.example.com. */
static const char *reverse_domain(struct arena *a, const char *host)
{
    size_t n = strlen(host);
    char *out = arena_alloc(a, n + 1), *o = out;
    const char *end = host + n;
    while (end > host) {
        const char *dot = end;
        while (dot > host && dot[-1] != '.') {
            dot--;
        }
        memcpy(o, dot, (size_t)(end - dot));
        o += end - dot;
        end = dot > host ? dot - 1 : host;
        if (dot > host) {
            *o++ = '.';
        }
    }
    *o = '\0';
    return out;
}

static const char *check_redirect(struct arena *a, const char *uri, bool native, bool dev_mode,
                                  const struct url *id_url)
{
    struct url u;
    if (url_parse(a, uri, &u)) {
        return msg(a, "Invalid redirect URI %s", uri);
    }
    if (u.userinfo) {
        return msg(a, "Redirect URI %s must not contain credentials", uri);
    }
    if (strcmp(u.host, "localhost") == 0) {
        return msg(a, "Loopback redirect URI %s is not allowed (use explicit IPs instead)", uri);
    }
    if (strcmp(u.host, "127.0.0.1") == 0 || strcmp(u.host, "[::1]") == 0) {
        if (!native) {
            return "Loopback redirect URIs are only allowed for native apps";
        }
        if (strcmp(u.scheme, "http") != 0) {
            return msg(a, "Loopback redirect URI %s must use HTTP", uri);
        }
        return NULL;
    }
    if (strcmp(u.scheme, "http") == 0) {
        return "Only loopback redirect URIs are allowed to use the \"http\" scheme";
    }
    if (strcmp(u.scheme, "https") == 0) {
        if (!u.has_authority || !u.host[0]) {
            return msg(a, "Invalid redirect URI %s", uri);
        }
        if (!dev_mode && url_host_is_local(u.host)) {
            return msg(a, "Redirect URI \"%s\"'s domain name must not be a local hostname", uri);
        }
        return NULL;
    }
    if (strchr(u.scheme, '.')) { /* a private-use scheme (RFC 8252 §7.1) */
        if (!native) {
            return "Private-Use URI Scheme redirect URI are only allowed for native apps";
        }
        /* spec(oauth): the scheme is the client_id host reversed, then ":/" and a path */
        if (id_url && strcmp(u.scheme, reverse_domain(a, id_url->host)) != 0) {
            return msg(a,
                       "Private-Use URI Scheme redirect URI, for discoverable client metadata, "
                       "must be the fully qualified domain name (FQDN) of the client_id, in "
                       "reverse order (%s:)",
                       reverse_domain(a, id_url->host));
        }
        if (u.has_authority || u.path[0] != '/') {
            return msg(a, "Private-Use URI Scheme redirect URI %s must be <scheme>:/<path>", uri);
        }
        return NULL;
    }
    return msg(a, "Invalid redirect URI scheme \"%s:\"", u.scheme);
}

/* client_uri must share the client_id's origin and be a parent of its path. */
static const char *check_client_uri(struct arena *a, const char *client_uri,
                                    const struct url *id_url, bool dev_mode)
{
    struct url u;
    if (url_parse(a, client_uri, &u) || !u.has_authority) {
        return "client_uri must be a URL";
    }
    if (!dev_mode && url_host_is_local(u.host)) {
        return "client_uri hostname is invalid";
    }
    if (!id_url) {
        return NULL;
    }
    if (strcmp(url_origin(a, &u), url_origin(a, id_url)) != 0) {
        return "client_uri must have the same origin as the client_id";
    }
    const char *cp = u.path[0] ? u.path : "/";
    if (strcmp(cp, id_url->path) != 0) {
        size_t n = strlen(cp);
        bool slash = cp[n - 1] == '/';
        if (strncmp(id_url->path, cp, n) != 0 || (!slash && id_url->path[n] != '/')) {
            return "client_uri must be a parent URL of the client_id";
        }
    }
    return NULL;
}

static const char *check_grants(const char **g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(g[i], "implicit") == 0) {
            return "Grant type \"implicit\" is not allowed";
        }
        if (strcmp(g[i], "authorization_code") != 0 && strcmp(g[i], "refresh_token") != 0) {
            return "Unsupported grant type";
        }
    }
    return list_has(g, n, "authorization_code")
               ? NULL
               : "The \"code\" response type requires that \"grant_types\" contains "
                 "\"authorization_code\"";
}

static const char *check_auth_method(const json_t *doc, struct oauth_client *c, bool *bad)
{
    const char *method = str_member(doc, "token_endpoint_auth_method", bad);
    const char *alg = str_member(doc, "token_endpoint_auth_signing_alg", bad);
    json_t *jwks = json_object_get(doc, "jwks");
    c->jwks_uri = str_member(doc, "jwks_uri", bad);
    if (jwks && c->jwks_uri) {
        return "jwks_uri and jwks are mutually exclusive";
    }
    /* OAuth's default method is client_secret_basic, which atproto does not have */
    if (!method || (strcmp(method, "none") != 0 && strcmp(method, "private_key_jwt") != 0)) {
        return "Unsupported client authentication method. Make sure "
               "\"token_endpoint_auth_method\" is set to one of: \"none\", \"private_key_jwt\"";
    }
    if (strcmp(method, "none") == 0) {
        return alg ? "token_endpoint_auth_method \"none\" must not have "
                     "token_endpoint_auth_signing_alg"
                   : NULL;
    }
    c->confidential = true;
    if (!jwks && !c->jwks_uri) {
        return "private_key_jwt auth method requires jwks or jwks_uri";
    }
    if (jwks) {
        json_t *keys = json_object_get(jwks, "keys");
        if (!json_is_array(keys) || json_array_size(keys) == 0) {
            return "private_key_jwt auth method requires at least one key in jwks";
        }
        c->jwks = jwks;
    }
    if (c->jwks_uri && strncmp(c->jwks_uri, "https://", 8) != 0) {
        return "jwks_uri must be an https URL";
    }
    if (!alg) {
        return "Missing token_endpoint_auth_signing_alg client metadata";
    }
    if (strcmp(alg, "ES256") != 0) {
        return "token_endpoint_auth_signing_alg must be ES256";
    }
    return NULL;
}

enum err oauth_client_validate(struct arena *a, const char *client_id, const json_t *doc,
                               bool dev_mode, struct oauth_client *out, const char **why)
{
    memset(out, 0, sizeof *out);
    out->id = client_id;
    bool loopback = false, bad = false;
    if (oauth_client_id_check(a, client_id, dev_mode, &loopback, why)) {
        return ERR_INVALID;
    }
    out->loopback = loopback;
    *why = NULL;
    if (!json_is_object(doc)) {
        *why = "Client metadata must be a JSON object";
        return ERR_INVALID;
    }
    struct url id_url;
    bool have_id_url = !loopback && url_parse(a, client_id, &id_url) == ERR_OK;
    const char *doc_id = str_member(doc, "client_id", &bad);
    const char **resp, **grants, **scopes = NULL;
    size_t n_resp, n_grants, n_scopes = 0;
    const char *app_type = str_member(doc, "application_type", &bad);
    out->scope = str_member(doc, "scope", &bad);
    out->client_name = str_member(doc, "client_name", &bad);
    out->client_uri = str_member(doc, "client_uri", &bad);
    out->logo_uri = str_member(doc, "logo_uri", &bad);
    out->tos_uri = str_member(doc, "tos_uri", &bad);
    out->policy_uri = str_member(doc, "policy_uri", &bad);
    out->native = app_type && strcmp(app_type, "native") == 0;
    static const char *const oidc_only[] = {"default_max_age", "userinfo_signed_response_alg",
                                            "id_token_signed_response_alg",
                                            "userinfo_encrypted_response_alg"};
    if (!str_array(a, doc, "redirect_uris", &out->redirect_uris, &out->n_redirect_uris,
                   OAUTH_REDIRECT_URIS_MAX) ||
        !str_array(a, doc, "response_types", &resp, &n_resp, 8) ||
        !str_array(a, doc, "grant_types", &grants, &n_grants, 8) || bad) {
        *why = "Invalid client metadata: a member has the wrong type or is too long";
        return ERR_INVALID;
    }
    if (!resp) { /* RFC 7591 §2 defaults */
        static const char *code[] = {"code"};
        resp = code;
        n_resp = 1;
    }
    if (!grants) {
        static const char *ac[] = {"authorization_code"};
        grants = ac;
        n_grants = 1;
    }
    out->refresh = list_has(grants, n_grants, "refresh_token");
    if (out->scope) {
        size_t cap = strlen(out->scope) / 2 + 2;
        scopes = arena_alloc(a, cap * sizeof *scopes);
        for (const char *p = out->scope; *p;) {
            size_t len = strcspn(p, " ");
            if (len) {
                scopes[n_scopes++] = arena_strndup(a, p, len);
            }
            p += len;
            p += strspn(p, " ");
        }
    }
    for (size_t i = 0; i < ARRAY_LEN(oidc_only); i++) {
        if (json_object_get(doc, oidc_only[i])) {
            *why = msg(a, "Unsupported \"%s\" parameter", oidc_only[i]);
            return ERR_INVALID;
        }
    }
    const char *dup, *subject = str_member(doc, "subject_type", &bad), *e;
    if (app_type && strcmp(app_type, "web") != 0 && strcmp(app_type, "native") != 0) {
        *why = "application_type must be \"web\" or \"native\"";
    } else if (!loopback && !doc_id) {
        *why = "client_id is required for discoverable clients";
    } else if (doc_id && strcmp(doc_id, client_id) != 0) {
        *why = "client_id does not match";
    } else if (out->client_uri && loopback) {
        *why = "client_uri is not allowed for loopback clients";
    } else if (out->client_uri &&
               (e = check_client_uri(a, out->client_uri, have_id_url ? &id_url : NULL, dev_mode))) {
        *why = e;
    } else if (!out->scope) {
        *why = "Missing scope property";
    } else if (!list_has(scopes, n_scopes, "atproto")) {
        *why = "Missing \"atproto\" scope";
    } else if ((dup = first_duplicate(scopes, n_scopes))) {
        *why = msg(a, "Duplicate scope \"%s\"", dup);
    } else if ((dup = first_duplicate(grants, n_grants))) {
        *why = msg(a, "Duplicate grant type \"%s\"", dup);
    } else if ((e = check_grants(grants, n_grants))) {
        *why = e;
    } else if (subject && strcmp(subject, "public") != 0) {
        *why = "Only \"public\" subject_type is supported";
    } else if ((e = check_auth_method(doc, out, &bad))) {
        *why = e;
    } else if (!json_is_true(json_object_get(doc, "dpop_bound_access_tokens"))) {
        *why = "\"dpop_bound_access_tokens\" must be true";
    } else if (!list_has(resp, n_resp, "code")) {
        *why = "response_types must include \"code\"";
    } else if (json_object_get(doc, "authorization_encrypted_response_enc")) {
        *why = "Encrypted authorization response is not supported";
    } else if (json_is_true(json_object_get(doc, "tls_client_certificate_bound_access_tokens"))) {
        *why = "Mutual-TLS bound access tokens are not supported";
    } else if (out->n_redirect_uris == 0) {
        *why = "At least one redirect_uri is required";
    } else if (out->native && out->confidential) {
        *why = "Native clients must authenticate using \"none\" method";
    } else if (loopback && (!out->native || out->confidential)) {
        *why = "Loopback clients must have application_type \"native\" and use \"none\"";
    } else {
        for (size_t i = 0; i < out->n_redirect_uris && !*why; i++) {
            *why = check_redirect(a, out->redirect_uris[i], out->native, dev_mode,
                                  have_id_url ? &id_url : NULL);
        }
    }
    return *why ? ERR_INVALID : ERR_OK;
}

bool oauth_client_redirect_ok(struct arena *a, const struct oauth_client *c,
                              const char *redirect_uri)
{
    for (size_t i = 0; i < c->n_redirect_uris; i++) {
        const char *allowed = c->redirect_uris[i];
        if (strcmp(allowed, redirect_uri) == 0) {
            return true;
        }
        /* spec(RFC 8252 §7.3): a loopback IP URI registered without a port allows any */
        struct url au, ru;
        if (url_parse(a, allowed, &au) || url_parse(a, redirect_uri, &ru)) {
            continue;
        }
        bool loop = strcmp(au.host, "127.0.0.1") == 0 || strcmp(au.host, "[::1]") == 0;
        const char *ap = au.path[0] ? au.path : "/", *rp = ru.path[0] ? ru.path : "/";
        if (loop && !au.port && strcmp(au.scheme, ru.scheme) == 0 &&
            strcmp(au.host, ru.host) == 0 && strcmp(ap, rp) == 0 && !ru.userinfo &&
            ((!au.query && !ru.query) || (au.query && ru.query && !strcmp(au.query, ru.query))) &&
            !ru.fragment) {
            return true;
        }
    }
    return false;
}

bool oauth_client_scope_ok(struct arena *a, const struct oauth_client *c, const char *scope,
                           const char **bad)
{
    *bad = NULL;
    for (const char *p = scope; *p;) {
        size_t len = strcspn(p, " ");
        if (len) {
            bool found = false;
            for (const char *q = c->scope; *q && !found;) {
                size_t l2 = strcspn(q, " ");
                found = l2 == len && memcmp(p, q, len) == 0;
                q += l2;
                q += strspn(q, " ");
            }
            if (!found) {
                *bad = arena_strndup(a, p, len);
                return false;
            }
        }
        p += len;
        p += strspn(p, " ");
    }
    return true;
}
