/* mig_actions.c - what may be done to a job (mig_actions.h). */
#include "api/migrate/mig_actions.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/account/account_ops.h"
#include "api/common/input.h"
#include "api/migrate/mig_run.h"
#include "api/migrate/mig_store.h"
#include "api/migrate/migrate.h"
#include "config/config.h"
#include "core/base.h"
#include "crypto/sigkey.h"

#define PLC_TOKEN_MAX_CHARS 64
#define HANDLE_FRONT_MIN    3 /* reference ensureHandleServiceConstraints */
#define HANDLE_FRONT_MAX    18

void mig_new_access_token(char out[64])
{
    uint8_t raw[32];
    randombytes_buf(raw, sizeof raw);
    struct buf b;
    buf_init(&b, 64);
    if (base64url_encode(bytes_of(raw, sizeof raw), &b) == ERR_OK && b.len < 64) {
        memcpy(out, b.ptr, b.len + 1);
    } else {
        out[0] = '\0';
    }
    sodium_memzero(raw, sizeof raw);
    buf_clear(&b);
}

char *mig_normalize_url(struct xrpc_req *rq, const char *url, char *why, size_t why_len)
{
    bool https = strncmp(url, "https://", 8) == 0, http = strncmp(url, "http://", 7) == 0;
    if (!https && !http) {
        snprintf(why, why_len, "The address must start with https://");
        return NULL;
    }
    if (http && !rq->cfg->disable_ssrf_protection) {
        snprintf(why, why_len, "The address must use https://");
        return NULL;
    }
    const char *host = url + (https ? 8 : 7);
    size_t n = strlen(host);
    while (n && host[n - 1] == '/') {
        n--;
    }
    if (n == 0 || n > 253 + 6) {
        snprintf(why, why_len, "The address has no host name");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        if (!(isalnum((unsigned char)c) || c == '.' || c == '-' || c == ':')) {
            snprintf(why, why_len, "Give only the host's address, without a path or spaces");
            return NULL;
        }
    }
    char *out = arena_alloc(rq->arena, n + 9);
    snprintf(out, n + 9, "%s%.*s", https ? "https://" : "http://", (int)n, host);
    for (char *p = out; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return out;
}

/* The job, loaded; 0 or the error status set. */
static int load(struct xrpc_req *rq, int64_t id, struct mig_job *j)
{
    mig_job_init(j);
    enum err e = mig_store_load(rq->db, id, j);
    if (e == ERR_NOT_FOUND) {
        return xrpc_fail(rq, 404, "MigrationNotFound", "There is no such migration");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return 0;
}

int mig_action_status(struct xrpc_req *rq, int64_t id)
{
    json_t *o = mig_store_job_json(rq->db, id);
    if (!o) {
        return xrpc_fail(rq, 404, "MigrationNotFound", "There is no such migration");
    }
    return xrpc_reply_json(rq, 200, o);
}

static int reply_job(struct xrpc_req *rq, int64_t id)
{
    migrate_wake();
    return mig_action_status(rq, id);
}

static bool in_state(const struct mig_job *j, const char *state)
{
    return strcmp(j->state, state) == 0;
}

/* A handle the user may take: their own domain as it is, or a name under one of the new
 * host's domains. 0, or 400 set. */
static int check_handle(struct xrpc_req *rq, const struct mig_job *j, const char *handle)
{
    json_t *plan = j->plan;
    const char *problem = account_handle_syntax_problem(handle);
    if (problem) {
        return xrpc_fail(rq, 400, "InvalidHandle", "%s", problem);
    }
    const char *own = json_string_value(json_object_get(plan, "handle"));
    if (own && strcmp(own, handle) == 0 && json_is_true(json_object_get(plan, "handleIsCustom"))) {
        return 0;
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(plan, "domains"), i, d)
    {
        const char *dom = json_string_value(d);
        size_t n = strlen(handle), m = dom ? strlen(dom) : 0;
        if (!dom || n <= m || strcmp(handle + n - m, dom) != 0) {
            continue;
        }
        size_t front = n - m;
        if (memchr(handle, '.', front)) {
            return xrpc_fail(rq, 400, "InvalidHandle", "Choose a name without dots before %s", dom);
        }
        if (front < HANDLE_FRONT_MIN || front > HANDLE_FRONT_MAX) {
            return xrpc_fail(rq, 400, "InvalidHandle",
                             "The name before %s must be %d to %d characters long", dom,
                             HANDLE_FRONT_MIN, HANDLE_FRONT_MAX);
        }
        return 0;
    }
    return xrpc_fail(rq, 400, "InvalidHandle",
                     "Keep your own domain, or choose a name under one of the new host's domains");
}

/* Inbound: the handle is free here. 0, or 400 set. */
static int check_handle_free(struct xrpc_req *rq, const struct mig_job *j, const char *handle)
{
    if (j->dir != MIG_IN) {
        return 0;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, handle);
    db_param_text(&p, j->did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT 1 FROM account WHERE handle = $1 AND did <> $2", &p,
                    &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (PQntuples(r)) {
        return xrpc_fail(rq, 400, "HandleNotAvailable",
                         "The handle %s is already taken here. Choose another one.", handle);
    }
    return 0;
}

int mig_action_confirm(struct xrpc_req *rq, int64_t id)
{
    const char *handle, *invite;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "handle", true, &handle)) ||
        (st = input_str(rq, "inviteCode", false, &invite))) {
        return st;
    }
    struct mig_job j;
    if ((st = load(rq, id, &j))) {
        return st;
    }
    char *lower = arena_strndup(rq->arena, handle, strlen(handle));
    for (char *p = lower; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    if (!in_state(&j, MIG_STATE_CONFIRM)) {
        st = xrpc_fail(rq, 409, "WrongState", "This migration is not waiting for a go-ahead");
    } else if (!json_is_true(json_object_get(j.plan, "ok"))) {
        st = xrpc_fail(rq, 400, "PreflightFailed",
                       "The checks before the move did not pass; see the list");
    } else if (json_is_true(json_object_get(j.plan, "inviteRequired")) && (!invite || !*invite)) {
        st = xrpc_fail(rq, 400, "InvalidInviteCode", "The new host needs an invite code");
    } else if (!(st = check_handle(rq, &j, lower)) && !(st = check_handle_free(rq, &j, lower))) {
        enum err e = mig_store_confirm(rq->db, id, lower, invite && *invite ? invite : NULL);
        st = e == ERR_CONFLICT ? xrpc_fail(rq, 409, "WrongState", "This migration has moved on")
             : e               ? xrpc_fail(rq, 500, NULL, NULL)
                               : reply_job(rq, id);
    }
    mig_job_clear(&j);
    return st;
}

int mig_action_request_token(struct xrpc_req *rq, int64_t id)
{
    struct mig_job j;
    int st = load(rq, id, &j);
    if (st) {
        return st;
    }
    if (!in_state(&j, MIG_STATE_AWAITING_TOKEN)) {
        mig_job_clear(&j);
        return xrpc_fail(rq, 409, "WrongState", "This migration is not waiting for a code");
    }
    atomic_bool stop;
    atomic_init(&stop, false);
    struct mig_peer old, fresh;
    mig_setup_peers(rq->cfg, &j, &stop, &old, &fresh);
    old.tries = 2; /* someone is waiting at the page */
    struct mig_fail f;
    enum err e =
        mig_peer_post(&old, "com.atproto.identity.requestPlcOperationSignature", NULL, NULL, &f);
    if (j.sec_dirty) {
        if (mig_store_save_secrets(rq->db, id, &j.sec)) {
            log_warn(&rq->log, "migration %lld: could not save a session", (long long)id);
        }
    }
    if (e == ERR_AUTH) {
        st = xrpc_fail(rq, 401, "SignInAgain", "The sign-in at %s has expired; sign in again",
                       old.url);
    } else if (e == ERR_UPSTREAM) {
        st = xrpc_fail(rq, 502, "OldHostUnreachable", "%s did not answer. Try again in a moment.",
                       old.self ? "This server" : old.url);
    } else if (e) {
        st = xrpc_fail(rq, 400, f.error[0] ? f.error : "Refused", "%s refused to send the code: %s",
                       old.self ? "This server" : old.url, f.message[0] ? f.message : f.error);
    } else {
        json_t *pr = json_incref(j.progress);
        json_object_set_new(pr, "tokenRequested", json_true());
        if (mig_store_set_progress(rq->db, id, pr) != ERR_OK) {
            log_warn(&rq->log, "migration %lld: could not note the code request", (long long)id);
        }
        json_decref(pr);
        st = mig_action_status(rq, id);
    }
    mig_job_clear(&j);
    return st;
}

int mig_action_plc(struct xrpc_req *rq, int64_t id)
{
    const char *token, *rotation;
    int st;
    if ((st = input_require_object(rq)) || (st = input_str(rq, "token", true, &token)) ||
        (st = input_str(rq, "rotationKey", false, &rotation))) {
        return st;
    }
    size_t n = strlen(token);
    while (n && isspace((unsigned char)token[n - 1])) {
        n--;
    }
    while (n && isspace((unsigned char)*token)) {
        token++;
        n--;
    }
    if (n == 0 || n > PLC_TOKEN_MAX_CHARS) {
        return xrpc_fail(rq, 400, "InvalidToken", "Type the code from the email");
    }
    if (rotation && *rotation) {
        struct sigkey k;
        if (sigkey_from_did_key(bytes_str(rotation), &k) != ERR_OK) {
            return xrpc_fail(rq, 400, "InvalidRotationKey",
                             "The recovery key is not a k256 or p256 did:key");
        }
        sigkey_clear(&k);
    }
    struct mig_job j;
    if ((st = load(rq, id, &j))) {
        return st;
    }
    if (!in_state(&j, MIG_STATE_AWAITING_TOKEN)) {
        mig_job_clear(&j);
        return xrpc_fail(rq, 409, "WrongState", "This migration is not waiting for a code");
    }
    char *code = arena_strndup(rq->arena, token, n);
    mig_secret_set(&j.sec.plc_token, code);
    sodium_memzero(code, n);
    enum err e = mig_store_save_secrets(rq->db, id, &j.sec);
    if (!e) {
        e = mig_store_set_rotation_key(rq->db, id, rotation && *rotation ? rotation : NULL);
    }
    if (!e) {
        e = mig_store_set_state(rq->db, id, MIG_STATE_RUNNING, NULL, NULL, NULL);
    }
    mig_job_clear(&j);
    return e ? xrpc_fail(rq, 500, NULL, NULL) : reply_job(rq, id);
}

int mig_action_retry(struct xrpc_req *rq, int64_t id)
{
    const char *from = NULL;
    int st;
    if (rq->json &&
        ((st = input_require_object(rq)) || (st = input_str(rq, "from", false, &from)))) {
        return st;
    }
    enum mig_step s = from ? mig_step_parse(from) : MIG_STEP_COUNT;
    if (from && s != MIG_STEP_IMPORT_REPO && s != MIG_STEP_BLOBS) {
        return xrpc_fail(rq, 400, "InvalidRequest",
                         "Only the repository or the blobs can be redone");
    }
    struct mig_job j;
    if ((st = load(rq, id, &j))) {
        return st;
    }
    bool again =
        in_state(&j, MIG_STATE_FAILED) || (in_state(&j, MIG_STATE_RUNNING) && j.attempts > 0);
    if (!again) {
        mig_job_clear(&j);
        return xrpc_fail(rq, 409, "WrongState", "This migration has not stopped");
    }
    if (!j.sec.remote_access && !j.sec.password && j.dir == MIG_IN) {
        mig_job_clear(&j);
        return xrpc_fail(rq, 401, "SignInAgain", "Sign in to your old host again to continue");
    }
    bool preflight = !j.done[MIG_STEP_PREFLIGHT];
    enum err e = s < MIG_STEP_COUNT && j.done[MIG_STEP_PLC_SUBMIT] ? ERR_CONFLICT : ERR_OK;
    if (!e && s < MIG_STEP_COUNT) {
        e = mig_store_steps_reset(rq->db, id, s);
    }
    if (!e) {
        e = mig_store_set_state(rq->db, id, preflight ? MIG_STATE_PREFLIGHT : MIG_STATE_RUNNING,
                                NULL, NULL, NULL);
    }
    mig_job_clear(&j);
    if (e == ERR_CONFLICT) {
        return xrpc_fail(rq, 409, "TooLate", "The identity has moved already; retry the rest");
    }
    return e ? xrpc_fail(rq, 500, NULL, NULL) : reply_job(rq, id);
}

int mig_action_cancel(struct xrpc_req *rq, int64_t id)
{
    struct mig_job j;
    int st = load(rq, id, &j);
    if (st) {
        return st;
    }
    if (in_state(&j, MIG_STATE_DONE) || in_state(&j, MIG_STATE_CANCELLED)) {
        st = xrpc_fail(rq, 409, "WrongState", "This migration has ended already");
    } else if (j.done[MIG_STEP_PLC_SUBMIT]) {
        st = xrpc_fail(rq, 409, "TooLate",
                       "The identity already names the new host, so the move cannot be undone "
                       "here. Retry to finish it.");
    } else if (mig_store_set_state(rq->db, id, MIG_STATE_CANCELLED, NULL, "Cancelled",
                                   "You cancelled the move. Your account at the old host is "
                                   "unchanged and active.")) {
        st = xrpc_fail(rq, 500, NULL, NULL);
    } else {
        mig_cleanup_cancelled(rq->db, &j);
        log_info(&rq->log, "migration %lld of %s cancelled", (long long)id, j.did);
        st = mig_action_status(rq, id);
    }
    mig_job_clear(&j);
    return st;
}
