/* audit_page.c - the audit log page's data: entries newest first, a page at a time. */
#include "api/console/console.h"

#include "api/admin/admin_common.h"

#define AUDIT_PAGE 100

/* GET /admin/api/audit?before=<id>: the newest entries first. */
int console_api_audit(struct xrpc_req *rq)
{
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
    db_param_i64(&p, AUDIT_PAGE);
    PGresult *r;
    if (db_query_in(
            rq->db, rq->arena,
            "SELECT json_build_object('id', id, 'at', " ADMIN_SQL_TIME(
                "at") ","
                      " 'actor', actor, 'ip', client_ip, 'action', action, 'subject', subject,"
                      " 'outcome', outcome, 'detail', detail)::text, id"
                      " FROM admin_audit WHERE id < $1 ORDER BY id DESC LIMIT $2",
            &p, &r)) {
        return xrpc_fail(rq, 500, NULL, NULL);
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *v = admin_json_column(rq, db_col_text(r, i, 0));
        if (v) {
            json_array_append_new(list, v);
        }
    }
    json_t *out = json_pack("{s:o}", "entries", list);
    if (PQntuples(r) == AUDIT_PAGE) {
        json_object_set_new(out, "before", json_integer(db_col_i64(r, AUDIT_PAGE - 1, 1)));
    }
    return xrpc_reply_json(rq, 200, out);
}
