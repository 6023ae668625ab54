/* invite.c - com.atproto.server.{createInviteCode,createInviteCodes} (admin) and
 * getAccountInviteCodes. Codes look like the reference's: the hostname with dots as dashes,
 * then two groups of five base32 characters ("pds-example-com-abc23-567xy"). */
#include "api/server/server.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "api/server/server_common.h"
#include "db/repo_store.h"
#include "config/config.h"
#include "repo/writes.h"

#define INVITE_GROUP_CHARS   5
#define INVITE_CODES_MAX     1000 /* codes in one createInviteCodes call, per account */
#define INVITE_ACCOUNTS_MAX  100  /* forAccounts entries in one call */
#define INVITE_USE_COUNT_MAX 1000000
#define INVITE_FOR_ADMIN     "admin"

/* A new code: "<hostname with dashes>-xxxxx-xxxxx" in the arena. */
static char *invite_code_new(struct xrpc_req *rq)
{
    const char *host = rq->cfg->hostname;
    size_t n = strlen(host), cap = n + 2 * (INVITE_GROUP_CHARS + 1) + 1;
    char *code = arena_alloc(rq->arena, cap);
    for (size_t i = 0; i < n; i++) {
        code[i] = host[i] == '.' ? '-' : host[i];
    }
    char g1[INVITE_GROUP_CHARS + 1], g2[INVITE_GROUP_CHARS + 1];
    password_token_base32(g1, INVITE_GROUP_CHARS);
    password_token_base32(g2, INVITE_GROUP_CHARS);
    snprintf(code + n, cap - n, "-%s-%s", g1, g2);
    return code;
}

/* Inserts n codes for one account (created by the admin) in one statement. */
static enum err invite_insert(struct xrpc_req *rq, char **codes, size_t n, int64_t uses,
                              const char *for_account)
{
    struct bytes *items = arena_alloc(rq->arena, (n ? n : 1) * sizeof(*items));
    for (size_t i = 0; i < n; i++) {
        items[i] = bytes_str(codes[i]);
    }
    struct buf arr;
    buf_init(&arr, BUF_MAX_DEFAULT);
    enum err e = db_array_binary(&arr, DB_OID_TEXT, items, n);
    if (!e) {
        struct db_params p;
        db_params_init(&p);
        db_param_bytes(&p, buf_bytes(&arr));
        db_param_i64(&p, uses);
        db_param_text(&p, for_account);
        e = db_exec(rq->db,
                    "INSERT INTO invite_code (code, available_uses, for_account, created_by)"
                    " SELECT c, $2::int, $3, 'admin' FROM unnest($1::text[]) AS c",
                    &p, NULL);
    }
    buf_clear(&arr);
    return e;
}

/* com.atproto.server.createInviteCode */
int api_server_create_invite_code(struct xrpc_req *rq)
{
    const struct auth *a;
    int64_t uses;
    const char *for_account;
    int st = auth_admin(rq, &a);
    if (st || (st = input_require_object(rq)) ||
        (st = input_int(rq, "useCount", true, 0, INVITE_USE_COUNT_MAX, 0, &uses)) ||
        (st = input_str(rq, "forAccount", false, &for_account))) {
        return st;
    }
    char *code = invite_code_new(rq);
    if (invite_insert(rq, &code, 1, uses, for_account ? for_account : INVITE_FOR_ADMIN)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:s}", "code", code));
}

/* com.atproto.server.createInviteCodes */
int api_server_create_invite_codes(struct xrpc_req *rq)
{
    const struct auth *a;
    int64_t count, uses;
    int st = auth_admin(rq, &a);
    if (st || (st = input_require_object(rq)) ||
        (st = input_int(rq, "codeCount", true, 1, INVITE_CODES_MAX, 1, &count)) ||
        (st = input_int(rq, "useCount", true, 0, INVITE_USE_COUNT_MAX, 0, &uses))) {
        return st;
    }
    json_t *accounts = json_object_get(rq->json, "forAccounts");
    size_t n_accounts = accounts ? json_array_size(accounts) : 1;
    if (accounts && !json_is_array(accounts)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/forAccounts must be an array");
    }
    if (n_accounts > INVITE_ACCOUNTS_MAX) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Too many accounts: at most %d",
                         INVITE_ACCOUNTS_MAX);
    }
    for (size_t i = 0; accounts && i < n_accounts; i++) {
        if (!json_is_string(json_array_get(accounts, i))) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Input/forAccounts/%zu must be a string",
                             i);
        }
    }
    json_t *out = json_array();
    char **codes = arena_alloc(rq->arena, (size_t)count * sizeof(*codes));
    enum err e = db_begin(rq->db);
    for (size_t i = 0; !e && i < n_accounts; i++) {
        const char *acct =
            accounts ? json_string_value(json_array_get(accounts, i)) : INVITE_FOR_ADMIN;
        json_t *list = json_array();
        for (int64_t k = 0; k < count; k++) {
            codes[k] = invite_code_new(rq);
            json_array_append_new(list, json_string(codes[k]));
        }
        json_array_append_new(out, json_pack("{s:s, s:o}", "account", acct, "codes", list));
        e = invite_insert(rq, codes, (size_t)count, uses, acct);
    }
    if (!e) {
        e = db_commit(rq->db);
    }
    if (e) {
        db_rollback(rq->db);
        json_decref(out);
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "codes", out));
}

static json_t *time_json(int64_t unix_us)
{
    char s[32];
    repo_format_time(unix_us / 1000, s);
    return json_string(s);
}

/* com.atproto.server.getAccountInviteCodes: the account's codes with their uses. Earning
 * codes over time (PDS_INVITE_INTERVAL, createAvailable) is not implemented. */
int api_server_get_account_invite_codes(struct xrpc_req *rq)
{
    const struct auth *a;
    bool include_used, create_available;
    int st = auth_access(rq, AUTH_FULL | AUTH_CHECK_TAKEDOWN, &a);
    if (st || (st = xrpc_param_bool(rq, "includeUsed", true, &include_used)) ||
        (st = xrpc_param_bool(rq, "createAvailable", true, &create_available))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, a->did);
    PGresult *codes, *uses;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT code, available_uses, disabled, for_account, created_by, created_at"
                    " FROM invite_code WHERE for_account = $1 ORDER BY created_at, code",
                    &p, &codes) ||
        db_query_in(rq->db, rq->arena,
                    "SELECT u.code, u.used_by, u.used_at FROM invite_code_use u"
                    " JOIN invite_code c ON c.code = u.code WHERE c.for_account = $1"
                    " ORDER BY u.used_at DESC",
                    &p, &uses)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(codes); i++) {
        const char *code = db_col_text(codes, i, 0);
        int64_t available = db_col_i64(codes, i, 1);
        json_t *used = json_array();
        for (int k = 0; k < PQntuples(uses); k++) {
            if (strcmp(db_col_text(uses, k, 0), code) == 0) {
                json_array_append_new(used,
                                      json_pack("{s:s, s:o}", "usedBy", db_col_text(uses, k, 1),
                                                "usedAt", time_json(db_col_time_us(uses, k, 2))));
            }
        }
        if (db_col_bool(codes, i, 2) ||
            (!include_used && (int64_t)json_array_size(used) >= available)) {
            json_decref(used);
            continue;
        }
        json_array_append_new(
            list, json_pack("{s:s, s:I, s:b, s:s, s:s, s:o, s:o}", "code", code, "available",
                            (json_int_t)available, "disabled", 0, "forAccount",
                            db_col_text(codes, i, 3), "createdBy", db_col_text(codes, i, 4),
                            "createdAt", time_json(db_col_time_us(codes, i, 5)), "uses", used));
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "codes", list));
}
