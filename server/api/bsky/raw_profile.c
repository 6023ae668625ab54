/* raw_profile.c - read-after-write for profiles: app.bsky.actor.getProfile and getProfiles
 * (the reference's api/app/bsky/actor/getProfile.ts, getProfiles.ts). */
#include "api/bsky/bsky.h"
#include "api/bsky/read_after_write.h"

static bool is_requester(const struct raw_viewer *v, const json_t *profile)
{
    const char *did = json_string_value(json_object_get(profile, "did"));
    return did && strcmp(did, v->did) == 0;
}

static int profile_munge(struct raw_viewer *v, json_t *body, const struct raw_local *l)
{
    if (l->profile && is_requester(v, body)) {
        raw_update_profile_detailed(v, body, l->profile->record);
    }
    return 0;
}

static int profiles_munge(struct raw_viewer *v, json_t *body, const struct raw_local *l)
{
    if (!l->profile) {
        return 0;
    }
    size_t i;
    json_t *prof;
    json_array_foreach(json_object_get(body, "profiles"), i, prof)
    {
        if (is_requester(v, prof)) {
            raw_update_profile_detailed(v, prof, l->profile->record);
        }
    }
    return 0;
}

/* app.bsky.actor.getProfile */
int api_actor_get_profile(struct xrpc_req *rq)
{
    static const struct raw_method m = {profile_munge, NULL};
    return raw_serve(rq, &m);
}

/* app.bsky.actor.getProfiles */
int api_actor_get_profiles(struct xrpc_req *rq)
{
    static const struct raw_method m = {profiles_munge, NULL};
    return raw_serve(rq, &m);
}
