/* audit_page.c - the audit log page's data: entries newest first, a page at a time. */
#include "api/console/console.h"

#include "api/admin/admin_common.h"

#define AUDIT_PAGE 100

/* GET /admin/api/audit?before=<id>: the newest entries first. */
int console_api_audit(struct xrpc_req *rq)
{
    json_t *out;
    int st = console_id_page(
        rq,
        "SELECT json_build_object('id', id, 'at', " ADMIN_SQL_TIME(
            "at") ","
                  " 'actor', actor, 'ip', client_ip, 'action', action, 'subject', subject,"
                  " 'outcome', outcome, 'detail', detail)::text, id"
                  " FROM admin_audit WHERE id < $1 ORDER BY id DESC LIMIT $2",
        AUDIT_PAGE, "entries", &out);
    return st ? st : xrpc_reply_json(rq, 200, out);
}
