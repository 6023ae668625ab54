/* id_page.c - the console's lists read a page at a time, newest first, by id (the audit
 * log, the forwarded reports): the session, the cursor and the page (console.h). */
#include "api/console/console.h"

#include "api/admin/admin_common.h"

int console_id_page(struct xrpc_req *rq, const char *sql, int page, const char *key, json_t **out)
{
    *out = NULL;
    struct console_session s;
    int64_t before;
    int st;
    if ((st = console_session_require(rq, false, false, &s)) ||
        (st = xrpc_param_int(rq, "before", 1, INT64_MAX, INT64_MAX, &before))) {
        return st;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, before);
    db_param_i64(&p, page);
    PGresult *r;
    if (db_query_in(rq->db, rq->arena, sql, &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = admin_json_rows(rq, r, -1);
    if (!list) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    *out = json_pack("{s:o}", key, list);
    if (PQntuples(r) == page) {
        json_object_set_new(*out, "before", json_integer(db_col_i64(r, page - 1, 1)));
    }
    return 0;
}
