/* mig_signin.h - the host an account moves away from, for a move into this server started
 * from the page (mig_api.c) or by the operator (mig_admin.c): where the account lives (its
 * DID document's PDS) and signing in there (its createSession). Here are the lookups and
 * what their answers mean; each caller tells its own reader what to do about them.
 * Thread-safe: the app's resolver, one HTTP call per sign-in. */
#ifndef PDS_API_MIGRATE_MIG_SIGNIN_H
#define PDS_API_MIGRATE_MIG_SIGNIN_H

#include <stdbool.h>

#include "api/migrate/mig_http.h"
#include "core/arena.h"
#include "identity/resolver.h"

enum mig_locate_result {
    MIG_LOCATE_OK,
    MIG_LOCATE_BAD_DID,    /* "did:..." that is not a valid DID */
    MIG_LOCATE_BAD_HANDLE, /* not a valid handle */
    MIG_LOCATE_NO_HANDLE,  /* a handle that does not resolve */
    MIG_LOCATE_NO_DID,     /* a DID whose document could not be read */
    MIG_LOCATE_NO_PDS,     /* a DID document that names no PDS */
};

/* The account ident names (a DID, or a handle, which is lower-cased) into did, and what its
 * DID document says, read afresh: the PDS into *pds and the handle into *handle (NULL when
 * none; both in arena a). did is set from MIG_LOCATE_NO_DID on. */
enum mig_locate_result mig_locate(struct arena *a, const char *ident, char did[RESOLVER_DID_MAX],
                                  char **pds, char **handle);

enum mig_signin_result {
    MIG_SIGNIN_OK,             /* a session of the account: out holds it */
    MIG_SIGNIN_UNREACHABLE,    /* no answer came (out->why says why, for the log) */
    MIG_SIGNIN_NEED_CODE,      /* 401 AuthFactorTokenRequired: the host has emailed a code */
    MIG_SIGNIN_WRONG_PASSWORD, /* any other 401 */
    MIG_SIGNIN_REFUSED,        /* another 4xx naming an XRPC error (out->error, out->message) */
    MIG_SIGNIN_BAD_ANSWER,     /* an answer that is not a session (out->error, out->message) */
    MIG_SIGNIN_WRONG_ACCOUNT,  /* a session, but of another DID */
};

/* The old host's session. access and refresh are secrets (wiped by the clear); all four are
 * malloc'd or NULL. */
struct mig_remote_session {
    char *access, *refresh, *handle, *email;
    char error[MIG_HTTP_ERROR_MAX];     /* the host's XRPC error name, or "" */
    char message[MIG_HTTP_MESSAGE_MAX]; /* its message, or "" */
    char why[160];                      /* transport failure, for the log */
};

/* createSession at url for did with password (and the emailed code, when not NULL or "").
 * ssrf_protect as mig_http_req's. The password never stays in memory we freed. out is
 * cleared first and holds the session only on MIG_SIGNIN_OK. */
enum mig_signin_result mig_sign_in_old(const char *url, const char *did, const char *password,
                                       const char *code, bool ssrf_protect,
                                       struct mig_remote_session *out);

/* Wipes the secrets and frees; safe on a zeroed or cleared session. */
void mig_remote_session_clear(struct mig_remote_session *s);

#endif
