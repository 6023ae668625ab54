/* mig_run.c - one claimed job from its current step to where it stops (mig_run.h). */
#include "api/migrate/mig_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/account/account_ops.h"
#include "api/migrate/mig_lease.h"
#include "api/migrate/mig_store.h"
#include "config/config.h"

#define REDO_MAX 3 /* the old repository moved on: copy again at most this often */

typedef void step_fn(struct mig_ctx *x, struct mig_result *r);

static step_fn *const steps[MIG_STEP_COUNT] = {
    [MIG_STEP_PREFLIGHT] = mig_step_preflight,
    [MIG_STEP_CREATE_ACCOUNT] = mig_step_create_account,
    [MIG_STEP_IMPORT_REPO] = mig_step_import_repo,
    [MIG_STEP_BLOBS] = mig_step_blobs,
    [MIG_STEP_PREFERENCES] = mig_step_preferences,
    [MIG_STEP_VERIFY] = mig_step_verify,
    [MIG_STEP_PLC_SIGN] = mig_step_plc_sign,
    [MIG_STEP_PLC_SUBMIT] = mig_step_plc_submit,
    [MIG_STEP_DID_VERIFY] = mig_step_did_verify,
    [MIG_STEP_ACTIVATE] = mig_step_activate,
    [MIG_STEP_DEACTIVATE_OLD] = mig_step_deactivate_old,
};

static void setup_peers(struct mig_ctx *x)
{
    mig_setup_peers(x->cfg, &x->job, &x->stop, &x->old, &x->fresh);
    x->self = x->old.self ? &x->old : &x->fresh;
    x->remote = x->old.self ? &x->fresh : &x->old;
}

/* Operator jobs have nobody at a page: ask the old host for the emailed code at once. */
static void request_token_for_operator(struct mig_ctx *x)
{
    if (strcmp(x->job.created_by, "operator") != 0 ||
        json_is_true(json_object_get(x->job.progress, "tokenRequested"))) {
        return;
    }
    struct mig_fail f;
    if (mig_peer_post(&x->old, "com.atproto.identity.requestPlcOperationSignature", NULL, NULL,
                      &f) == ERR_OK) {
        mig_progress(x, "tokenRequested", json_true(), true);
    } else {
        log_warn(&x->log, "migration %lld: could not ask for the PLC code: %s %s",
                 (long long)x->job.id, f.error, f.why);
    }
}

/* Records a step's outcome. Returns true to go on with the next step. */
static bool settle(struct mig_ctx *x, enum mig_step s, struct mig_result *r, int *redos,
                   enum mig_step *next)
{
    const char *name = mig_step_name(s);
    int64_t id = x->job.id;
    enum err e = ERR_OK;
    switch (r->kind) {
    case MIG_OK:
        e = mig_store_step_done(x->db, id, s, r->detail);
        x->job.done[s] = true;
        x->job.attempts = 0;
        log_info(&x->log, "migration %lld: %s done", (long long)id, name);
        break;
    case MIG_AGAIN:
        if (x->job.attempts + 1 >= MIG_STEP_TRIES) {
            e = mig_store_set_state(x->db, id, MIG_STATE_FAILED, name, "Unreachable", r->message);
            log_warn(&x->log, "migration %lld: %s gave up: %s", (long long)id, name, r->message);
        } else {
            int64_t delay = MIG_RETRY_FIRST_MS << (x->job.attempts < 5 ? x->job.attempts : 5);
            delay = delay > MIG_RETRY_MAX_MS ? MIG_RETRY_MAX_MS : delay;
            e = mig_store_retry_later(x->db, id, name, delay, r->message);
        }
        return false;
    case MIG_FAILED:
        e = mig_store_set_state(x->db, id, MIG_STATE_FAILED, name, r->code, r->message);
        log_warn(&x->log, "migration %lld: %s failed: %s: %s", (long long)id, name, r->code,
                 r->message);
        return false;
    case MIG_WAIT:
        e = mig_store_set_state(x->db, id, MIG_STATE_AWAITING_TOKEN, name,
                                r->code[0] ? r->code : NULL, r->message[0] ? r->message : NULL);
        request_token_for_operator(x);
        return false;
    case MIG_REDO:
        if (++*redos > REDO_MAX) {
            e = mig_store_set_state(x->db, id, MIG_STATE_FAILED, name, "KeepsChanging",
                                    "The account keeps changing at its old host while it is "
                                    "copied. Stop posting for a few minutes and retry.");
            return false;
        }
        log_info(&x->log, "migration %lld: the old repository moved on; copying again from %s",
                 (long long)id, mig_step_name(r->redo_from));
        e = mig_store_steps_reset(x->db, id, r->redo_from);
        for (int i = r->redo_from; i < MIG_STEP_COUNT; i++) {
            x->job.done[i] = false;
        }
        *next = r->redo_from;
        return !e;
    case MIG_STOPPED:
        return false;
    }
    if (e) {
        log_error(&x->log, "migration %lld: could not record %s", (long long)id, name);
        return false;
    }
    return true;
}

static void finish(struct mig_ctx *x)
{
    if (mig_store_set_state(x->db, x->job.id, MIG_STATE_DONE, "deactivate_old", NULL, NULL) ||
        mig_store_erase_secrets(x->db, x->job.id)) {
        log_error(&x->log, "migration %lld: could not record its end", (long long)x->job.id);
        return;
    }
    mig_secrets_clear(&x->job.sec);
    x->job.sec_dirty = false;
    log_info(&x->log, "migration %lld of %s (%s) done", (long long)x->job.id, x->job.did,
             x->job.dir == MIG_IN ? "in" : "out");
}

/* The preflight step, then confirm (or straight on for an operator who chose up front). */
static void run_preflight(struct mig_ctx *x)
{
    struct mig_result r = {0};
    mig_step_preflight(x, &r);
    if (r.kind != MIG_OK) {
        int redos = 0;
        enum mig_step next;
        settle(x, MIG_STEP_PREFLIGHT, &r, &redos, &next);
        json_decref(r.detail);
        return;
    }
    enum err e = mig_store_step_done(x->db, x->job.id, MIG_STEP_PREFLIGHT, NULL);
    /* an operator chose up front (or takes the suggestion); a user confirms on the page */
    const char *handle = x->job.new_handle
                             ? x->job.new_handle
                             : json_string_value(json_object_get(x->job.plan, "suggestedHandle"));
    bool go = strcmp(x->job.created_by, "operator") == 0 && handle &&
              json_is_true(json_object_get(x->job.plan, "ok")) &&
              (x->job.invite_code || !json_is_true(json_object_get(x->job.plan, "inviteRequired")));
    if (!e) {
        e = mig_store_set_state(x->db, x->job.id, MIG_STATE_CONFIRM, "preflight", NULL, NULL);
    }
    if (!e && go) {
        e = mig_store_confirm(x->db, x->job.id, handle, x->job.invite_code);
    }
    if (e) {
        log_error(&x->log, "migration %lld: could not record the preflight", (long long)x->job.id);
    }
    json_decref(r.detail);
}

static void run_steps(struct mig_ctx *x)
{
    int redos = 0;
    enum mig_step s = MIG_STEP_CREATE_ACCOUNT;
    while (s < MIG_STEP_COUNT) {
        if (x->job.done[s]) {
            s++;
            continue;
        }
        if (!mig_keepalive(x)) {
            return;
        }
        mig_progress(x, "step", json_string(mig_step_name(s)), true);
        struct mig_result r = {0};
        steps[s](x, &r);
        enum mig_step next = s + 1;
        bool go = settle(x, s, &r, &redos, &next);
        json_decref(r.detail);
        if (!go) {
            return;
        }
        s = next;
    }
    finish(x);
}

void mig_run_job(struct db *db, const struct config *cfg, int64_t id, const char *owner,
                 const atomic_bool *shutdown)
{
    struct mig_ctx *x = xcalloc(1, sizeof *x);
    x->db = db;
    x->cfg = cfg;
    x->owner = owner;
    x->shutdown = shutdown;
    atomic_init(&x->stop, false);
    mig_job_init(&x->job);
    if (mig_store_load(db, id, &x->job) != ERR_OK) {
        log_error(NULL, "migration %lld: could not load the job (or its credentials)",
                  (long long)id);
        if (mig_store_set_state(db, id, MIG_STATE_FAILED, NULL, "Internal",
                                "This server could not read the job. Start again.")) {
            log_error(NULL, "migration %lld: could not record its failure", (long long)id);
        }
        goto out;
    }
    mig_lease_hold(id, owner, &x->stop);
    x->log.did = x->job.did;
    x->log.action = "migrating an account";
    setup_peers(x);
    if (strcmp(x->job.state, MIG_STATE_PREFLIGHT) == 0) {
        run_preflight(x);
    } else if (strcmp(x->job.state, MIG_STATE_RUNNING) == 0) {
        run_steps(x);
    }
    if (x->job.sec_dirty && x->job.sec.remote_refresh &&
        mig_store_save_secrets(db, id, &x->job.sec) != ERR_OK) {
        log_warn(&x->log, "migration %lld: could not save a refreshed session", (long long)id);
    }
    /* a cancel that came while a step ran: undo what that step may have made */
    struct mig_job now;
    mig_job_init(&now);
    if (mig_store_load(db, id, &now) == ERR_OK && strcmp(now.state, MIG_STATE_CANCELLED) == 0) {
        mig_cleanup_cancelled(db, &now);
    }
    mig_job_clear(&now);
    mig_lease_drop(id);
out:
    if (mig_store_release(db, id, owner) != ERR_OK) {
        log_warn(NULL, "migration %lld: could not give its lease back", (long long)id);
    }
    mig_job_clear(&x->job);
    free(x);
}
