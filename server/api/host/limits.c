/* limits.c - GET /xrpc/_rateLimits (admin; ours): the host's event budget and its use, the
 * accounts held to their fair share, every rate limit with its admitted and refused counts,
 * overload protection, and what each relay says about this host. A summary of the same is
 * part of /xrpc/_status (api_host_limits_summary). */
#include "api/host/host.h"

#include "api/common/auth.h"
#include "api/sync/relay_standing.h"
#include "http/hostbudget.h"
#include "http/overload.h"
#include "http/ratelimit.h"

/* GET /xrpc/_rateLimits (admin) */
int api_host_rate_limits(struct xrpc_req *rq)
{
    const struct auth *a;
    int st = auth_admin(rq, &a);
    if (st) {
        return st;
    }
    json_t *out = json_pack("{s:b,s:o,s:o,s:o,s:o}", "enabled", ratelimit_enabled(), "hostBudget",
                            hostbudget_status_json(rq->db), "limits", ratelimit_status_json(rq->db),
                            "overload", overload_status_json(), "relays",
                            relay_standing_status_json(rq->db, rq->cfg));
    return xrpc_reply_json(rq, 200, out);
}

json_t *api_host_limits_summary(struct xrpc_req *rq)
{
    json_t *budget = hostbudget_status_json(rq->db);
    json_t *limits = ratelimit_status_json(rq->db);
    json_t *refused = json_object();
    size_t i;
    json_t *l;
    json_array_foreach(limits, i, l)
    {
        json_int_t n = json_integer_value(json_object_get(l, "refused"));
        if (n > 0) {
            json_object_set_new(refused, json_string_value(json_object_get(l, "name")),
                                json_integer(n));
        }
    }
    json_decref(limits);
    json_t *slowed = json_object_get(budget, "slowedAccounts");
    json_t *out = json_pack(
        "{s:b,s:{s:b,s:O,s:O,s:O,s:O,s:O,s:O,s:I},s:o,s:o,s:o}", "enabled", ratelimit_enabled(),
        "hostBudget", "enforced", json_is_true(json_object_get(budget, "enforced")), "accountLimit",
        json_object_get(budget, "accountLimit"), "accountLimitSource",
        json_object_get(budget, "accountLimitSource"), "target", json_object_get(budget, "target"),
        "used", json_object_get(budget, "used"), "fairSharePerSecond",
        json_object_get(budget, "fairSharePerSecond"), "slowedAccounts",
        json_object_get(budget, "slowedAccounts"), "slowedCount",
        (json_int_t)json_array_size(slowed), "refused", refused, "overload", overload_status_json(),
        "relays", relay_standing_status_json(rq->db, rq->cfg));
    json_decref(budget);
    return out;
}
