/* mig_admin.c - the migration jobs in the admin API (HTTP Basic admin, ours): list and read
 * jobs, start a move into this server for an operator moving a community with the users'
 * consent (`pdsadmin account migrate-in`: the same job engine, the user's password given to
 * the operator, the emailed PLC code relayed back), give the code, retry, cancel. */
#include "api/migrate/mig_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/account/account_ops.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/migrate/mig_actions.h"
#include "api/migrate/mig_signin.h"
#include "api/migrate/mig_store.h"
#include "api/migrate/migrate.h"
#include "config/config.h"
#include "web/page.h"

#define LIST_DEFAULT 50
#define LIST_MAX     500

static int admin(struct xrpc_req *rq)
{
    const struct auth *a;
    return auth_admin(rq, &a);
}

/* GET /xrpc/_migrate.list?state=&limit= */
int mig_admin_list(struct xrpc_req *rq)
{
    const char *state;
    int64_t limit;
    int st;
    if ((st = admin(rq)) || (st = xrpc_param_str(rq, "state", false, &state)) ||
        (st = xrpc_param_int(rq, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit))) {
        return st;
    }
    json_t *jobs = mig_store_list_json(rq->db, state, limit);
    if (!jobs) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT count(*) FILTER (WHERE state IN ('preflight', 'confirm', 'running')),"
                    " count(*) FILTER (WHERE state = 'awaiting_token'),"
                    " count(*) FILTER (WHERE state = 'failed'),"
                    " count(*) FILTER (WHERE state = 'done'),"
                    " count(*) FILTER (WHERE state = 'cancelled') FROM migration_job",
                    NULL, &r)) {
        json_decref(jobs);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *counts = json_pack(
        "{s:I,s:I,s:I,s:I,s:I}", "active", (json_int_t)db_col_i64(r, 0, 0), "awaitingToken",
        (json_int_t)db_col_i64(r, 0, 1), "failed", (json_int_t)db_col_i64(r, 0, 2), "done",
        (json_int_t)db_col_i64(r, 0, 3), "cancelled", (json_int_t)db_col_i64(r, 0, 4));
    return xrpc_reply_json(rq, 200, json_pack("{s:o,s:o}", "jobs", jobs, "counts", counts));
}

static int id_param(struct xrpc_req *rq, int64_t *id)
{
    json_t *v = rq->json ? json_object_get(rq->json, "id") : NULL;
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *id = json_integer_value(v);
        return 0;
    }
    return xrpc_param_int(rq, "id", 1, INT64_MAX, 0, id) ? 400
           : *id > 0                                     ? 0
                     : xrpc_fail(rq, 400, "InvalidRequest", "Params must have the property \"id\"");
}

/* GET /xrpc/_migrate.get?id= */
int mig_admin_get(struct xrpc_req *rq)
{
    int64_t id = 0;
    int st;
    if ((st = admin(rq)) || (st = id_param(rq, &id))) {
        return st;
    }
    return mig_action_status(rq, id);
}

/* createSession at the old host for the operator's job. 0, or the error set in the
 * operator's words. */
static int sign_in(struct xrpc_req *rq, const char *url, const char *did, const char *password,
                   struct mig_job *j)
{
    struct mig_remote_session s;
    enum mig_signin_result res =
        mig_sign_in_old(url, did, password, NULL, !rq->cfg->disable_ssrf_protection, &s);
    int st = 0;
    switch (res) {
    case MIG_SIGNIN_OK:
        mig_secret_set(&j->sec.remote_access, s.access);
        mig_secret_set(&j->sec.remote_refresh, s.refresh);
        j->old_handle = s.handle;
        j->email = s.email;
        s.handle = s.email = NULL; /* now the job's */
        break;
    case MIG_SIGNIN_UNREACHABLE:
        st = xrpc_fail(rq, 502, "OldHostUnreachable", "%s did not answer", url);
        break;
    case MIG_SIGNIN_NEED_CODE:
        st = xrpc_fail(rq, 400, "AuthFactorTokenRequired",
                       "The account signs in with an emailed code: the user must start the move "
                       "at /migrate");
        break;
    case MIG_SIGNIN_WRONG_PASSWORD:
        st = xrpc_fail(rq, 401, "WrongPassword", "%s did not accept the password", url);
        break;
    case MIG_SIGNIN_WRONG_ACCOUNT:
        st = xrpc_fail(rq, 400, "WrongAccount", "%s signed in another account", url);
        break;
    case MIG_SIGNIN_REFUSED:
    case MIG_SIGNIN_BAD_ANSWER:
    default:
        st = xrpc_fail(rq, 502, "BadAnswer", "%s did not answer with a session: %s %s", url,
                       s.error, s.message);
        break;
    }
    mig_remote_session_clear(&s);
    return st;
}

/* The account's DID and host, from its handle (or DID). 0, or the error set. */
static int locate(struct xrpc_req *rq, const char *ident, char did[RESOLVER_DID_MAX], char **pds)
{
    char *handle;
    switch (mig_locate(rq->arena, ident, did, pds, &handle)) {
    case MIG_LOCATE_OK:
        return 0;
    case MIG_LOCATE_BAD_DID:
        return xrpc_fail(rq, 400, "InvalidRequest", "Not a valid DID: %s", ident);
    case MIG_LOCATE_BAD_HANDLE:
    case MIG_LOCATE_NO_HANDLE:
        return xrpc_fail(rq, 400, "HandleNotFound", "The handle %s does not resolve", ident);
    case MIG_LOCATE_NO_DID:
        return xrpc_fail(rq, 400, "DidNotFound", "The DID %s could not be resolved", did);
    case MIG_LOCATE_NO_PDS:
    default:
        return xrpc_fail(rq, 400, "NoPds", "The DID document of %s names no PDS", did);
    }
}

/* POST /xrpc/_migrate.createInbound {handle, password, from?, newHandle?, inviteCode?} */
int mig_admin_create_inbound(struct xrpc_req *rq)
{
    const char *handle, *password, *from, *new_handle, *invite;
    int st;
    if ((st = admin(rq)) || (st = web_json_body(rq, false)) ||
        (st = input_str(rq, "handle", true, &handle)) ||
        (st = input_str(rq, "password", true, &password)) ||
        (st = input_str(rq, "from", false, &from)) ||
        (st = input_str(rq, "newHandle", false, &new_handle)) ||
        (st = input_str(rq, "inviteCode", false, &invite))) {
        return st;
    }
    char did[RESOLVER_DID_MAX];
    char *pds = NULL;
    if ((st = locate(rq, handle, did, &pds))) {
        return st;
    }
    rq->log.did = did;
    if (from) {
        char why[160];
        char *want = mig_normalize_url(rq, from, why, sizeof why);
        if (!want) {
            return xrpc_fail(rq, 400, "InvalidUrl", "%s", why);
        }
        if (strcmp(want, pds) != 0) {
            return xrpc_fail(rq, 400, "NotHostedThere", "%s is hosted at %s, not at %s", handle,
                             pds, want);
        }
    }
    if (strcmp(pds, rq->cfg->public_url) == 0) {
        return xrpc_fail(rq, 400, "AlreadyHere", "%s is already hosted here", handle);
    }
    struct mig_job j;
    mig_job_init(&j);
    if ((st = sign_in(rq, pds, did, password, &j))) {
        mig_job_clear(&j);
        return st;
    }
    j.dir = MIG_IN;
    j.did = xstrndup(did, strlen(did));
    j.created_by = xstrndup("operator", 8);
    j.old_url = xstrndup(pds, strlen(pds));
    j.new_url = xstrndup(rq->cfg->public_url, strlen(rq->cfg->public_url));
    j.new_handle = new_handle ? xstrndup(new_handle, strlen(new_handle)) : NULL;
    j.invite_code = invite ? xstrndup(invite, strlen(invite)) : NULL;
    mig_secret_set(&j.sec.password, password);
    int64_t id = 0;
    enum err e = mig_store_create(rq->db, &j, NULL, &id);
    mig_job_clear(&j);
    if (e == ERR_CONFLICT) {
        return xrpc_fail(rq, 409, "MigrationRunning",
                         "Another migration of this account is already running");
    }
    if (e) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    log_info(&rq->log, "operator migration %lld of %s started from %s", (long long)id, did, pds);
    migrate_wake();
    return mig_action_status(rq, id);
}

typedef int action_fn(struct xrpc_req *rq, int64_t id);

static int admin_post(struct xrpc_req *rq, action_fn *fn)
{
    int64_t id = 0;
    int st;
    if ((st = admin(rq)) || (st = web_json_body(rq, false)) || (st = id_param(rq, &id))) {
        return st;
    }
    return fn(rq, id);
}

int mig_admin_submit_token(struct xrpc_req *rq)
{
    return admin_post(rq, mig_action_plc);
}

int mig_admin_retry(struct xrpc_req *rq)
{
    return admin_post(rq, mig_action_retry);
}

int mig_admin_cancel(struct xrpc_req *rq)
{
    return admin_post(rq, mig_action_cancel);
}
