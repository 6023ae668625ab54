/* invites.c - the console's invite codes: list (com.atproto.admin.getInviteCodes), create
 * (com.atproto.server.createInviteCode) and disable (com.atproto.admin.disableInviteCodes),
 * each the admin XRPC handler run on this signed-in request. */
#include "api/console/console.h"

#include "web/page.h"

#include "api/admin/admin.h"
#include "api/server/server.h"

/* GET /admin/api/invites?cursor=&limit= (getInviteCodes' parameters) */
int console_api_invites(struct xrpc_req *rq)
{
    struct console_session s;
    int st = console_session_require(rq, false, false, &s);
    return st ? st : api_admin_get_invite_codes(rq);
}

static const char *outcome(struct xrpc_req *rq)
{
    return rq->resp.status < 400 ? "ok" : "failed";
}

/* POST /admin/api/invites/create {useCount, forAccount?} */
int console_api_invite_create(struct xrpc_req *rq)
{
    struct console_session s;
    int st;
    if ((st = console_session_require(rq, false, true, &s)) || (st = web_json_body(rq, true))) {
        return st;
    }
    st = api_server_create_invite_code(rq);
    const char *code = NULL;
    if (st == 200) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)rq->resp.body, rq->resp.body_len, 0, &jerr);
        const char *c = json_string_value(json_object_get(j, "code"));
        code = c ? arena_strndup(rq->arena, c, strlen(c)) : NULL;
        json_decref(j);
    }
    json_t *uses = json_object_get(rq->json, "useCount");
    console_audit(rq, s.actor, "invite_create", code, outcome(rq),
                  json_pack("{s:O?}", "useCount", uses));
    return st;
}

/* POST /admin/api/invites/disable {codes: [...]} */
int console_api_invite_disable(struct xrpc_req *rq)
{
    struct console_session s;
    int st;
    if ((st = console_session_require(rq, false, true, &s)) || (st = web_json_body(rq, true))) {
        return st;
    }
    json_t *codes = json_object_get(rq->json, "codes");
    const char *first = json_string_value(json_array_get(codes, 0));
    st = api_admin_disable_invite_codes(rq);
    if (st == 200) {
        st = xrpc_reply_json(rq, 200, json_pack("{s:b}", "ok", 1));
    }
    console_audit(rq, s.actor, "invite_disable", first, outcome(rq),
                  json_pack("{s:O?}", "codes", codes));
    return st;
}
