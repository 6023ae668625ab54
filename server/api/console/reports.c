/* reports.c - moderation reports this host forwarded (the proxy records each
 * com.atproto.moderation.createReport it sends on), and the page's list of them. */
#include "api/console/console.h"

#include "api/admin/admin_common.h"
#include "config/config.h"

#define REPORTS_PAGE    100
#define REPORT_TEXT_MAX 2000 /* bytes of a reason kept */
#define REPORT_BODY_MAX (64 << 10)

void console_report_forwarded(struct xrpc_req *rq, const char *reporter, struct bytes body,
                              const char *service_did, long status)
{
    json_error_t jerr;
    json_t *j = body.len && body.len < REPORT_BODY_MAX
                    ? json_loadb((const char *)body.ptr, body.len, 0, &jerr)
                    : NULL;
    json_t *subject = json_object_get(j, "subject");
    const char *what = json_string_value(json_object_get(subject, "uri"));
    if (!what) {
        what = json_string_value(json_object_get(subject, "did"));
    }
    const char *reason = json_string_value(json_object_get(j, "reason"));
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, reporter ? reporter : "");
    db_param_text(&p, json_string_value(json_object_get(j, "reasonType")));
    db_param_text(&p, what);
    db_param_text(&p, reason ? arena_strndup(rq->arena, reason, strnlen(reason, REPORT_TEXT_MAX))
                             : NULL);
    db_param_text(&p, service_did);
    db_param_i64(&p, status);
    if (db_exec(rq->db,
                "INSERT INTO moderation_report_forwarded"
                " (reporter, reason_type, subject, reason, service_did, status)"
                " VALUES ($1, $2, $3, $4, $5, $6::int)",
                &p, NULL)) {
        log_error(&rq->log, "could not record a forwarded report");
    }
    json_decref(j);
}

/* GET /admin/api/reports?before=<id> */
int console_api_reports(struct xrpc_req *rq)
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
    db_param_i64(&p, REPORTS_PAGE);
    PGresult *r;
    if (db_query_in(
            rq->db, rq->arena,
            "SELECT json_build_object('id', id, 'at', " ADMIN_SQL_TIME(
                "at") ","
                      " 'reporter', reporter, 'reasonType', reason_type, 'subject', subject,"
                      " 'reason', reason, 'service', service_did, 'status', status)::text, id"
                      " FROM moderation_report_forwarded WHERE id < $1 ORDER BY id DESC LIMIT $2",
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
    const struct config *cfg = rq->cfg;
    json_t *out = json_pack("{s:o,s:s?,s:s?}", "reports", list, "serviceUrl",
                            cfg->report_service_url, "serviceDid", cfg->report_service_did);
    if (PQntuples(r) == REPORTS_PAGE) {
        json_object_set_new(out, "before", json_integer(db_col_i64(r, REPORTS_PAGE - 1, 1)));
    }
    return xrpc_reply_json(rq, 200, out);
}
