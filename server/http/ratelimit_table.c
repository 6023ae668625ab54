/* ratelimit_table.c - every rate limit in one place: the reference PDS's (names, values and
 * keys from packages/pds/src/rate-limits.ts and the handlers' rateLimit options), ours for
 * OAuth (the reference has none there), the groups routes consume, and the routes.
 * Values can be changed per limit with PDS_RATE_LIMITS (docs/rate-limits.md). */
#include "http/ratelimit.h"

#include "http/ratelimit_math.h"

#define MIN5 (5 * RL_MINUTE_MS)
#define MIN1 RL_MINUTE_MS
#define HOUR RL_HOUR_MS
#define DAY  RL_DAY_MS

/* clang-format off */
const struct rl_limit_def ratelimit_limit_defs[] = {
    {"global-ip",                     3000, MIN5, "every XRPC call but sync.getRepo, per client address"},
    {"repo-write-hour",               5000, HOUR, "repository write points per account (create 3, update 2, delete 1; applyWrites sums its writes)"},
    {"repo-write-day",               35000, DAY,  "repository write points per account, per day"},
    {"createAccount",                  100, MIN5, "server.createAccount per client address"},
    {"createSession-5m",                30, MIN5, "server.createSession per identifier and client address"},
    {"createSession-day",              300, DAY,  "server.createSession per identifier and client address, per day"},
    {"deleteAccount",                   50, MIN5, "server.deleteAccount per client address"},
    {"requestAccountDelete-day",        15, DAY,  "server.requestAccountDelete per account"},
    {"requestAccountDelete-hour",        5, HOUR, "server.requestAccountDelete per account, per hour"},
    {"requestEmailConfirmation-day",    15, DAY,  "server.requestEmailConfirmation per account"},
    {"requestEmailConfirmation-hour",    5, HOUR, "server.requestEmailConfirmation per account, per hour"},
    {"requestEmailUpdate-day",          15, DAY,  "server.requestEmailUpdate per account"},
    {"requestEmailUpdate-hour",          5, HOUR, "server.requestEmailUpdate per account, per hour"},
    {"requestPasswordReset-day",        50, DAY,  "server.requestPasswordReset per client address"},
    {"requestPasswordReset-hour",       15, HOUR, "server.requestPasswordReset per client address, per hour"},
    {"resetPassword",                   50, MIN5, "server.resetPassword per client address"},
    {"updateHandle-5m",                 10, MIN5, "identity.updateHandle per account"},
    {"updateHandle-day",                50, DAY,  "identity.updateHandle per account, per day"},
    {"uploadBlob",                    1000, DAY,  "repo.uploadBlob per client address"},
    {"getRepo",                       6000, MIN5, "sync.getRepo per client address (its own bucket, outside global-ip)"},
    /* ours: the reference does not limit its OAuth endpoints */
    {"oauth-par",                      300, MIN1, "OAuth pushed authorization requests per client address"},
    {"oauth-token",                   3000, MIN1, "OAuth token requests per client address"},
    {"oauth-signin-5m",                 30, MIN5, "OAuth sign-in per identifier and client address (as createSession)"},
    {"oauth-signin-day",               300, DAY,  "OAuth sign-in per identifier and client address, per day"},
};
const size_t ratelimit_limit_defs_len = ARRAY_LEN(ratelimit_limit_defs);

const struct rl_group_def ratelimit_group_defs[] = {
    {"global-ip",                RL_KEY_IP,         NULL,         {"global-ip"}},
    {"repo-write",               RL_KEY_DID,        NULL,         {"repo-write-hour", "repo-write-day"}},
    {"createAccount",            RL_KEY_IP,         NULL,         {"createAccount"}},
    {"createSession",            RL_KEY_SUBJECT_IP, "identifier", {"createSession-5m", "createSession-day"}},
    {"deleteAccount",            RL_KEY_IP,         NULL,         {"deleteAccount"}},
    {"requestAccountDelete",     RL_KEY_DID,        NULL,         {"requestAccountDelete-hour", "requestAccountDelete-day"}},
    {"requestEmailConfirmation", RL_KEY_DID,        NULL,         {"requestEmailConfirmation-hour", "requestEmailConfirmation-day"}},
    {"requestEmailUpdate",       RL_KEY_DID,        NULL,         {"requestEmailUpdate-hour", "requestEmailUpdate-day"}},
    {"requestPasswordReset",     RL_KEY_IP,         NULL,         {"requestPasswordReset-hour", "requestPasswordReset-day"}},
    {"resetPassword",            RL_KEY_IP,         NULL,         {"resetPassword"}},
    {"updateHandle",             RL_KEY_DID,        NULL,         {"updateHandle-5m", "updateHandle-day"}},
    {"uploadBlob",               RL_KEY_IP,         NULL,         {"uploadBlob"}},
    {"getRepo",                  RL_KEY_IP,         NULL,         {"getRepo"}},
    {RL_GROUP_OAUTH_PAR,         RL_KEY_IP,         NULL,         {"oauth-par"}},
    {RL_GROUP_OAUTH_TOKEN,       RL_KEY_IP,         NULL,         {"oauth-token"}},
    {RL_GROUP_OAUTH_SIGNIN,      RL_KEY_SUBJECT_IP, NULL,         {"oauth-signin-5m", "oauth-signin-day"}},
};
const size_t ratelimit_group_defs_len = ARRAY_LEN(ratelimit_group_defs);

/* Routes with a group or a class of their own; every other XRPC route gets global-ip and
 * the class of its HTTP method (GET: read, else write). Sorted by NSID. */
const struct rl_route_def ratelimit_route_defs[] = {
    {"com.atproto.admin.deleteAccount",             NULL,                       RL_CLASS_BULK, 0},
    {"com.atproto.identity.updateHandle",           "updateHandle",             RL_CLASS_BY_METHOD, 0},
    {"com.atproto.repo.applyWrites",                NULL,                       RL_CLASS_BY_METHOD, RL_ROUTE_WRITES},
    {"com.atproto.repo.createRecord",               NULL,                       RL_CLASS_BY_METHOD, RL_ROUTE_WRITES},
    {"com.atproto.repo.deleteRecord",               NULL,                       RL_CLASS_BY_METHOD, RL_ROUTE_WRITES},
    {"com.atproto.repo.importRepo",                 NULL,                       RL_CLASS_BULK, 0},
    {"com.atproto.repo.putRecord",                  NULL,                       RL_CLASS_BY_METHOD, RL_ROUTE_WRITES},
    {"com.atproto.repo.uploadBlob",                 "uploadBlob",               RL_CLASS_BY_METHOD, 0},
    {"com.atproto.server.createAccount",            "createAccount",            RL_CLASS_BY_METHOD, 0},
    {"com.atproto.server.createSession",            "createSession",            RL_CLASS_AUTH, 0},
    {"com.atproto.server.deleteAccount",            "deleteAccount",            RL_CLASS_BULK, 0},
    {"com.atproto.server.getSession",               NULL,                       RL_CLASS_AUTH, 0},
    {"com.atproto.server.refreshSession",           NULL,                       RL_CLASS_AUTH, 0},
    {"com.atproto.server.requestAccountDelete",     "requestAccountDelete",     RL_CLASS_BY_METHOD, 0},
    {"com.atproto.server.requestEmailConfirmation", "requestEmailConfirmation", RL_CLASS_BY_METHOD, 0},
    {"com.atproto.server.requestEmailUpdate",       "requestEmailUpdate",       RL_CLASS_BY_METHOD, 0},
    {"com.atproto.server.requestPasswordReset",     "requestPasswordReset",     RL_CLASS_BY_METHOD, 0},
    {"com.atproto.server.resetPassword",            "resetPassword",            RL_CLASS_BY_METHOD, 0},
    {"com.atproto.sync.getRepo",                    "getRepo",                  RL_CLASS_BULK, RL_ROUTE_OWN_BUCKET},
    {"com.atproto.sync.subscribeRepos",             NULL,                       RL_CLASS_NONE, RL_ROUTE_OWN_BUCKET},
};
const size_t ratelimit_route_defs_len = ARRAY_LEN(ratelimit_route_defs);
/* clang-format on */
