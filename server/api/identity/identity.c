/* identity.c - com.atproto.identity.*: handle resolution and updates, the PLC operation
 * flow (recommended credentials, emailed token, signing, submitting), and DID / identity
 * resolution through the server's resolver cache. */
#include <stdlib.h>
#include <string.h>

#include "api/account/account_ops.h"
#include "api/identity/identity.h"
#include "api/common/app.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "identity/did_doc.h"
#include "identity/plc_client.h"
#include "identity/resolver.h"
#include "config/config.h"

#define INVALID_HANDLE "handle.invalid"

/* The account's handle (NULL when none). 0 or the status set. */
static int handle_of(struct xrpc_req *rq, const char *did, const char **handle)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT handle FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *handle = PQntuples(r) == 1 ? db_col_text(r, 0, 0) : NULL;
    return 0;
}

/* ---- handles --------------------------------------------------------------------------- */

/* com.atproto.identity.resolveHandle */
int api_identity_resolve_handle(struct xrpc_req *rq)
{
    const char *in;
    int st = xrpc_param_str(rq, "handle", true, &in);
    if (st) {
        return st;
    }
    char handle[SYNTAX_HANDLE_BUF];
    const char *why = account_handle_syntax_problem(in);
    if (why || syntax_handle_normalize(bytes_str(in), handle, sizeof(handle))) {
        return xrpc_fail(rq, 400, "InvalidHandle", "%s", why ? why : "Invalid handle");
    }
    /* our own accounts from the database: active ones only, as the reference's getAccount */
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, handle);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT did FROM account WHERE handle = $1 AND deactivated_at IS NULL"
                    " AND takedown_ref IS NULL",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 1) {
        return xrpc_reply_json(rq, 200, json_pack("{s:s}", "did", db_col_text(r, 0, 0)));
    }
    size_t n = strlen(handle);
    for (size_t i = 0; i < rq->cfg->handle_domains.len; i++) {
        const char *d = rq->cfg->handle_domains.items[i];
        size_t dl = strlen(d);
        /* a name under one of our domains (or the bare domain) can only be ours */
        if ((dl < n && strcmp(handle + n - dl, d) == 0) || strcmp(handle, d + 1) == 0) {
            return xrpc_fail(rq, 400, "HandleNotFound", "Unable to resolve handle");
        }
    }
    char did[RESOLVER_DID_MAX];
    rq->log.action = "resolving a handle";
    enum err e = resolver_resolve_handle(app_get()->resolver, handle, false, did);
    rq->log.action = NULL;
    if (e) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Unable to resolve handle");
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "did", did));
}

/* com.atproto.identity.updateHandle */
int api_identity_update_handle(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *handle;
    int st;
    if ((st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH | AUTH_CHECK_TAKEDOWN, &a)) ||
        (st = auth_permit_identity(rq, a, SCOPE_IDENTITY_HANDLE)) ||
        (st = input_require_object(rq)) || (st = input_str(rq, "handle", true, &handle))) {
        return st;
    }
    rq->log.did = a->did;
    if ((st = account_update_handle(rq, a->did, handle, false, NULL))) {
        return st;
    }
    return xrpc_reply_empty(rq, 200);
}

/* ---- PLC operations -------------------------------------------------------------------- */

/* com.atproto.identity.getRecommendedDidCredentials */
int api_identity_get_recommended_did_credentials(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH, &a);
    char key[SIGKEY_DID_KEY_MAX], rotation[SIGKEY_DID_KEY_MAX];
    if (st || (st = account_signing_did_key(rq, a->did, key))) {
        return st;
    }
    const char *handle;
    if ((st = handle_of(rq, a->did, &handle))) {
        return st;
    }
    sigkey_did_key(&app_get()->rotation_key, rotation);
    json_t *keys = json_array();
    if (rq->cfg->recovery_did_key) {
        json_array_append_new(keys, json_string(rq->cfg->recovery_did_key));
    }
    json_array_append_new(keys, json_string(rotation));
    json_t *body =
        json_pack("{s:o, s:{s:s}, s:{s:{s:s, s:s}}}", "rotationKeys", keys, "verificationMethods",
                  DID_DOC_KEY_ID, key, "services", DID_DOC_PDS_SERVICE_ID, "type", DID_DOC_PDS_TYPE,
                  "endpoint", rq->cfg->public_url);
    if (handle) {
        char *aka = arena_alloc(rq->arena, strlen(handle) + 6);
        snprintf(aka, strlen(handle) + 6, "at://%s", handle);
        json_object_set_new(body, "alsoKnownAs", json_pack("[s]", aka));
    }
    return xrpc_reply_json(rq, 200, body);
}

/* The account's email and handle; *email NULL when it has none. 0 or the status set. */
static int account_email(struct xrpc_req *rq, const char *did, const char **email,
                         const char **handle)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT email, handle FROM account WHERE did = $1", &p,
                    &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r) == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account not found");
    }
    *email = db_col_text(r, 0, 0);
    *handle = db_col_text(r, 0, 1);
    if (!*email) {
        return xrpc_fail(rq, 400, "InvalidRequest", "account does not have an email address");
    }
    return 0;
}

/* com.atproto.identity.requestPlcOperationSignature */
int api_identity_request_plc_operation_signature(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *email, *handle;
    int st = auth_access(rq, AUTH_FULL | AUTH_TAKENDOWN | AUTH_OAUTH, &a);
    if (st || (st = auth_permit_identity(rq, a, SCOPE_IDENTITY_ALL)) ||
        (st = account_email(rq, a->did, &email, &handle))) {
        return st;
    }
    rq->log.did = a->did;
    char token[ACCOUNT_TOKEN_BUF];
    if (account_token_create(rq->db, a->did, ACCOUNT_TOKEN_PLC_OPERATION, token)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if ((st = account_mail_token(rq, ACCOUNT_MAIL_PLC_OPERATION, email, token, handle))) {
        return st;
    }
    return xrpc_reply_empty(rq, 200);
}

/* Copies the op's fields that the input does not replace, and the input's where given.
 * ERR_INVALID when an input field has the wrong shape or breaks the op's rules. */
static enum err apply_input(const json_t *in, const struct plc_op *cur, struct plc_op *op)
{
    enum err e = ERR_OK;
    const json_t *keys = json_object_get(in, "rotationKeys");
    const json_t *aka = json_object_get(in, "alsoKnownAs");
    const json_t *vms = json_object_get(in, "verificationMethods");
    const json_t *svcs = json_object_get(in, "services");
    if ((keys && !json_is_array(keys)) || (aka && !json_is_array(aka)) ||
        (vms && !json_is_object(vms)) || (svcs && !json_is_object(svcs))) {
        return ERR_INVALID;
    }
    size_t i;
    const json_t *v;
    const char *name;
    if (keys) {
        json_array_foreach(keys, i, v)
        {
            e = e                   ? e
                : json_is_string(v) ? plc_op_add_rotation_key(op, json_string_value(v))
                                    : ERR_INVALID;
        }
    }
    for (i = 0; !keys && !e && i < cur->n_rotation_keys; i++) {
        e = plc_op_add_rotation_key(op, cur->rotation_keys[i]);
    }
    if (aka) {
        json_array_foreach(aka, i, v)
        {
            e = e                   ? e
                : json_is_string(v) ? plc_op_add_also_known_as(op, json_string_value(v))
                                    : ERR_INVALID;
        }
    }
    for (i = 0; !aka && !e && i < cur->n_also_known_as; i++) {
        e = plc_op_add_also_known_as(op, cur->also_known_as[i]);
    }
    if (vms) {
        json_object_foreach((json_t *)vms, name, v)
        {
            e = e                   ? e
                : json_is_string(v) ? plc_op_set_verification_method(op, name, json_string_value(v))
                                    : ERR_INVALID;
        }
    }
    for (i = 0; !vms && !e && i < cur->n_verification_methods; i++) {
        e = plc_op_set_verification_method(op, cur->verification_methods[i].name,
                                           cur->verification_methods[i].did_key);
    }
    if (svcs) {
        json_object_foreach((json_t *)svcs, name, v)
        {
            const char *type = json_string_value(json_object_get(v, "type"));
            const char *endpoint = json_string_value(json_object_get(v, "endpoint"));
            e = e                  ? e
                : type && endpoint ? plc_op_set_service(op, name, type, endpoint)
                                   : ERR_INVALID;
        }
    }
    for (i = 0; !svcs && !e && i < cur->n_services; i++) {
        e = plc_op_set_service(op, cur->services[i].name, cur->services[i].type,
                               cur->services[i].endpoint);
    }
    return e;
}

/* com.atproto.identity.signPlcOperation */
int api_identity_sign_plc_operation(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *token;
    int st;
    if ((st = auth_access(rq, AUTH_FULL | AUTH_TAKENDOWN | AUTH_OAUTH, &a)) ||
        (st = auth_permit_identity(rq, a, SCOPE_IDENTITY_ALL)) || (st = input_require_object(rq)) ||
        (st = input_str(rq, "token", false, &token))) {
        return st;
    }
    rq->log.did = a->did;
    if (!token || !*token) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "email confirmation token required to sign PLC operations");
    }
    enum account_token_result tr;
    if (account_token_check(rq->db, rq->arena, a->did, ACCOUNT_TOKEN_PLC_OPERATION, token, true,
                            &tr, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (tr != ACCOUNT_TOKEN_OK) {
        return account_token_fail(rq, tr);
    }
    if (strncmp(a->did, "did:plc:", 8) != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Only a did:plc has PLC operations");
    }
    struct plc_client pc = {rq->cfg->did_plc_url, (long)rq->cfg->id_resolver_timeout_ms};
    struct plc_op cur = {0}, last = {0}, op;
    struct cid prev;
    char prev_str[CID_STR_MAX];
    plc_op_init(&op, PLC_OP_OPERATION);
    rq->log.action = "reading the PLC state";
    enum err e = plc_get_last_op(&pc, a->did, &last, &prev);
    if (!e && last.type != PLC_OP_TOMBSTONE) {
        e = plc_get_data(&pc, a->did, &cur);
    }
    rq->log.action = NULL;
    if (e == ERR_NOT_FOUND || (!e && last.type == PLC_OP_TOMBSTONE)) {
        st = xrpc_fail(rq, 400, "InvalidRequest", "Did is tombstoned");
    } else if (e) {
        st = xrpc_fail(rq, 502, "UpstreamFailure", "Could not reach the PLC directory");
    } else if (cid_format(&prev, prev_str), apply_input(rq->json, &cur, &op) ||
                                                plc_op_set_prev(&op, prev_str) ||
                                                plc_op_check(&op)) {
        st = xrpc_fail(rq, 400, "InvalidRequest", "Invalid PLC operation");
    } else if (plc_op_sign(&op, &app_get()->rotation_key)) {
        st = xrpc_fail(rq, 500, NULL, NULL);
    } else {
        st = xrpc_reply_json(rq, 200, json_pack("{s:o}", "operation", plc_op_to_json(&op)));
    }
    plc_op_clear(&cur);
    plc_op_clear(&last);
    plc_op_clear(&op);
    return st;
}

/* The reference's checks of submitPlcOperation: the op keeps this server in charge. */
static int check_submitted(struct xrpc_req *rq, const char *did, const struct plc_op *op)
{
    char rotation[SIGKEY_DID_KEY_MAX], key[SIGKEY_DID_KEY_MAX];
    sigkey_did_key(&app_get()->rotation_key, rotation);
    bool has_rotation = false;
    for (size_t i = 0; i < op->n_rotation_keys; i++) {
        has_rotation |= strcmp(op->rotation_keys[i], rotation) == 0;
    }
    if (!has_rotation) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Rotation keys do not include server's rotation key");
    }
    const struct plc_service *pds = NULL;
    for (size_t i = 0; i < op->n_services; i++) {
        if (strcmp(op->services[i].name, DID_DOC_PDS_SERVICE_ID) == 0) {
            pds = &op->services[i];
        }
    }
    if (!pds || strcmp(pds->type, DID_DOC_PDS_TYPE) != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Incorrect type on atproto_pds service");
    }
    if (strcmp(pds->endpoint, rq->cfg->public_url) != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Incorrect endpoint on atproto_pds service");
    }
    int st = account_signing_did_key(rq, did, key);
    if (st) {
        return st;
    }
    const char *atproto = NULL;
    for (size_t i = 0; i < op->n_verification_methods; i++) {
        if (strcmp(op->verification_methods[i].name, DID_DOC_KEY_ID) == 0) {
            atproto = op->verification_methods[i].did_key;
        }
    }
    if (!atproto || strcmp(atproto, key) != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Incorrect signing key");
    }
    return 0;
}

/* com.atproto.identity.submitPlcOperation */
int api_identity_submit_plc_operation(struct xrpc_req *rq)
{
    const struct auth *a;
    json_t *jop;
    int st;
    if ((st = auth_access(rq, AUTH_STANDARD | AUTH_OAUTH, &a)) ||
        (st = auth_permit_identity(rq, a, SCOPE_IDENTITY_ALL)) || (st = input_require_object(rq)) ||
        (st = input_object(rq, "operation", true, &jop))) {
        return st;
    }
    rq->log.did = a->did;
    struct plc_op op = {0};
    if (plc_op_from_json(jop, &op) || op.type != PLC_OP_OPERATION) {
        plc_op_clear(&op);
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid operation");
    }
    const char *handle = NULL;
    if ((st = check_submitted(rq, a->did, &op)) || (st = handle_of(rq, a->did, &handle))) {
        plc_op_clear(&op);
        return st;
    }
    if (handle) {
        char *want = arena_alloc(rq->arena, strlen(handle) + 6);
        snprintf(want, strlen(handle) + 6, "at://%s", handle);
        if (op.n_also_known_as == 0 || strcmp(op.also_known_as[0], want) != 0) {
            plc_op_clear(&op);
            return xrpc_fail(rq, 400, "InvalidRequest", "Incorrect handle in alsoKnownAs");
        }
    }
    plc_op_clear(&op);
    struct plc_client pc = {rq->cfg->did_plc_url, (long)rq->cfg->id_resolver_timeout_ms};
    char msg[PLC_ERROR_MESSAGE_MAX] = "";
    rq->log.action = "submitting a PLC operation";
    enum err e = plc_submit(&pc, a->did, jop, msg);
    rq->log.action = NULL;
    if (e == ERR_INVALID) {
        return xrpc_fail(rq, 400, "InvalidRequest", "The PLC directory refused the operation: %s",
                         msg);
    }
    if (e) {
        return xrpc_fail(rq, 502, "UpstreamFailure", "Could not reach the PLC directory");
    }
    resolver_forget_did(app_get()->resolver, a->did);
    if (account_emit_identity(rq->db, a->did, handle)) {
        log_error(&rq->log, "could not add the #identity event of %s", a->did);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "submitted a PLC operation for %s", a->did);
    return xrpc_reply_empty(rq, 200);
}

/* ---- DID and identity resolution ------------------------------------------------------- */

/* The lexicon's error for a failed DID resolution. */
static int did_fail(struct xrpc_req *rq, enum err e, const char *did)
{
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 400, "DidNotFound", "DID not found: %s", did);
    }
    if (e == ERR_INVALID) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Not a DID this server resolves: %s", did);
    }
    return xrpc_fail(rq, 502, "UpstreamFailure", "Could not resolve the DID");
}

/* com.atproto.identity.resolveDid */
int api_identity_resolve_did(struct xrpc_req *rq)
{
    const char *did;
    int st = xrpc_param_str(rq, "did", true, &did);
    if (st) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid DID: %s", did);
    }
    json_t *doc;
    enum err e = resolver_resolve_did(app_get()->resolver, did, false, &doc);
    if (e) {
        return did_fail(rq, e, did);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "didDoc", doc));
}

/* The DID of one of our active accounts with this handle (lower-cased); false if none. */
static bool local_handle(struct xrpc_req *rq, const char *handle, char did[RESOLVER_DID_MAX])
{
    char norm[SYNTAX_HANDLE_BUF];
    if (syntax_handle_normalize(bytes_str(handle), norm, sizeof(norm))) {
        return false;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, norm);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT did FROM account WHERE handle = $1 AND deactivated_at IS NULL"
                    " AND takedown_ref IS NULL",
                    &p, &r) ||
        PQntuples(r) != 1) {
        return false;
    }
    snprintf(did, RESOLVER_DID_MAX, "%s", db_col_text(r, 0, 0));
    return true;
}

/* resolveIdentity and refreshIdentity: the DID (a handle resolved first), its document, and
 * the handle only when it resolves back to the DID (else handle.invalid). */
static int identity_info(struct xrpc_req *rq, const char *ident, bool force)
{
    struct resolver *res = app_get()->resolver;
    char did[RESOLVER_DID_MAX];
    enum err e;
    if (strncmp(ident, "did:", 4) == 0) {
        if (!syntax_did_valid(bytes_str(ident)) || strlen(ident) >= sizeof(did)) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Invalid DID: %s", ident);
        }
        snprintf(did, sizeof(did), "%s", ident);
    } else {
        if (!syntax_handle_valid(bytes_str(ident))) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Invalid identifier: %s", ident);
        }
        if (!local_handle(rq, ident, did) &&
            (e = resolver_resolve_handle(res, ident, force, did))) {
            return xrpc_fail(rq, 400, "HandleNotFound", "Unable to resolve handle: %s", ident);
        }
    }
    json_t *doc;
    if ((e = resolver_resolve_did(res, did, force, &doc))) {
        return did_fail(rq, e, did);
    }
    struct did_doc parsed = {0};
    const char *handle = INVALID_HANDLE;
    char back[RESOLVER_DID_MAX];
    if (!did_doc_parse(doc, did, &parsed) && parsed.handle &&
        (local_handle(rq, parsed.handle, back) ||
         !resolver_resolve_handle(res, parsed.handle, force, back)) &&
        strcmp(back, did) == 0) {
        handle = arena_strndup(rq->arena, parsed.handle, strlen(parsed.handle));
    }
    did_doc_clear(&parsed);
    return xrpc_reply_json(
        rq, 200, json_pack("{s:s, s:s, s:o}", "did", did, "handle", handle, "didDoc", doc));
}

/* com.atproto.identity.resolveIdentity */
int api_identity_resolve_identity(struct xrpc_req *rq)
{
    const char *ident;
    int st = xrpc_param_str(rq, "identifier", true, &ident);
    return st ? st : identity_info(rq, ident, false);
}

/* com.atproto.identity.refreshIdentity */
int api_identity_refresh_identity(struct xrpc_req *rq)
{
    const char *ident;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "identifier", true, &ident))) {
        return st;
    }
    return identity_info(rq, ident, true);
}
