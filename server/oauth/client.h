/* client.h - an OAuth client as this server knows it: identified by its client_id URL (a
 * discoverable https URL serving its metadata document, or the loopback development client
 * http://localhost?...), described by a metadata document we validate as the atproto
 * profile and the reference require (digest §10.1). This header holds the checks that need
 * no I/O; client_fetch.h gets documents, client_auth.h authenticates requests.
 * Pure; results in the caller's arena; thread-safe. */
#ifndef PDS_OAUTH_CLIENT_H
#define PDS_OAUTH_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"

#define OAUTH_LOOPBACK_ORIGIN     "http://localhost"
#define OAUTH_REDIRECT_URIS_MAX   20
#define OAUTH_METADATA_STRING_MAX 2048 /* any string member of a metadata document */

struct oauth_client {
    const char *id;
    bool loopback;     /* the development client http://localhost?... */
    bool confidential; /* token_endpoint_auth_method "private_key_jwt" */
    bool native;       /* application_type "native" (else "web") */
    bool refresh;      /* grant_types has "refresh_token" */
    bool trusted;      /* listed in PDS_OAUTH_TRUSTED_CLIENTS (set by the caller) */
    const char *scope; /* the declared scope string */
    const char **redirect_uris;
    size_t n_redirect_uris;
    const char *client_name, *client_uri, *logo_uri, *tos_uri, *policy_uri; /* or NULL */
    const char *jwks_uri; /* confidential clients: this or jwks */
    const json_t *jwks;   /* borrowed from the document (the caller keeps it alive) */
};

/* Which form client_id has. ERR_INVALID (with *why) unless it is the loopback form
 * (http://localhost, optionally "/", optional query: scope once, redirect_uri any number of
 * times, each an http://127.0.0.1 or http://[::1] URL) or a discoverable one: an https URL
 * with a path other than "/" and no trailing "/", no credentials, no fragment, a host name
 * (not an IP) of at least two labels, no dot segments; outside dev mode also no port and
 * no local name (.test, .localhost, ...). dev_mode allows http for the discoverable form. */
enum err oauth_client_id_check(struct arena *a, const char *client_id, bool dev_mode,
                               bool *loopback, const char **why) MUST_CHECK;

/* The metadata of a loopback client_id (reference atprotoLoopbackClientMetadata): its scope
 * (default "atproto"), redirect_uris (default http://127.0.0.1/ and http://[::1]/), native,
 * auth method none, both grant types, DPoP-bound. Caller json_decref's. NULL with *why for
 * an invalid id. */
json_t *oauth_loopback_metadata(struct arena *a, const char *client_id, const char **why);

/* Validates doc, the metadata of client_id, and fills *out (strings borrowed from doc,
 * arrays in the arena). ERR_INVALID with *why (static text or in the arena) for any breach
 * of the rules: client_id equal to the URL; redirect_uris (at least one; web: https on a
 * public name; native: http loopback IPs, https, or the private-use scheme that is the
 * client_id host reversed, "com.example.app:/cb"; never "localhost"; no credentials);
 * response_types with "code"; grant_types of authorization_code and refresh_token only,
 * with authorization_code; a scope with "atproto" and no repeats; auth method none (no
 * signing alg) or private_key_jwt (alg ES256, exactly one of jwks and jwks_uri (https));
 * native clients use none; dpop_bound_access_tokens true; client_uri on the client_id's
 * origin and a parent of its path; OIDC-only members refused; loopback clients native,
 * none, without client_uri. dev_mode relaxes the public-name rules (local names, ports). */
enum err oauth_client_validate(struct arena *a, const char *client_id, const json_t *doc,
                               bool dev_mode, struct oauth_client *out,
                               const char **why) MUST_CHECK;

/* Whether redirect_uri is one of the client's (exact match; for a registered loopback IP
 * URI without a port, any port: RFC 8252 §7.3). */
bool oauth_client_redirect_ok(struct arena *a, const struct oauth_client *c,
                              const char *redirect_uri);

/* Whether every space-separated value of scope is declared in the client's scope. *bad
 * gets the first undeclared value (in the arena). */
bool oauth_client_scope_ok(struct arena *a, const struct oauth_client *c, const char *scope,
                           const char **bad);

#endif
