/* settings.c - the configuration page's data: every setting, secrets redacted
 * (config_describe). */
#include "api/console/console.h"

#include "config/config.h"

/* GET /admin/api/config */
int console_api_config(struct xrpc_req *rq)
{
    struct console_session s;
    int st = console_session_require(rq, false, false, &s);
    if (st) {
        return st;
    }
    return xrpc_reply_json(rq, 200, json_pack("{s:o}", "settings", config_describe(rq->cfg)));
}
