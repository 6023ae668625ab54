/* account_ops.h - account state changes shared by the user endpoints (identity.c,
 * server_account_status.c, server_email.c) and the admin API: handles, deactivation,
 * takedown, deletion, emailed tokens and sending mail.
 *
 * Every change commits together with its outbox rows (repo_seq, seq NULL) in one transaction,
 * so the stream never tells of a change that did not happen. Network I/O (PLC directory, DNS,
 * HTTPS, SMTP) always runs outside transactions. Functions taking a struct db run on the
 * caller's connection: the status changes and deletion open their own transaction (so none
 * may be open: db_begin fails), the emit and token functions join the caller's if one is
 * open. Functions taking the request set the XRPC error response themselves and return its
 * status (0 on success).
 * Thread-safe: no shared state beyond app_get()'s resolver, which has its own lock. */
#ifndef PDS_API_ACCOUNT_ACCOUNT_OPS_H
#define PDS_API_ACCOUNT_ACCOUNT_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/syntax.h"
#include "crypto/sigkey.h"
#include "db/db.h"
#include "http/xrpc.h"

struct config;

/* reference (email-token.ts): emailed codes are 10 base32 characters shown as XXXXX-XXXXX,
 * upper case, and expire 15 minutes after they were requested */
#define ACCOUNT_TOKEN_CHARS 11 /* "XXXXX-XXXXX" */
#define ACCOUNT_TOKEN_BUF   (ACCOUNT_TOKEN_CHARS + 1)
#define ACCOUNT_TOKEN_TTL_S (15 * 60)
/* reference: a migrating account created deactivated is deleted after 3 days unless
 * activated; deactivateAccount without deleteAfter keeps the account indefinitely */
#define ACCOUNT_MIGRATION_DELETE_AFTER_S (3 * 24 * 3600)

/* email_token.purpose values (the reference's EmailTokenPurpose, plus our 2FA code) */
#define ACCOUNT_TOKEN_CONFIRM_EMAIL  "confirm_email"
#define ACCOUNT_TOKEN_UPDATE_EMAIL   "update_email"
#define ACCOUNT_TOKEN_RESET_PASSWORD "reset_password"
#define ACCOUNT_TOKEN_DELETE_ACCOUNT "delete_account"
#define ACCOUNT_TOKEN_PLC_OPERATION  "plc_operation"
#define ACCOUNT_TOKEN_2FA            "2fa_code"

/* ---- handles ---------------------------------------------------------------------------- */

/* The reference's message for a handle that breaks the syntax rules (its InvalidHandle
 * messages: "Handle domain needs at least two parts"...), or NULL when the syntax is valid. */
const char *account_handle_syntax_problem(const char *handle);

/* Normalises and validates a handle for account `did` (reference normalizeAndValidateHandle;
 * did NULL for a sign-up without a DID, which may only take a service-domain name: else 400
 * UnsupportedDomain): syntax (400 InvalidHandle with the reference's
 * messages), a disallowed TLD (400 InvalidHandle), and then either the service-domain rules
 * (front 3..18 chars, no dots; reserved names are 400 HandleNotAvailable "Reserved handle"
 * unless allow_any, which the admin API passes) or, for any other domain, resolution of the
 * handle (DNS TXT, then HTTPS well-known; never from the cache) to did, else 400
 * InvalidRequest "External handle did not resolve to DID". In dev mode only, an account may
 * take a .localhost name (proved over http on loopback). out gets the lower-cased handle. */
int account_check_handle(struct xrpc_req *rq, const char *did, const char *handle, bool allow_any,
                         char out[SYNTAX_HANDLE_BUF]);

/* The whole handle change (reference AccountManager.updateHandle): account_check_handle,
 * 400 HandleNotAvailable "Handle already taken: <h>" when another account holds it, then for
 * did:plc an update op signed with our rotation key (the directory's current state with the
 * first at:// alias replaced) POSTed to the directory, for did:web a fresh resolution whose
 * document must already claim the handle (400 InvalidRequest "DID is not properly configured
 * for handle"); then one transaction sets account.handle and adds the #identity row, and the
 * resolver forgets the DID and both handles. Setting the current handle again re-sends
 * #identity (the reference's way to re-announce). 400 InvalidRequest "Account not found"
 * for an unknown DID. On success *out_handle (may be NULL) points to the normalised handle in
 * rq->arena. */
int account_update_handle(struct xrpc_req *rq, const char *did, const char *handle, bool allow_any,
                          const char **out_handle);

/* ---- hosting status -------------------------------------------------------------------- */

/* The account's status as the stream and getRepoStatus state it. */
struct account_state {
    bool exists;
    bool active;
    const char *status; /* NULL when active; "takendown", "deactivated" (static strings) */
};
enum err account_get_state(struct db *db, const char *did, struct account_state *out) MUST_CHECK;

/* Deactivates (deactivated_at = now, delete_after = delete_after_ms, 0 for none) and adds
 * #account {active:false, status} (status "takendown" if the account is also taken down) in
 * the same transaction. Deactivating a deactivated account updates delete_after and emits
 * again (as the reference). ERR_NOT_FOUND: no such account. */
enum err account_deactivate(struct db *db, const char *did, int64_t delete_after_ms) MUST_CHECK;

/* Clears deactivated_at and delete_after and, in the same transaction, adds the activation
 * events: #identity {handle}, #account {active:true}, then an empty commit signed with the
 * account's current key (a #commit with a new rev, as the migration guide asks: an imported
 * repository may end in a commit signed by the previous host's key) and #sync carrying it.
 * A taken-down account only gets #account {active:false, status:"takendown"}.
 * Does not check the DID document: user activation calls account_check_did_doc first; the
 * admin may activate regardless. ERR_NOT_FOUND: no such account. */
enum err account_activate(struct db *db, const char *did) MUST_CHECK;

/* The account's repository signing key as a did:key (public half). 0, or the error status
 * set (500: no such account or a key that cannot be unsealed). */
int account_signing_did_key(struct xrpc_req *rq, const char *did, char out[SIGKEY_DID_KEY_MAX]);

/* The reference's assertValidDidDocumentForService: the DID document (resolved fresh) names
 * our public URL as #atproto_pds and the account's own signing key as #atproto, and for
 * did:plc the directory's rotation keys include ours. 0, or 400 InvalidRequest with the
 * reference's message ("DID document atproto_pds service endpoint does not match PDS
 * public url", "DID document verification method does not match expected signing key",
 * "Server rotation key not included in PLC DID data", "Could not resolve DID"). */
int account_check_did_doc(struct xrpc_req *rq, const char *did);
/* The same check as a boolean, setting no response (checkAccountStatus's validDid). */
bool account_did_doc_is_valid(struct xrpc_req *rq, const char *did);

/* Takedown (admin): ref NULL lifts it. Applying sets takedown_ref, revokes every refresh
 * token of the account and adds #account {active:false, status:"takendown"}; lifting clears
 * it and adds #account with the resulting status ({active:true}, or deactivated). One
 * transaction. ERR_NOT_FOUND: no such account. */
enum err account_set_takedown(struct db *db, const char *did, const char *ref) MUST_CHECK;

/* Deletes the account and everything it owns in one transaction: account row (the handle
 * goes with it, so it is free again), repo_root, repo_block, record, record_blob, blob rows
 * (each blob's bytes queued in blob_gc for the sweeper), preferences, app passwords, refresh
 * tokens, email tokens, invite codes it owns and its invite uses; the account's earlier
 * outbox rows are dropped (outbox_delete_account_events) and #account {active:false,
 * status:"deleted"} is added. The DID document is left as it is (the reference does not
 * tombstone it either). ERR_NOT_FOUND: no such account. */
enum err account_delete(struct db *db, const char *did) MUST_CHECK;

/* ---- outbox rows ------------------------------------------------------------------------ */

/* Add one event row for did on db, inside the caller's transaction (with the change it
 * announces). #identity {did, time, handle} (handle NULL: none); #account {did, time,
 * active, status?} (status NULL when active). */
enum err account_emit_identity(struct db *db, const char *did, const char *handle) MUST_CHECK;
enum err account_emit_account(struct db *db, const char *did, bool active,
                              const char *status) MUST_CHECK;

/* ---- emailed tokens -------------------------------------------------------------------- */

/* A new token for (did, purpose), replacing any earlier one, with requested_at = now.
 * out gets "XXXXX-XXXXX". */
enum err account_token_create(struct db *db, const char *did, const char *purpose,
                              char out[ACCOUNT_TOKEN_BUF]) MUST_CHECK;

/* Checks a token a user typed (case-insensitive, surrounding spaces ignored) against the
 * one stored for (did, purpose). did NULL: find the account by the token alone
 * (resetPassword); *did_out (may be NULL) then gets it, allocated in a. consume: delete the
 * token in the same statement that checks it, so a token works once even under concurrent
 * use (an expired one is deleted too). *result tells the outcome; the return value is only
 * for database failures. */
enum account_token_result {
    ACCOUNT_TOKEN_OK = 0,
    ACCOUNT_TOKEN_INVALID, /* reference: 400 InvalidToken "Token is invalid" */
    ACCOUNT_TOKEN_EXPIRED, /* reference: 400 ExpiredToken "Token is expired" */
};
enum err account_token_check(struct db *db, struct arena *a, const char *did, const char *purpose,
                             const char *token, bool consume, enum account_token_result *result,
                             const char **did_out) MUST_CHECK;
/* Sets the XRPC error of a failed check and returns its status (400). */
int account_token_fail(struct xrpc_req *rq, enum account_token_result result);

/* ---- sign-in and sign-up helpers --------------------------------------------------------- */

/* The second factor of password sign-ins (createSession and the sign-in pages; the reference
 * PDS lacks it, the Bluesky entryway has the email code): a TOTP code when the account
 * turned TOTP on (api/account/totp.h; it wins over the email code), else the emailed code
 * when emailAuthFactor is set, else none. */
enum account_factor {
    ACCOUNT_FACTOR_NONE,
    ACCOUNT_FACTOR_EMAIL,
    ACCOUNT_FACTOR_TOTP,
};
/* 0 with *out, or 500 set. */
int account_sign_in_factor_kind(struct xrpc_req *rq, const char *did, enum account_factor *out);

/* Checks the second factor of a password login of did (token: what the user typed, as
 * createSession's authFactorToken). No factor: 0. TOTP: token NULL or empty answers 401
 * AuthFactorTokenRequired "A code from your authenticator app is required"; a wrong or
 * already used code (or recovery code) is 400 InvalidToken "Token is invalid". Email:
 * token NULL or empty mails a new code (ACCOUNT_TOKEN_2FA) and answers 401
 * AuthFactorTokenRequired "A sign in code has been sent to your email address"; a wrong or
 * expired code is 400 InvalidToken / ExpiredToken; a good one is used up.
 * 0 when the login may proceed, or the error status set. */
int account_sign_in_factor(struct xrpc_req *rq, const char *did, const char *token);

/* A plausible mailbox: local@domain, printable ASCII without spaces or specials, a dotted
 * domain of valid labels, at most 254 bytes. */
bool account_email_valid(const char *email);

/* The signing key this server will use for an account that brings its own DID (migration
 * in, did:web): derived from the seal key and the DID, so reserveSigningKey can announce it
 * before the account exists and createAccount uses the same one, with nothing stored. */
enum err account_reserved_key(const char *did, struct sigkey *out) MUST_CHECK;

/* Service auth for createAccount with a DID: Authorization: Bearer <JWT> signed by the
 * #atproto key of `did`'s document (ES256K or ES256; re-resolved once on a bad signature),
 * iss = did, aud = our service DID, lxm = nsid, not expired. 0, or 401 with the reference's
 * names (BadJwt, BadJwtType, JwtExpired, BadJwtAudience, BadJwtLexiconMethod, BadJwtIss,
 * BadJwtSignature; AuthenticationRequired "Missing auth to create account with did: <did>"
 * without a token or when iss is another DID), or 400 UnresolvableDid when the DID's
 * document gives no key. */
int account_service_auth(struct xrpc_req *rq, const char *did, const char *nsid);

/* ---- mail ------------------------------------------------------------------------------ */

/* Sends one message (multipart/alternative: text and HTML) from PDS_EMAIL_FROM_ADDRESS over
 * PDS_EMAIL_SMTP_URL (smtp:// upgrades with STARTTLS whenever the server offers it and then
 * verifies the certificate, a failed upgrade failing the send rather than falling back to
 * clear text; smtps:// is TLS from the start; see mail/mail.h). ERR_UNSUPPORTED when email is not
 * configured; ERR_UPSTREAM when the server refuses or cannot be reached (logged without secrets).
 * Blocking, bounded by a timeout; call outside transactions. */
enum err account_send_email(const struct config *cfg, const char *to, const char *subject,
                            const char *text, const char *html) MUST_CHECK;

/* The mails this server sends, each in plain text and HTML. */
enum account_mail {
    ACCOUNT_MAIL_CONFIRM_EMAIL,  /* token for confirmEmail */
    ACCOUNT_MAIL_UPDATE_EMAIL,   /* token for updateEmail */
    ACCOUNT_MAIL_RESET_PASSWORD, /* token for resetPassword */
    ACCOUNT_MAIL_DELETE_ACCOUNT, /* token for deleteAccount */
    ACCOUNT_MAIL_PLC_OPERATION,  /* token for signPlcOperation */
    ACCOUNT_MAIL_SIGN_IN,        /* code for createSession's authFactorToken */
};

/* Sends mail `kind` carrying token to `to`; handle (may be NULL) personalises it. 0, or the
 * error status set: 500 when email is not configured or the SMTP server fails (logged). */
int account_mail_token(struct xrpc_req *rq, enum account_mail kind, const char *to,
                       const char *token, const char *handle);

/* A new token for (did, purpose) (account_token_create), mailed as `kind` to `to`.
 * 0, or the error status set. */
int account_mail_new_token(struct xrpc_req *rq, const char *did, const char *purpose,
                           enum account_mail kind, const char *to, const char *handle);

/* The account's email fields, in rq->arena. */
struct account_email {
    const char *email;  /* NULL when none */
    const char *handle; /* NULL when none */
    bool confirmed;
    bool auth_factor;
};
/* 0, or 400 InvalidRequest "account not found" when there is none (500 on a database
 * failure). */
int account_email_load(struct xrpc_req *rq, const char *did, struct account_email *out);

#endif
