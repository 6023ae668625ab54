/* oauth.h - the OAuth 2.1 authorization server of the atproto profile (digest §10) and the
 * resource-server check of its tokens: what the module holds and the limits it keeps.
 *
 * Files, each with one job:
 *   metadata.c     /.well-known/oauth-{authorization-server,protected-resource}, /oauth/jwks
 *   client_id.c    client_id forms (discoverable https URL, loopback http://localhost)
 *   client_meta.c  validating a client metadata document
 *   client_fetch.c fetching and caching metadata and JWKS (SSRF-safe, bounded)
 *   client_auth.c  client authentication (none, private_key_jwt)
 *   dpop.c         DPoP proofs (RFC 9449); dpop_nonce.c the rotating server nonces
 *   replay.c       single-use values in PostgreSQL (proof and assertion jti, PKCE)
 *   request.c      pushed authorization requests and their codes (state in PostgreSQL)
 *   session.c      granted sessions: access token ids, rotating refresh tokens
 *   access_token.c minting and checking access tokens
 *   par.c, authorize.c, consent.c, token.c, revoke.c   the endpoints
 *   resource.c     checking an OAuth-authenticated XRPC call (used by api/common/auth.c)
 *   include.c      the hook where include: scopes (permission sets) will be expanded
 *   scope_text.c   plain words for each permission (the consent page)
 *   reply.c        OAuth error and JSON answers with the headers every AS answer carries
 *
 * Process-wide state is two keys derived once by oauth_init before the HTTP server starts
 * and read-only afterwards: the access-token signing key and the DPoP nonce secret.
 * Everything else lives in PostgreSQL (migrations/0010_oauth.sql), so any number of
 * processes serve one host. Thread-safe after oauth_init. */
#ifndef PDS_OAUTH_OAUTH_H
#define PDS_OAUTH_OAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct config;
struct db;

#define OAUTH_KEY_BYTES 32

/* Lifetimes. The spec (digest §10.2) asks for access tokens under 30 minutes when they
 * can be revoked: ours are checked against the session row on every call, so revoking
 * works at once; 15 minutes keeps a stolen token short-lived all the same. */
#define OAUTH_ACCESS_TOKEN_TTL_S         (15 * 60)
#define OAUTH_PAR_TTL_S                  (5 * 60) /* reference PAR_EXPIRES_IN */
#define OAUTH_AUTHORIZE_IDLE_S           (5 * 60) /* reference AUTHORIZATION_INACTIVITY_TIMEOUT */
#define OAUTH_CODE_TTL_S                 (5 * 60) /* a code must be exchanged within this */
#define OAUTH_PUBLIC_SESSION_S           (14 * 24 * 3600) /* spec: public clients, 2 weeks */
#define OAUTH_PUBLIC_REFRESH_S           (14 * 24 * 3600)
#define OAUTH_CONFIDENTIAL_SESSION_S     (730 * 24 * 3600) /* reference: 2 years */
#define OAUTH_CONFIDENTIAL_REFRESH_S     (90 * 24 * 3600) /* reference: 3 months (spec: <= 180 d) */
#define OAUTH_CLIENT_ASSERTION_MAX_AGE_S 60               /* reference CLIENT_ASSERTION_MAX_AGE */
#define OAUTH_CODE_CHALLENGE_REPLAY_S    (24 * 3600)      /* reference: one day */
#define OAUTH_SIGN_IN_MAX_AGE_S          (7 * 24 * 3600)  /* reference AUTHENTICATION_MAX_AGE */

/* Sizes of what clients send us (curl's "toobig"): anything longer is refused. */
#define OAUTH_FORM_PARAMS_MAX 64 /* parameters of a PAR or token request */
#define OAUTH_FORM_BODY_MAX   (64 * 1024)
#define OAUTH_STATE_MAX_BYTES 1024 /* state, the reference's limit */
#define OAUTH_URL_MAX_BYTES   2048 /* client_id, redirect_uri, jwks_uri, ... */
#define OAUTH_SCOPE_MAX_BYTES 8192

/* Derives the keys from cfg (PDS_JWT_SECRET; PDS_DPOP_SECRET for nonces when set) under
 * fixed labels, so every process of a host agrees and no key doubles as another.
 * ERR_INVALID without a JWT secret or with a DPoP secret that is not 64 hex digits. */
enum err oauth_init(const struct config *cfg) MUST_CHECK;
void oauth_clear(void);

/* The keys; all zero before oauth_init. */
const uint8_t *oauth_access_key(void);
const uint8_t *oauth_nonce_key(void);

/* Wall clock, seconds. */
int64_t oauth_now(void);

/* Random identifiers: prefix ("req-", "cod-", "ref-", "tok-") and 2*bytes hex digits, in
 * out (capacity at least strlen(prefix) + 2*bytes + 1). */
void oauth_random_id(const char *prefix, size_t bytes, char *out);

/* SHA-256 hex of s (64 digits and a NUL): how codes, refresh tokens and device ids are
 * stored. */
void oauth_hash_hex(const char *s, char out[65]);

/* Runs oauth_sweep() (migrations/0010) when this process has not done so for a minute:
 * called from the busy endpoints, so expired rows go without a thread of their own. */
void oauth_maybe_sweep(struct db *db);

#endif
