/* pages.c - the console's pages: each is a template of admin-ui/admin/ whose script fills
 * it from the JSON endpoints; a page needs a session (else a redirect to sign in). */
#include "api/console/console.h"

#include <string.h>

#include "web/page.h"

static const struct {
    const char *path, *template_path, *title;
} pages[] = {
    {"/admin", "admin/dashboard.html", "Dashboard"},
    {"/admin/", "admin/dashboard.html", "Dashboard"},
    {"/admin/accounts", "admin/accounts.html", "Accounts"},
    {"/admin/account", "admin/account.html", "Account"},
    {"/admin/invites", "admin/invites.html", "Invite codes"},
    {"/admin/reports", "admin/reports.html", "Moderation reports"},
    {"/admin/relays", "admin/relays.html", "Relays"},
    {"/admin/config", "admin/config.html", "Configuration"},
    {"/admin/audit", "admin/audit.html", "Audit log"},
};

/* GET /admin, /admin/accounts, ... */
int console_page(struct xrpc_req *rq)
{
    struct console_session s;
    int st = console_session_require(rq, true, false, &s);
    if (st) {
        return st;
    }
    for (size_t i = 0; i < ARRAY_LEN(pages); i++) {
        if (strcmp(rq->path, pages[i].path) == 0) {
            const struct web_var vars[] = {{"title", pages[i].title}, {"actor", s.actor}};
            return web_reply_page(rq, 200, pages[i].template_path, vars, ARRAY_LEN(vars));
        }
    }
    return web_error_page(rq, 404, "Not found", "There is no such console page.");
}
