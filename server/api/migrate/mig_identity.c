/* mig_identity.c - the steps after the gate: the old host signs a PLC operation naming the
 * new host (with the code it emailed the user), the new host submits it, the DID document
 * is checked to name the new host and its key, the account goes live there and is
 * deactivated at the old host. Only plc_submit is irreversible, and it runs only once the
 * gate (mig_step_verify) has passed and the operation is signed. */
#include "api/migrate/mig_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common/app.h"
#include "api/migrate/mig_store.h"
#include "config/config.h"
#include "identity/plc_client.h"
#include "identity/plc_op.h"
#include "identity/resolver.h"

/* The operation signed in plc_sign (new reference), or NULL. */
static json_t *signed_op(struct mig_ctx *x)
{
    json_t *d = mig_store_step_detail(x->db, x->job.id, MIG_STEP_PLC_SIGN);
    json_t *op = json_incref(json_object_get(d, "operation"));
    json_decref(d);
    return op;
}

static const char *op_endpoint(json_t *op)
{
    return json_string_value(json_object_get(
        json_object_get(json_object_get(op, "services"), "atproto_pds"), "endpoint"));
}

static const char *op_key(json_t *op)
{
    return json_string_value(
        json_object_get(json_object_get(op, "verificationMethods"), "atproto"));
}

/* The URL the new host must be named by. */
static const char *fresh_url(struct mig_ctx *x)
{
    return x->fresh.self ? x->cfg->public_url : x->job.new_url;
}

void mig_step_plc_sign(struct mig_ctx *x, struct mig_result *r)
{
    if (!x->job.sec.plc_token) {
        r->kind = MIG_WAIT;
        return;
    }
    json_t *inv = mig_store_step_detail(x->db, x->job.id, MIG_STEP_IMPORT_REPO);
    int moved = mig_old_moved(x, r, json_string_value(json_object_get(inv, "commit")));
    json_decref(inv);
    if (moved) {
        if (moved > 0) {
            r->kind = MIG_REDO;
            r->redo_from = MIG_STEP_IMPORT_REPO;
        }
        return;
    }
    json_t *creds = NULL;
    struct mig_fail f;
    enum err e = mig_peer_get(&x->fresh, "com.atproto.identity.getRecommendedDidCredentials", NULL,
                              &creds, &f);
    if (e) {
        mig_from_call(x, r, e, &f, &x->fresh, "asking for the new identity details");
        return;
    }
    json_t *rot = json_object_get(creds, "rotationKeys");
    if (!json_is_array(rot)) {
        rot = json_array();
        json_object_set_new(creds, "rotationKeys", rot);
    }
    if (x->job.rotation_key) {
        bool have = false;
        size_t i;
        json_t *k;
        json_array_foreach(rot, i, k)
        {
            have = have ||
                   (json_is_string(k) && strcmp(json_string_value(k), x->job.rotation_key) == 0);
        }
        if (!have) {
            /* spec(did-plc): rotationKeys in authority order; the user's own key first */
            json_array_insert_new(rot, 0, json_string(x->job.rotation_key));
        }
    }
    /* a session expired now would answer like a wrong code (400 ExpiredToken): renew it
     * first with a call that carries no code */
    json_t *sess = NULL;
    e = mig_peer_get(&x->old, "com.atproto.server.getSession", NULL, &sess, &f);
    json_decref(sess);
    if (e) {
        json_decref(creds);
        mig_from_call(x, r, e, &f, &x->old, "signing the identity change");
        return;
    }
    json_object_set_new(creds, "token", json_string(x->job.sec.plc_token));
    json_t *out = NULL;
    struct mig_call c;
    mig_call_init(&c, "POST", "com.atproto.identity.signPlcOperation");
    c.body = creds;
    c.emailed_code = true;
    e = mig_peer_call(&x->old, &c, &out, NULL, &f);
    json_object_del(creds, "token");
    json_decref(creds);
    json_t *op = json_object_get(out, "operation");
    if (e == ERR_INVALID && (mig_fail_is(&f, "InvalidToken") || mig_fail_is(&f, "ExpiredToken") ||
                             strstr(f.message, "oken"))) {
        json_decref(out);
        mig_secret_set(&x->job.sec.plc_token, NULL);
        x->job.sec_dirty = true;
        if (mig_store_save_secrets(x->db, x->job.id, &x->job.sec)) {
            log_warn(&x->log, "migration %lld: could not save its secrets", (long long)x->job.id);
        }
        r->kind = MIG_WAIT;
        snprintf(r->code, sizeof r->code, "WrongToken");
        snprintf(r->message, sizeof r->message,
                 "%s did not accept the code (%s). Ask for a new code and type it again.",
                 mig_host_name(&x->old), f.message[0] ? f.message : f.error);
        return;
    }
    if (e || !json_is_object(op)) {
        json_decref(out);
        mig_from_call(x, r, e ? e : ERR_INVALID, &f, &x->old, "signing the identity change");
        return;
    }
    const char *endpoint = op_endpoint(op);
    if (!endpoint || strcmp(endpoint, fresh_url(x)) != 0) {
        json_decref(out);
        mig_fail(r, "BadOperation",
                 "The identity change signed by %s does not name %s; nothing was changed.",
                 mig_host_name(&x->old), fresh_url(x));
        return;
    }
    r->kind = MIG_OK;
    r->detail = json_pack("{s:O}", "operation", op);
    json_decref(out);
    mig_secret_set(&x->job.sec.plc_token, NULL); /* used: no reason to keep it */
    x->job.sec_dirty = true;
    if (mig_store_save_secrets(x->db, x->job.id, &x->job.sec)) {
        log_warn(&x->log, "migration %lld: could not save its secrets", (long long)x->job.id);
    }
}

/* 1 when the DID document names the new host and key of op, 0 when not, -1 when it could not
 * be read (r set). */
static int doc_points_here(struct mig_ctx *x, struct mig_result *r, json_t *op)
{
    struct did_doc doc;
    enum err e = resolver_resolve_atproto(app_get()->resolver, x->job.did, true, &doc);
    if (e) {
        mig_again(r, "The DID directory did not answer; trying again shortly.");
        return -1;
    }
    char key[SIGKEY_DID_KEY_MAX] = "";
    if (doc.has_signing_key) {
        sigkey_did_key(&doc.signing_key, key);
    }
    const char *want_key = op_key(op);
    int ok = doc.pds_endpoint && strcmp(doc.pds_endpoint, fresh_url(x)) == 0 && want_key &&
             strcmp(key, want_key) == 0;
    did_doc_clear(&doc);
    return ok;
}

void mig_step_plc_submit(struct mig_ctx *x, struct mig_result *r)
{
    json_t *op = signed_op(x);
    if (!op) {
        r->kind = MIG_REDO;
        r->redo_from = MIG_STEP_PLC_SIGN;
        return;
    }
    int here = doc_points_here(x, r, op);
    if (here != 0) {
        if (here > 0) {
            r->kind = MIG_OK; /* submitted by an earlier try whose answer was lost */
            r->detail = json_pack("{s:b}", "alreadySubmitted", 1);
        }
        json_decref(op);
        return;
    }
    json_t *body = json_pack("{s:O}", "operation", op);
    struct mig_fail f;
    enum err e =
        mig_peer_post(&x->fresh, "com.atproto.identity.submitPlcOperation", body, NULL, &f);
    json_decref(body);
    json_decref(op);
    if (e) {
        mig_from_call(x, r, e, &f, &x->fresh, "submitting the identity change");
        return;
    }
    resolver_forget_did(app_get()->resolver, x->job.did);
    r->kind = MIG_OK;
}

void mig_step_did_verify(struct mig_ctx *x, struct mig_result *r)
{
    json_t *op = signed_op(x);
    if (!op) {
        mig_fail(r, "Internal", "The signed identity change is missing; retry from signing.");
        return;
    }
    int here = doc_points_here(x, r, op);
    if (here == 0) {
        mig_again(r, "The DID document does not name %s yet; checking again shortly.",
                  fresh_url(x));
    }
    if (here <= 0) {
        json_decref(op);
        return;
    }
    if (x->job.rotation_key && strncmp(x->job.did, "did:plc:", 8) == 0) {
        struct plc_client pc = {x->cfg->did_plc_url, (long)x->cfg->id_resolver_timeout_ms};
        struct plc_op data;
        plc_op_init(&data, PLC_OP_OPERATION);
        enum err e = plc_get_data(&pc, x->job.did, &data);
        bool first = !e && data.n_rotation_keys > 0 &&
                     strcmp(data.rotation_keys[0], x->job.rotation_key) == 0;
        plc_op_clear(&data);
        if (e) {
            mig_again(r, "The PLC directory did not answer; trying again shortly.");
            json_decref(op);
            return;
        }
        if (!first) {
            mig_fail(r, "RotationKeyMissing",
                     "The DID document does not list your own rotation key first.");
            json_decref(op);
            return;
        }
    }
    r->kind = MIG_OK;
    r->detail = json_pack("{s:s,s:s}", "endpoint", fresh_url(x), "signingKey", op_key(op));
    json_decref(op);
}

void mig_step_activate(struct mig_ctx *x, struct mig_result *r)
{
    json_t *st = NULL;
    struct mig_fail f;
    enum err e = mig_peer_get(&x->fresh, "com.atproto.server.checkAccountStatus", NULL, &st, &f);
    bool active = !e && json_is_true(json_object_get(st, "activated"));
    json_decref(st);
    if (e) {
        mig_from_call(x, r, e, &f, &x->fresh, "checking the account");
        return;
    }
    if (!active &&
        (e = mig_peer_post(&x->fresh, "com.atproto.server.activateAccount", NULL, NULL, &f))) {
        mig_from_call(x, r, e, &f, &x->fresh, "activating the account");
        return;
    }
    r->kind = MIG_OK;
}

void mig_step_deactivate_old(struct mig_ctx *x, struct mig_result *r)
{
    json_t *body = json_object();
    struct mig_fail f;
    enum err e = mig_peer_post(&x->old, "com.atproto.server.deactivateAccount", body, NULL, &f);
    json_decref(body);
    if (e) {
        mig_from_call(x, r, e, &f, &x->old, "deactivating the account at the old host");
        return;
    }
    r->kind = MIG_OK;
}
