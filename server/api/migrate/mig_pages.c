/* mig_pages.c - GET /migrate (move an account here) and GET /migrate/out (move it away):
 * templates from admin-ui/migrate/, filled with this host's name and address. Everything
 * after load happens in the page's script through the endpoints of mig_api.c. */
#include "api/migrate/mig_api.h"

#include "config/config.h"
#include "web/page.h"

static int page(struct xrpc_req *rq, const char *template_path)
{
    const struct web_var vars[] = {
        {"host_url", rq->cfg->public_url},
        {"host_name", rq->cfg->hostname},
    };
    return web_reply_page(rq, 200, template_path, vars, ARRAY_LEN(vars));
}

int mig_page_in(struct xrpc_req *rq)
{
    return page(rq, "migrate/in.html");
}

int mig_page_out(struct xrpc_req *rq)
{
    return page(rq, "migrate/out.html");
}
