/* account_handle.c - handle validation and changes, PLC document updates made with our
 * rotation key, and the check that a DID document points at this server (account_ops.h). */
#include "api/account/account_ops.h"

#include <ctype.h>
#include <string.h>

#include "api/common/app.h"
#include "api/server/server_common.h"
#include "identity/did_doc.h"
#include "identity/plc_client.h"
#include "identity/resolver.h"
#include "config/config.h"

#define HANDLE_FRONT_MIN 3 /* reference: the name before a service domain, in chars */
#define HANDLE_FRONT_MAX 18
#define HANDLE_LABEL_MAX 63 /* spec(handle): DNS label limit */

/* Names under our service domains that nobody may take (admin may, with allow_any): the
 * protocol's own words and the names people expect a host to control. Ours, not the
 * reference's (much longer) list. */
static const char *const reserved_names[] = {
    "abuse",      "account",   "accounts", "admin",    "administrator", "api",      "app",
    "atp",        "atproto",   "auth",     "billing",  "blog",          "bluesky",  "bsky",
    "cdn",        "contact",   "did",      "dns",      "docs",          "email",    "feed",
    "feeds",      "firehose",  "ftp",      "handle",   "help",          "host",     "hostmaster",
    "imap",       "info",      "lex",      "lexicon",  "login",         "mail",     "media",
    "moderation", "mx",        "news",     "noc",      "noreply",       "no-reply", "nsid",
    "oauth",      "official",  "pds",      "plc",      "pop",           "pop3",     "postmaster",
    "relay",      "repo",      "root",     "security", "server",        "service",  "signup",
    "smtp",       "staff",     "status",   "support",  "sysadmin",      "system",   "team",
    "tid",        "webmaster", "www",      "xrpc",
};

static bool is_reserved(const char *front, size_t n)
{
    for (size_t i = 0; i < ARRAY_LEN(reserved_names); i++) {
        if (strlen(reserved_names[i]) == n && memcmp(reserved_names[i], front, n) == 0) {
            return true;
        }
    }
    return false;
}

/* The reference's message for a handle that fails the syntax rules, or NULL when valid. */
const char *account_handle_syntax_problem(const char *h)
{
    size_t n = strlen(h), start = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!(isalnum((unsigned char)c) || c == '-' || c == '.')) {
            return "Disallowed characters in handle (ASCII letters, digits, dashes, periods only)";
        }
    }
    if (n > SYNTAX_HANDLE_MAX_LEN) {
        return "Handle is too long (253 chars max)";
    }
    if (!strchr(h, '.')) {
        return "Handle domain needs at least two parts";
    }
    while (start <= n) {
        const char *dot = strchr(h + start, '.');
        size_t end = dot ? (size_t)(dot - h) : n;
        if (end == start) {
            return "Handle parts can not be empty";
        }
        if (end - start > HANDLE_LABEL_MAX) {
            return "Handle part too long (max 63 chars)";
        }
        if (h[start] == '-' || h[end - 1] == '-') {
            return "Handle parts can not start or end with hyphens";
        }
        if (end == n && !isalpha((unsigned char)h[start])) {
            return "Handle final component (TLD) must start with ASCII letter";
        }
        start = end + 1;
    }
    return syntax_handle_valid(bytes_str(h)) ? NULL : "Invalid handle";
}

/* The service domain h ends with, or NULL. */
static const char *service_domain(const struct config *cfg, const char *h)
{
    size_t n = strlen(h);
    for (size_t i = 0; i < cfg->handle_domains.len; i++) {
        const char *d = cfg->handle_domains.items[i];
        size_t dl = strlen(d);
        if (dl < n && strcmp(h + n - dl, d) == 0) {
            return d;
        }
    }
    return NULL;
}

int account_check_handle(struct xrpc_req *rq, const char *did, const char *handle, bool allow_any,
                         char out[SYNTAX_HANDLE_BUF])
{
    const char *why = account_handle_syntax_problem(handle);
    if (why || syntax_handle_normalize(bytes_str(handle), out, SYNTAX_HANDLE_BUF)) {
        return xrpc_fail(rq, 400, "InvalidHandle", "%s", why ? why : "Invalid handle");
    }
    /* reference: .test is allowed (it never resolves in production anyway). Ours: in dev
     * mode an existing account may also take a .localhost name, which the resolver proves
     * over plain HTTP on loopback (resolver.h), so the whole flow runs on one machine. */
    size_t n = strlen(out);
    bool dev_local = rq->cfg->dev_mode && did && n > 10 && strcmp(out + n - 10, ".localhost") == 0;
    if (!dev_local && syntax_handle_is_disallowed_tld(bytes_str(out), true)) {
        return xrpc_fail(rq, 400, "InvalidHandle", "Handle TLD is invalid or disallowed");
    }
    const char *domain = service_domain(rq->cfg, out);
    if (domain) {
        size_t front = strlen(out) - strlen(domain);
        if (memchr(out, '.', front)) {
            return xrpc_fail(rq, 400, "InvalidHandle", "Invalid characters in handle");
        }
        if (front < HANDLE_FRONT_MIN) {
            return xrpc_fail(rq, 400, "InvalidHandle", "Handle too short");
        }
        if (front > HANDLE_FRONT_MAX) {
            return xrpc_fail(rq, 400, "InvalidHandle", "Handle too long");
        }
        if (!allow_any && is_reserved(out, front)) {
            return xrpc_fail(rq, 400, "HandleNotAvailable", "Reserved handle");
        }
        return 0;
    }
    /* a new account without a DID must take a name under one of our domains */
    if (!did) {
        return xrpc_fail(rq, 400, "UnsupportedDomain", "Not a supported handle domain");
    }
    char got[RESOLVER_DID_MAX];
    rq->log.action = "resolving a handle";
    enum err e = resolver_resolve_handle(app_get()->resolver, out, true, got);
    rq->log.action = NULL;
    if (e || strcmp(got, did) != 0) {
        log_info(&rq->log, "handle \"%s\" does not resolve to %s (%s)", out, did,
                 e ? err_str(e) : got);
        return xrpc_fail(rq, 400, "InvalidRequest", "External handle did not resolve to DID");
    }
    return 0;
}

/* Builds, signs and submits an update of did's PLC document from its current state with
 * `handle` as the first at:// alias. 0 or the error status already set. */
static int plc_update_handle(struct xrpc_req *rq, const char *did, const char *handle)
{
    struct plc_client pc = {rq->cfg->did_plc_url, (long)rq->cfg->id_resolver_timeout_ms};
    struct plc_op state = {0}, last = {0};
    struct cid prev;
    char prev_str[CID_STR_MAX], msg[PLC_ERROR_MESSAGE_MAX] = "";
    int st = 0;
    rq->log.action = "updating the PLC document";
    enum err e = plc_get_data(&pc, did, &state);
    if (!e) {
        e = plc_get_last_op(&pc, did, &last, &prev);
    }
    if (e == ERR_NOT_FOUND || (!e && last.type == PLC_OP_TOMBSTONE)) {
        st = xrpc_fail(rq, 400, "InvalidRequest", "Did is tombstoned");
        goto out;
    }
    if (e) {
        log_warn(&rq->log, "could not read the PLC state of %s: %s", did, err_str(e));
        st = xrpc_fail(rq, 502, "UpstreamFailure", "Could not reach the PLC directory");
        goto out;
    }
    cid_format(&prev, prev_str);
    json_t *j = NULL;
    if ((e = plc_op_set_handle(&state, handle)) || (e = plc_op_set_prev(&state, prev_str)) ||
        (e = plc_op_sign(&state, &app_get()->rotation_key))) {
        log_error(&rq->log, "could not sign a PLC update for %s: %s", did, err_str(e));
        st = xrpc_fail(rq, 500, NULL, NULL);
        goto out;
    }
    j = plc_op_to_json(&state);
    e = plc_submit(&pc, did, j, msg);
    json_decref(j);
    if (e == ERR_INVALID) {
        /* typically: our rotation key is no longer among the document's */
        log_warn(&rq->log, "PLC directory refused a handle update of %s: %s", did, msg);
        st = xrpc_fail(rq, 400, "InvalidRequest", "The PLC directory refused the update: %s", msg);
    } else if (e) {
        st = xrpc_fail(rq, 502, "UpstreamFailure", "Could not reach the PLC directory");
    }
out:
    rq->log.action = NULL;
    plc_op_clear(&state);
    plc_op_clear(&last);
    return st;
}

/* UPDATE account SET handle plus the #identity row, in one transaction. ERR_CONFLICT: the
 * handle was taken meanwhile. */
static enum err store_handle(struct db *db, const char *did, const char *handle)
{
    enum err e = db_begin(db);
    if (e) {
        return e;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, handle);
    int64_t n = 0;
    e = db_exec(db, "UPDATE account SET handle = $2 WHERE did = $1", &p, &n);
    if (!e && n == 0) {
        e = ERR_NOT_FOUND;
    }
    if (!e) {
        e = account_emit_identity(db, did, handle);
    }
    if (!e) {
        e = db_commit(db);
    }
    if (e) {
        db_rollback(db);
    }
    return e;
}

int account_update_handle(struct xrpc_req *rq, const char *did, const char *handle, bool allow_any,
                          const char **out_handle)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT handle FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Account not found");
    }
    const char *old = db_col_text(r, 0, 0);
    char *norm = arena_alloc(rq->arena, SYNTAX_HANDLE_BUF);
    int st = account_check_handle(rq, did, handle, allow_any, norm);
    if (st) {
        return st;
    }
    db_params_init(&p);
    db_param_text(&p, norm);
    db_param_text(&p, did);
    if (db_query_in(rq->db, rq->arena, "SELECT 1 FROM account WHERE handle = $1 AND did <> $2", &p,
                    &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) > 0) {
        return xrpc_fail(rq, 400, "HandleNotAvailable", "Handle already taken: %s", norm);
    }
    struct resolver *res = app_get()->resolver;
    if (strncmp(did, "did:plc:", 8) == 0) {
        if ((st = plc_update_handle(rq, did, norm))) {
            return st;
        }
    } else {
        struct did_doc doc = {0};
        enum err e = resolver_resolve_atproto(res, did, true, &doc);
        bool ok = !e && doc.handle && strcmp(doc.handle, norm) == 0;
        did_doc_clear(&doc);
        if (!ok) {
            return xrpc_fail(rq, 400, "InvalidRequest",
                             "DID is not properly configured for handle");
        }
    }
    enum err e = store_handle(rq->db, did, norm);
    if (e == ERR_CONFLICT) {
        return xrpc_fail(rq, 400, "HandleNotAvailable", "Handle already taken: %s", norm);
    }
    if (e) {
        log_error(&rq->log, "could not store the handle of %s: %s", did, err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    resolver_forget_did(res, did);
    resolver_forget_handle(res, norm);
    if (old) {
        resolver_forget_handle(res, old);
    }
    log_info(&rq->log, "handle of %s is now %s", did, norm);
    if (out_handle) {
        *out_handle = norm;
    }
    return 0;
}

static enum err signing_did_key(struct db *db, const char *did, char out[SIGKEY_DID_KEY_MAX])
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    enum err e = db_query(db, "SELECT signing_key FROM account WHERE did = $1", &p, &r);
    if (e) {
        return e;
    }
    struct sigkey key;
    e = PQntuples(r) == 0 ? ERR_NOT_FOUND : app_unseal_signing_key(db_col_bytes(r, 0, 0), &key);
    PQclear(r);
    if (!e) {
        sigkey_did_key(&key, out);
        sigkey_clear(&key);
    }
    return e;
}

int account_signing_did_key(struct xrpc_req *rq, const char *did, char out[SIGKEY_DID_KEY_MAX])
{
    enum err e = signing_did_key(rq->db, did, out);
    if (e) {
        log_error(&rq->log, "signing key of %s is missing or cannot be unsealed: %s", did,
                  err_str(e));
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

/* What the DID document gets wrong for this server (reference assertValidDocContents), or
 * NULL when it points here with our keys. ERR_* only for our own failures. */
static enum err did_doc_problem(struct xrpc_req *rq, const char *did, const char **problem)
{
    char ours[SIGKEY_DID_KEY_MAX], rotation[SIGKEY_DID_KEY_MAX], theirs[SIGKEY_DID_KEY_MAX] = "";
    enum err e = signing_did_key(rq->db, did, ours);
    if (e) {
        return e;
    }
    sigkey_did_key(&app_get()->rotation_key, rotation);
    const char *endpoint = NULL;
    bool has_rotation = true;
    struct plc_op state = {0};
    struct did_doc doc = {0};
    if (strncmp(did, "did:plc:", 8) == 0) {
        /* the directory's data, as the reference: it also lists the rotation keys */
        struct plc_client pc = {rq->cfg->did_plc_url, (long)rq->cfg->id_resolver_timeout_ms};
        e = plc_get_data(&pc, did, &state);
        has_rotation = false;
        for (size_t i = 0; !e && i < state.n_rotation_keys; i++) {
            has_rotation |= strcmp(state.rotation_keys[i], rotation) == 0;
        }
        for (size_t i = 0; !e && i < state.n_services; i++) {
            if (strcmp(state.services[i].name, DID_DOC_PDS_SERVICE_ID) == 0) {
                endpoint = state.services[i].endpoint;
            }
        }
        for (size_t i = 0; !e && i < state.n_verification_methods; i++) {
            if (strcmp(state.verification_methods[i].name, DID_DOC_KEY_ID) == 0) {
                snprintf(theirs, sizeof(theirs), "%s", state.verification_methods[i].did_key);
            }
        }
    } else {
        e = resolver_resolve_atproto(app_get()->resolver, did, true, &doc);
        if (!e) {
            endpoint = doc.pds_endpoint;
            if (doc.has_signing_key) {
                sigkey_did_key(&doc.signing_key, theirs);
            }
        }
    }
    *problem = NULL;
    if (e) {
        log_info(&rq->log, "could not resolve %s: %s", did, err_str(e));
        *problem = "Could not resolve DID";
    } else if (!has_rotation) {
        *problem = "Server rotation key not included in PLC DID data";
    } else if (!endpoint || strcmp(endpoint, rq->cfg->public_url) != 0) {
        *problem = "DID document atproto_pds service endpoint does not match PDS public url";
    } else if (strcmp(theirs, ours) != 0) {
        *problem = "DID document verification method does not match expected signing key";
    }
    plc_op_clear(&state);
    did_doc_clear(&doc);
    return ERR_OK;
}

int account_check_did_doc(struct xrpc_req *rq, const char *did)
{
    const char *problem;
    if (did_doc_problem(rq, did, &problem)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return problem ? xrpc_fail(rq, 400, "InvalidRequest", "%s", problem) : 0;
}

bool account_did_doc_is_valid(struct xrpc_req *rq, const char *did)
{
    const char *problem;
    return did_doc_problem(rq, did, &problem) == ERR_OK && problem == NULL;
}
