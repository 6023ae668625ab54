/* mig_api.c - the JSON endpoints the migration pages call (plain paths under
 * /migrate/api/, not lexicon methods): finding an account, signing in to its old host and
 * starting or resuming a move in, starting a move out for a signed-in user of this server,
 * and the job actions, each allowed only with the job's page token (X-Migration-Token, given
 * at sign-in and kept by the tab; a closed tab signs in again). State changes need the
 * page's CSRF token (web/csrf.h). */
#include "api/migrate/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/account/account_ops.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/migrate/mig_actions.h"
#include "api/migrate/mig_api.h"
#include "api/migrate/mig_signin.h"
#include "api/migrate/mig_store.h"
#include "config/config.h"
#include "core/syntax.h"
#include "http/ratelimit.h"
#include "identity/resolver.h"
#include "web/csrf.h"
#include "web/page.h"

#define PASSWORD_MAX_BYTES 1024

/* A POST from a page: CSRF checked, body parsed. */
static int page_post(struct xrpc_req *rq)
{
    web_page_headers(rq);
    int st = web_csrf_require(rq, NULL);
    return st ? st : web_json_body(rq, false);
}

/* The job named by the request (id in the body or query) whose page token came with it. */
static int job_of(struct xrpc_req *rq, int64_t *id)
{
    const char *ids = NULL;
    json_t *jid = rq->json ? json_object_get(rq->json, "id") : NULL;
    char num[32];
    if (json_is_integer(jid)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(jid));
        ids = num;
    } else {
        ids = xrpc_param(rq, "id");
    }
    char *end = NULL;
    long long v = ids ? strtoll(ids, &end, 10) : 0;
    if (!ids || !*ids || *end || v <= 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Which migration? (id is missing)");
    }
    if (!mig_store_check_access(rq->db, v, xrpc_header(rq, "x-migration-token"))) {
        return xrpc_fail(rq, 401, "SignInAgain",
                         "This page has lost its sign-in for the migration; sign in again");
    }
    *id = v;
    return 0;
}

/* Where the account ident names lives (mig_locate). 0, or the error set in the page's words. */
static int locate(struct xrpc_req *rq, const char *ident, char did[RESOLVER_DID_MAX], char **pds,
                  char **handle)
{
    switch (mig_locate(rq->arena, ident, did, pds, handle)) {
    case MIG_LOCATE_OK:
        return 0;
    case MIG_LOCATE_BAD_DID:
        return xrpc_fail(rq, 400, "InvalidRequest", "That is not a valid DID");
    case MIG_LOCATE_BAD_HANDLE:
        return xrpc_fail(rq, 400, "InvalidHandle", "That is not a valid handle");
    case MIG_LOCATE_NO_HANDLE:
        return xrpc_fail(rq, 400, "HandleNotFound", "No account answers to %s. Check the spelling.",
                         ident);
    case MIG_LOCATE_NO_DID:
        return xrpc_fail(rq, 400, "DidNotFound", "The identity %s could not be looked up", did);
    case MIG_LOCATE_NO_PDS:
    default:
        return xrpc_fail(rq, 400, "NoPds", "This identity names no PDS");
    }
}

/* POST /migrate/api/lookup {handle}: where the account lives now. */
int mig_api_lookup(struct xrpc_req *rq)
{
    const char *ident;
    int st;
    if ((st = page_post(rq)) || (st = input_str(rq, "handle", true, &ident))) {
        return st;
    }
    while (*ident == '@' || *ident == ' ') {
        ident++;
    }
    char did[RESOLVER_DID_MAX];
    char *pds, *handle;
    if ((st = locate(rq, ident, did, &pds, &handle))) {
        return st;
    }
    json_t *out = json_pack("{s:s,s:s?,s:s,s:b}", "did", did, "handle", handle, "pds", pds, "here",
                            strcmp(pds, rq->cfg->public_url) == 0);
    return xrpc_reply_json(rq, 200, out);
}

/* The job's reply to a page that signed in: its id and a fresh page token. */
static int reply_token(struct xrpc_req *rq, int64_t id)
{
    char token[64];
    mig_new_access_token(token);
    if (!token[0] || mig_store_set_access(rq->db, id, token)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    migrate_wake();
    json_t *job = mig_store_job_json(rq->db, id);
    json_t *out = json_pack("{s:I,s:s,s:o*}", "id", (json_int_t)id, "token", token, "job", job);
    sodium_memzero(token, sizeof token);
    return xrpc_reply_json(rq, 200, out);
}

/* createSession at the old host, for did. 0, or the error status set in the page's words. */
static int sign_in_old(struct xrpc_req *rq, const char *url, const char *did, const char *password,
                       const char *code, struct mig_remote_session *out)
{
    rq->log.action = "signing in at the old host";
    enum mig_signin_result res =
        mig_sign_in_old(url, did, password, code, !rq->cfg->disable_ssrf_protection, out);
    rq->log.action = NULL;
    switch (res) {
    case MIG_SIGNIN_OK:
        return 0;
    case MIG_SIGNIN_UNREACHABLE:
        log_info(&rq->log, "old host %s unreachable: %s", url, out->why);
        return xrpc_fail(rq, 502, "OldHostUnreachable",
                         "%s did not answer. Check that it is up and try again.", url);
    case MIG_SIGNIN_NEED_CODE:
        return xrpc_fail(rq, 401, "AuthFactorTokenRequired",
                         "%s has emailed you a sign-in code. Type it below.", url);
    case MIG_SIGNIN_WRONG_PASSWORD:
        return xrpc_fail(rq, 401, "WrongPassword",
                         "%s did not accept this password%s. Check it and try again.", url,
                         code && *code ? " and code" : "");
    case MIG_SIGNIN_REFUSED:
        return xrpc_fail(rq, 400, out->error, "%s refused the sign-in: %s", url,
                         out->message[0] ? out->message : out->error);
    case MIG_SIGNIN_WRONG_ACCOUNT:
        return xrpc_fail(rq, 400, "WrongAccount", "%s signed in another account.", url);
    case MIG_SIGNIN_BAD_ANSWER:
    default:
        return xrpc_fail(rq, 502, "BadAnswer",
                         "%s answered the sign-in with something that is not a session.", url);
    }
}

/* An existing open job of did gets the new session; a job that stopped because its session
 * expired goes on. */
static int resume_in(struct xrpc_req *rq, int64_t id, const struct mig_remote_session *s,
                     const char *password)
{
    struct mig_job j;
    mig_job_init(&j);
    if (mig_store_load(rq->db, id, &j)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int st = 0;
    if (j.dir != MIG_IN) {
        st = xrpc_fail(rq, 409, "MigrationRunning",
                       "A move of this account out of this server is in progress");
    } else {
        mig_secret_set(&j.sec.remote_access, s->access);
        mig_secret_set(&j.sec.remote_refresh, s->refresh);
        if (!j.done[MIG_STEP_CREATE_ACCOUNT]) {
            mig_secret_set(&j.sec.password, password);
        }
        enum err e = mig_store_save_secrets(rq->db, id, &j.sec);
        if (!e && strcmp(j.state, MIG_STATE_FAILED) == 0 &&
            strcmp(j.step ? j.step : "", "preflight") != 0) {
            e = mig_store_set_state(rq->db, id, MIG_STATE_RUNNING, NULL, NULL, NULL);
        }
        st = e ? xrpc_fail(rq, 500, NULL, NULL) : reply_token(rq, id);
    }
    mig_job_clear(&j);
    return st;
}

/* POST /migrate/api/in/start {did, password, authFactorToken?}: sign in at the old host;
 * start a move in, or resume the one that is open. */
int mig_api_in_start(struct xrpc_req *rq)
{
    const char *did, *password, *code;
    int st;
    if ((st = page_post(rq)) || (st = input_str(rq, "did", true, &did)) ||
        (st = input_str(rq, "password", true, &password)) ||
        (st = input_str(rq, "authFactorToken", false, &code))) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "That is not a valid DID");
    }
    if (!*password || strlen(password) > PASSWORD_MAX_BYTES) {
        return xrpc_fail(rq, 400, "WrongPassword", "Type your password");
    }
    /* this signs in at another host on the caller's behalf: the sign-in limits of ours
     * (per DID and address), so the page cannot be used to guess passwords elsewhere */
    if ((st = ratelimit_consume(rq, RL_GROUP_OAUTH_SIGNIN, did, 1))) {
        return st;
    }
    rq->log.did = did;
    char checked[RESOLVER_DID_MAX], *url, *handle;
    if ((st = locate(rq, did, checked, &url, &handle))) {
        return st;
    }
    int64_t open_id = 0;
    bool open = mig_store_find(rq->db, did, true, &open_id) == ERR_OK;
    if (strcmp(url, rq->cfg->public_url) == 0 && !open) {
        return xrpc_fail(rq, 400, "AlreadyHere", "This account is already hosted here");
    }
    struct mig_remote_session s = {0};
    struct mig_job j;
    mig_job_init(&j);
    if (open) {
        /* after the identity moved, the old host is no longer what the DID names */
        struct mig_job cur;
        mig_job_init(&cur);
        if (mig_store_load(rq->db, open_id, &cur) == ERR_OK && cur.dir == MIG_IN) {
            url = arena_strndup(rq->arena, cur.old_url, strlen(cur.old_url));
        }
        mig_job_clear(&cur);
    }
    if ((st = sign_in_old(rq, url, did, password, code, &s))) {
        goto out;
    }
    if (open) {
        st = resume_in(rq, open_id, &s, password);
        goto out;
    }
    struct account_state as;
    if (account_get_state(rq->db, did, &as) == ERR_OK && as.exists && as.active) {
        st = xrpc_fail(rq, 400, "AlreadyHere", "This account is already active here");
        goto out;
    }
    j.dir = MIG_IN;
    j.did = xstrndup(did, strlen(did));
    j.created_by = xstrndup("user", 4);
    j.old_url = xstrndup(url, strlen(url));
    j.new_url = xstrndup(rq->cfg->public_url, strlen(rq->cfg->public_url));
    j.old_handle = s.handle ? xstrndup(s.handle, strlen(s.handle)) : NULL;
    j.email = s.email ? xstrndup(s.email, strlen(s.email)) : NULL;
    mig_secret_set(&j.sec.remote_access, s.access);
    mig_secret_set(&j.sec.remote_refresh, s.refresh);
    mig_secret_set(&j.sec.password, password);
    int64_t id = 0;
    enum err e = mig_store_create(rq->db, &j, NULL, &id);
    if (e == ERR_CONFLICT) {
        st = xrpc_fail(rq, 409, "MigrationRunning",
                       "Another migration of this account is already running");
    } else if (e) {
        st = xrpc_fail(rq, 500, NULL, NULL);
    } else {
        log_info(&rq->log, "migration %lld of %s into this server started from %s", (long long)id,
                 did, url);
        st = reply_token(rq, id);
    }
out:
    mig_remote_session_clear(&s);
    mig_job_clear(&j);
    return st;
}

/* POST /migrate/api/out/start {url, email?, password, resume?} with this server's session:
 * start a move out (or take up the open one). */
int mig_api_out_start(struct xrpc_req *rq)
{
    web_page_headers(rq);
    const struct auth *a;
    const char *url, *email, *password;
    int st;
    if ((st = web_csrf_require(rq, NULL)) || (st = auth_access(rq, AUTH_FULL, &a)) ||
        (st = web_json_body(rq, false)) || (st = input_str(rq, "url", true, &url)) ||
        (st = input_str(rq, "email", false, &email)) ||
        (st = input_str(rq, "password", true, &password))) {
        return st;
    }
    rq->log.did = a->did;
    char why[160];
    char *dest = mig_normalize_url(rq, url, why, sizeof why);
    if (!dest) {
        return xrpc_fail(rq, 400, "InvalidUrl", "%s", why);
    }
    if (strcmp(dest, rq->cfg->public_url) == 0) {
        return xrpc_fail(rq, 400, "InvalidUrl", "That is this server; name the new host");
    }
    if (!*password || strlen(password) > PASSWORD_MAX_BYTES) {
        return xrpc_fail(rq, 400, "InvalidPassword",
                         "Choose the password for your account at the new host");
    }
    if (email && !account_email_valid(email)) {
        return xrpc_fail(rq, 400, "InvalidEmail", "That email address does not look right");
    }
    struct account_email ae;
    if ((st = account_email_load(rq, a->did, &ae))) {
        return st;
    }
    int64_t id = 0;
    if (mig_store_find(rq->db, a->did, true, &id) == ERR_OK) {
        struct mig_job cur;
        mig_job_init(&cur);
        if (mig_store_load(rq->db, id, &cur)) {
            return xrpc_fail(rq, 500, NULL, NULL);
        }
        bool same = cur.dir == MIG_OUT && strcmp(cur.new_url, dest) == 0;
        if (same && !cur.done[MIG_STEP_CREATE_ACCOUNT]) {
            mig_secret_set(&cur.sec.password, password);
            if (mig_store_save_secrets(rq->db, id, &cur.sec)) {
                log_warn(&rq->log, "migration %lld: could not save a password", (long long)id);
            }
        }
        mig_job_clear(&cur);
        if (!same) {
            return xrpc_fail(rq, 409, "MigrationRunning",
                             "Another migration of this account is already running");
        }
        return reply_token(rq, id);
    }
    struct mig_job j;
    mig_job_init(&j);
    j.dir = MIG_OUT;
    j.did = xstrndup(a->did, strlen(a->did));
    j.created_by = xstrndup("user", 4);
    j.old_url = xstrndup(rq->cfg->public_url, strlen(rq->cfg->public_url));
    j.new_url = xstrndup(dest, strlen(dest));
    j.old_handle = ae.handle ? xstrndup(ae.handle, strlen(ae.handle)) : NULL;
    const char *mail = email && *email ? email : ae.email;
    j.email = mail ? xstrndup(mail, strlen(mail)) : NULL;
    mig_secret_set(&j.sec.password, password);
    enum err e = mig_store_create(rq->db, &j, NULL, &id);
    mig_job_clear(&j);
    if (e == ERR_CONFLICT) {
        return xrpc_fail(rq, 409, "MigrationRunning",
                         "Another migration of this account is already running");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "migration %lld of %s out to %s started", (long long)id, a->did, dest);
    return reply_token(rq, id);
}

/* POST /migrate/api/out/resume with this server's session: the account's open (or latest)
 * move out, for a page that was closed; {job: null} when there is none. */
int mig_api_out_resume(struct xrpc_req *rq)
{
    web_page_headers(rq);
    const struct auth *a;
    int st;
    if ((st = web_csrf_require(rq, NULL)) || (st = auth_access(rq, AUTH_FULL, &a))) {
        return st;
    }
    int64_t id = 0;
    if (mig_store_find(rq->db, a->did, false, &id)) {
        return xrpc_reply_json(rq, 200, json_pack("{s:n}", "job")); /* none: start one */
    }
    struct mig_job j;
    mig_job_init(&j);
    if (mig_store_load(rq->db, id, &j)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    bool out = j.dir == MIG_OUT;
    mig_job_clear(&j);
    return out ? reply_token(rq, id) : xrpc_reply_json(rq, 200, json_pack("{s:n}", "job"));
}

/* GET /migrate/api/job?id= */
int mig_api_job(struct xrpc_req *rq)
{
    web_page_headers(rq);
    int64_t id = 0;
    int st = job_of(rq, &id);
    return st ? st : mig_action_status(rq, id);
}

typedef int action_fn(struct xrpc_req *rq, int64_t id);

static int job_post(struct xrpc_req *rq, action_fn *fn)
{
    int64_t id = 0;
    int st;
    if ((st = page_post(rq)) || (st = job_of(rq, &id))) {
        return st;
    }
    return fn(rq, id);
}

int mig_api_confirm(struct xrpc_req *rq)
{
    return job_post(rq, mig_action_confirm);
}

int mig_api_request_token(struct xrpc_req *rq)
{
    return job_post(rq, mig_action_request_token);
}

int mig_api_plc(struct xrpc_req *rq)
{
    return job_post(rq, mig_action_plc);
}

int mig_api_retry(struct xrpc_req *rq)
{
    return job_post(rq, mig_action_retry);
}

int mig_api_cancel(struct xrpc_req *rq)
{
    return job_post(rq, mig_action_cancel);
}
