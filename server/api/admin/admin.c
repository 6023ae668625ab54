/* admin.c - com.atproto.admin.* reads of accounts (getAccountInfo, getAccountInfos,
 * searchAccounts) and invite administration (enable/disableAccountInvites,
 * disableInviteCodes, getInviteCodes). Every handler takes HTTP Basic admin auth. */
#include "api/admin/admin_common.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "api/admin/admin.h"
#include "api/common/auth.h"
#include "api/common/input.h"
#include "core/syntax.h"
#include "db/repo_store.h"
#include "repo/writes.h"

#define SEARCH_ACCOUNTS_DEFAULT 50   /* lexicon default */
#define SEARCH_ACCOUNTS_MAX     100  /* lexicon maximum */
#define INVITE_CODES_DEFAULT    100  /* lexicon default */
#define INVITE_CODES_MAX        500  /* lexicon maximum */
#define DISABLE_CODES_MAX       1000 /* codes or accounts in one disableInviteCodes call */
#define EMAIL_QUERY_MAX_BYTES   254  /* an email address is at most this long (RFC 5321) */

/* ---- shared helpers (admin_common.h) ---- */

void admin_param_text_array(struct xrpc_req *rq, struct db_params *p, const char *const *items,
                            size_t n)
{
    struct bytes *views = arena_alloc(rq->arena, (n ? n : 1) * sizeof(*views));
    for (size_t i = 0; i < n; i++) {
        views[i] = bytes_str(items[i]);
    }
    struct buf arr;
    buf_init(&arr, BUF_MAX_DEFAULT);
    if (db_array_binary(&arr, DB_OID_TEXT, views, n) != ERR_OK) {
        abort(); /* only fails past BUF_MAX_DEFAULT, which the callers' limits rule out */
    }
    struct bytes kept = {arena_memdup(rq->arena, arr.ptr, arr.len), arr.len};
    buf_clear(&arr);
    db_param_bytes(p, kept);
}

json_t *admin_json_column(struct xrpc_req *rq, const char *text)
{
    json_error_t jerr;
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, &jerr) : NULL;
    if (!v) {
        log_error(&rq->log, "database returned a view that is not JSON");
    }
    return v;
}

int admin_account_exists(struct xrpc_req *rq, const char *did, bool *found)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, "SELECT 1 FROM account WHERE did = $1", &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *found = PQntuples(r) > 0;
    return 0;
}

int admin_takedown_ref(struct xrpc_req *rq, json_t *status, bool *applied, const char **ref)
{
    json_t *a = json_object_get(status, "applied");
    json_t *r = json_object_get(status, "ref");
    if (!json_is_boolean(a)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/takedown/applied must be a boolean");
    }
    if (r && !json_is_null(r) && !json_is_string(r)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/takedown/ref must be a string");
    }
    *applied = json_is_true(a);
    *ref = NULL;
    if (!*applied) {
        return 0;
    }
    if (json_is_string(r) && json_string_length(r) > 0) {
        *ref = json_string_value(r);
        return 0;
    }
    /* reference: a takedown without a ref is recorded with the current time */
    char *now = arena_alloc(rq->arena, 32);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    repo_format_time((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, now);
    *ref = now;
    return 0;
}

/* ---- account views ---- */

json_t *admin_json_rows(struct xrpc_req *rq, const PGresult *r, int max)
{
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r) && (max < 0 || i < max); i++) {
        json_t *v = admin_json_column(rq, db_col_text(r, i, 0));
        if (!v) {
            json_decref(list);
            return NULL;
        }
        json_array_append_new(list, v);
    }
    return list;
}

/* The views of the accounts among dids, in the order asked; unknown DIDs are skipped. */
static int account_views(struct xrpc_req *rq, const char *const *dids, size_t n, json_t **out)
{
    struct db_params p;
    db_params_init(&p);
    admin_param_text_array(rq, &p, dids, n);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT " ADMIN_SQL_ACCOUNT_VIEW " FROM account a"
                    " WHERE a.did = ANY ($1::text[]) ORDER BY array_position($1::text[], a.did)",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = admin_json_rows(rq, r, -1);
    if (!list) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *out = list;
    return 0;
}

/* com.atproto.admin.getAccountInfo */
int api_admin_get_account_info(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *did;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = xrpc_param_str(rq, "did", true, &did))) {
        return st;
    }
    if (!syntax_did_valid(bytes_str(did))) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Invalid did: %s", did);
    }
    json_t *list;
    if ((st = account_views(rq, &did, 1, &list))) {
        return st;
    }
    if (json_array_size(list) == 0) {
        json_decref(list);
        return xrpc_fail(rq, 400, "NotFound", "Account not found");
    }
    json_t *view = json_incref(json_array_get(list, 0));
    json_decref(list);
    return xrpc_reply_json(rq, 200, view);
}

/* com.atproto.admin.getAccountInfos */
int api_admin_get_account_infos(struct xrpc_req *rq)
{
    const struct auth *a;
    const char **dids;
    size_t n;
    int st = auth_admin(rq, &a);
    if (st) {
        return st;
    }
    xrpc_param_all(rq, "dids", &dids, &n);
    if (n == 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Params must have the property \"dids\"");
    }
    for (size_t i = 0; i < n; i++) {
        if (!syntax_did_valid(bytes_str(dids[i]))) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Invalid did: %s", dids[i]);
        }
    }
    json_t *list;
    if ((st = account_views(rq, dids, n, &list))) {
        return st;
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "infos", list));
}

/* A LIKE pattern matching s anywhere, with its own wildcards escaped. */
static char *like_contains(struct arena *a, const char *s)
{
    size_t n = strlen(s);
    char *out = arena_alloc(a, 2 * n + 3), *o = out;
    *o++ = '%';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' || s[i] == '_' || s[i] == '\\') {
            *o++ = '\\';
        }
        *o++ = s[i];
    }
    *o++ = '%';
    *o = '\0';
    return out;
}

/* com.atproto.admin.searchAccounts: accounts whose email contains `email` (any case), or
 * all accounts without it, ordered by DID; the cursor is the last DID. (The reference PDS
 * no longer serves this method; the lexicon still defines it.) */
int api_admin_search_accounts(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *email, *cursor;
    int64_t limit;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = xrpc_param_str(rq, "email", false, &email)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor)) ||
        (st = xrpc_param_int(rq, "limit", 1, SEARCH_ACCOUNTS_MAX, SEARCH_ACCOUNTS_DEFAULT,
                             &limit))) {
        return st;
    }
    if (email && strlen(email) > EMAIL_QUERY_MAX_BYTES) {
        return xrpc_fail(rq, 400, "InvalidRequest", "email is too long");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, email ? like_contains(rq->arena, email) : NULL);
    db_param_text(&p, cursor);
    db_param_i64(&p, limit);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena,
                    "SELECT " ADMIN_SQL_ACCOUNT_VIEW ", a.did FROM account a"
                    " WHERE ($1::text IS NULL OR lower(a.email) LIKE lower($1::text))"
                    " AND ($2::text IS NULL OR a.did > $2::text) ORDER BY a.did LIMIT $3",
                    &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = admin_json_rows(rq, r, -1);
    if (!list) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int rows = PQntuples(r);
    json_t *out = json_pack("{s:o}", "accounts", list);
    if (rows == limit) {
        json_object_set_new(out, "cursor", json_string(db_col_text(r, rows - 1, 1)));
    }
    return xrpc_reply_json(rq, 200, out);
}

/* ---- invites ---- */

/* enable/disableAccountInvites: sets account.invites_disabled. The note is not kept (the
 * reference drops it too). */
static int set_invites_disabled(struct xrpc_req *rq, bool disabled)
{
    const struct auth *a;
    const char *did, *note;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_str(rq, "account", true, &did)) ||
        (st = input_str(rq, "note", false, &note))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bool(&p, disabled);
    int64_t n;
    if (db_exec(rq->db, "UPDATE account SET invites_disabled = $2 WHERE did = $1", &p, &n)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    if (n == 0) {
        return xrpc_fail(rq, 400, "NotFound", "Account not found");
    }
    log_info(&rq->log, "invites %s for %s", disabled ? "disabled" : "enabled", did);
    return xrpc_reply_empty(rq, 200);
}

/* com.atproto.admin.enableAccountInvites */
int api_admin_enable_account_invites(struct xrpc_req *rq)
{
    return set_invites_disabled(rq, false);
}

/* com.atproto.admin.disableAccountInvites */
int api_admin_disable_account_invites(struct xrpc_req *rq)
{
    return set_invites_disabled(rq, true);
}

/* An optional array of strings in the body: *items in the arena, *n entries. */
static int input_str_array(struct xrpc_req *rq, const char *key, const char ***items, size_t *n)
{
    json_t *v = json_object_get(rq->json, key);
    *items = NULL;
    *n = 0;
    if (!v || json_is_null(v)) {
        return 0;
    }
    if (!json_is_array(v)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s must be an array", key);
    }
    if (json_array_size(v) > DISABLE_CODES_MAX) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s has more than %d items", key,
                         DISABLE_CODES_MAX);
    }
    *n = json_array_size(v);
    *items = arena_alloc(rq->arena, (*n ? *n : 1) * sizeof(**items));
    for (size_t i = 0; i < *n; i++) {
        json_t *s = json_array_get(v, i);
        if (!json_is_string(s)) {
            return xrpc_fail(rq, 400, "InvalidRequest", "Input/%s/%zu must be a string", key, i);
        }
        (*items)[i] = json_string_value(s);
    }
    return 0;
}

/* com.atproto.admin.disableInviteCodes */
int api_admin_disable_invite_codes(struct xrpc_req *rq)
{
    const struct auth *a;
    const char **codes, **accounts;
    size_t n_codes, n_accounts;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = input_require_object(rq)) ||
        (st = input_str_array(rq, "codes", &codes, &n_codes)) ||
        (st = input_str_array(rq, "accounts", &accounts, &n_accounts))) {
        return st;
    }
    for (size_t i = 0; i < n_accounts; i++) {
        if (strcmp(accounts[i], "admin") == 0) {
            return xrpc_fail(rq, 400, "InvalidRequest", "cannot disable admin invite codes");
        }
    }
    struct db_params p;
    db_params_init(&p);
    admin_param_text_array(rq, &p, codes, n_codes);
    admin_param_text_array(rq, &p, accounts, n_accounts);
    if (db_exec(rq->db,
                "UPDATE invite_code SET disabled = true"
                " WHERE code = ANY ($1::text[]) OR for_account = ANY ($2::text[])",
                &p, NULL)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    return xrpc_reply_empty(rq, 200);
}

/* A getInviteCodes cursor: "<number>::<code>" (the reference's keyset form; the number is
 * the creation time in microseconds for sort=recent, the use count for sort=usage). */
static bool parse_cursor(struct xrpc_req *rq, const char *cursor, int64_t *num, const char **code)
{
    const char *sep = strstr(cursor, "::");
    if (!sep || sep == cursor || sep[2] == '\0' || strstr(sep + 2, "::")) {
        return false;
    }
    char *end;
    errno = 0;
    long long v = strtoll(cursor, &end, 10);
    if (errno || end != sep) {
        return false;
    }
    *num = v;
    *code = sep + 2;
    return true;
}

/* com.atproto.admin.getInviteCodes: all codes, newest first (sort=recent) or most used
 * first (sort=usage), ties by code, descending. */
int api_admin_get_invite_codes(struct xrpc_req *rq)
{
    const struct auth *a;
    const char *sort, *cursor;
    int64_t limit;
    int st;
    if ((st = auth_admin(rq, &a)) || (st = xrpc_param_str(rq, "sort", false, &sort)) ||
        (st = xrpc_param_int(rq, "limit", 1, INVITE_CODES_MAX, INVITE_CODES_DEFAULT, &limit)) ||
        (st = xrpc_param_str(rq, "cursor", false, &cursor))) {
        return st;
    }
    bool by_usage = sort && strcmp(sort, "usage") == 0;
    if (sort && !by_usage && strcmp(sort, "recent") != 0) {
        return xrpc_fail(rq, 400, "InvalidRequest", "unknown sort method: %s", sort);
    }
    int64_t num = 0;
    const char *code = NULL;
    if (cursor && !parse_cursor(rq, cursor, &num, &code)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "Malformed cursor");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_bool(&p, cursor != NULL);
    db_param_i64(&p, num);
    db_param_text(&p, code ? code : "");
    db_param_i64(&p, limit);
    /* keyset pagination on (created_at, code) or (uses, code), both descending */
    const char *sql =
        by_usage ? "SELECT " ADMIN_SQL_INVITE_VIEW "::text, c.uses, c.code FROM"
                   " (SELECT i.*, (SELECT count(*) FROM invite_code_use u WHERE u.code = i.code)"
                   " AS uses FROM invite_code i) c"
                   " WHERE NOT $1 OR (c.uses, c.code) < ($2::bigint, $3::text)"
                   " ORDER BY c.uses DESC, c.code DESC LIMIT $4"
                 : "SELECT " ADMIN_SQL_INVITE_VIEW "::text, c.created_at, c.code FROM invite_code c"
                   " WHERE NOT $1 OR (c.created_at, c.code) <"
                   " (timestamptz 'epoch' + $2::bigint * interval '1 microsecond', $3::text)"
                   " ORDER BY c.created_at DESC, c.code DESC LIMIT $4";
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, sql, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = admin_json_rows(rq, r, -1);
    if (!list) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    int rows = PQntuples(r);
    json_t *out = json_pack("{s:o}", "codes", list);
    if (rows == limit) {
        int64_t last = by_usage ? db_col_i64(r, rows - 1, 1) : db_col_time_us(r, rows - 1, 1);
        char next[64 + SYNTAX_HANDLE_BUF];
        snprintf(next, sizeof(next), "%lld::%s", (long long)last, db_col_text(r, rows - 1, 2));
        json_object_set_new(out, "cursor", json_string(next));
    }
    return xrpc_reply_json(rq, 200, out);
}
