/* audit.c - the audit log: one admin_audit row per console action and sign-in attempt,
 * and the page that lists them. */
#include "api/console/console.h"

#include "api/admin/admin_common.h"
#include "db/log.h"

#define AUDIT_PAGE      100
#define AUDIT_TEXT_MAX  512 /* bytes of a subject kept */

void console_audit(struct xrpc_req *rq, const char *actor, const char *action,
                   const char *subject, const char *outcome, json_t *detail)
{
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, actor ? actor : "admin");
    db_param_text(&p, rq->client_ip);
    db_param_text(&p, action);
    db_param_text(&p, subject ? arena_strndup(rq->arena, subject, strnlen(subject, AUDIT_TEXT_MAX))
                              : NULL);
    db_param_text(&p, outcome);
    db_param_text(&p, d);
    if (db_exec(rq->db,
                "INSERT INTO admin_audit (actor, client_ip, action, subject, outcome, detail)"
                " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
                &p, NULL)) {
        log_error(&rq->log, "audit: could not record %s on %s", action, subject ? subject : "-");
    }
    log_info(&rq->log, "console: %s %s%s%s: %s", actor ? actor : "admin", action,
             subject ? " " : "", subject ? subject : "", outcome);
    free(d);
}

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
    if (db_query_in(rq->db, rq->arena,
                    "SELECT json_build_object('id', id, 'at', " ADMIN_SQL_TIME("at") ","
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
