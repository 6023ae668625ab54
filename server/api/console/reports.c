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
    json_t *out;
    int st = console_id_page(
        rq,
        "SELECT json_build_object('id', id, 'at', " ADMIN_SQL_TIME(
            "at") ","
                  " 'reporter', reporter, 'reasonType', reason_type, 'subject', subject,"
                  " 'reason', reason, 'service', service_did, 'status', status)::text, id"
                  " FROM moderation_report_forwarded WHERE id < $1 ORDER BY id DESC LIMIT $2",
        REPORTS_PAGE, "reports", &out);
    if (st) {
        return st;
    }
    const struct config *cfg = rq->cfg;
    json_object_set_new(out, "serviceUrl",
                        cfg->report_service_url ? json_string(cfg->report_service_url)
                                                : json_null());
    json_object_set_new(out, "serviceDid",
                        cfg->report_service_did ? json_string(cfg->report_service_did)
                                                : json_null());
    return xrpc_reply_json(rq, 200, out);
}
