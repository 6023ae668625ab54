/* ratelimit.h - request rate limits: the reference PDS's per-IP, per-route and per-account
 * limits (and ours for OAuth), declared in one table (ratelimit_table.c), enforced for every
 * process on one database alike, with the reference's RateLimit-* headers.
 *
 * How a check works: each (limit, key) pair is a fixed window that starts at its first use
 * (as the reference's rate-limiter-flexible). A process leases points of it from PostgreSQL
 * in chunks (db/ratelimit_store.h) and spends them locally, so most requests cost no round
 * trip, the sum admitted by all processes never passes the limit, and once a key is spent a
 * refusal costs no database work until its window ends.
 *
 * Where checks run (the server and the handlers call these, in this order):
 *   headers read   global-ip and the route's IP-keyed limits      (ratelimit_on_headers)
 *   body parsed    the route's "<identifier>-<ip>" limits         (ratelimit_on_input)
 *   authenticated  the route's per-account limits                  (ratelimit_on_account)
 *   in a handler   named groups: repo writes' points, OAuth        (ratelimit_consume)
 * The tightest status of them all goes out as RateLimit-Limit/-Remaining/-Reset/-Policy
 * (ratelimit_add_headers); a refusal is 429 RateLimitExceeded with Retry-After.
 *
 * Bypass (never for overload protection): the `x-ratelimit-bypass` header equal to
 * PDS_RATE_LIMIT_BYPASS_KEY (compared in constant time), or a client address inside
 * PDS_RATE_LIMIT_BYPASS_IPS (CIDR ranges honoured, unlike the reference).
 *
 * Thread-safe: the lease cache is sharded under mutexes, never held across a round trip. */
#ifndef PDS_HTTP_RATELIMIT_H
#define PDS_HTTP_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/xrpc.h"

struct config;

/* Named groups a caller may consume. */
#define RL_GROUP_REPO_WRITE  "repo-write"  /* points per account: create 3, update 2, delete 1 */
#define RL_GROUP_OAUTH_PAR   "oauth-par"   /* pushed authorization requests, per IP */
#define RL_GROUP_OAUTH_TOKEN "oauth-token" /* token requests (codes, refreshes), per IP */
#define RL_GROUP_OAUTH_SIGNIN                                                                      \
    "oauth-signin"         /* password sign-in on the OAuth pages, per                             \
                              "<identifier>-<ip>", as createSession */
#define RL_POINTS_CREATE 3 /* the reference's write points */
#define RL_POINTS_UPDATE 2
#define RL_POINTS_DELETE 1

/* What a limit is keyed by. */
enum rl_key {
    RL_KEY_IP,         /* the client address; an IPv6 address by its /64 */
    RL_KEY_DID,        /* the authenticated account */
    RL_KEY_SUBJECT_IP, /* "<subject>-<ip>" (createSession: the identifier) */
};

/* Classes of work for overload protection (http/overload.h). */
enum rl_class {
    RL_CLASS_BY_METHOD, /* route table only: GET is a read, anything else a write */
    RL_CLASS_NONE,      /* not admitted or counted: health, admin status, the firehose */
    RL_CLASS_READ,      /* queries */
    RL_CLASS_AUTH,      /* sign-ins and token refreshes: kept ahead of bulk work */
    RL_CLASS_WRITE,     /* procedures */
    RL_CLASS_BULK,      /* whole-repository work: getRepo, importRepo, account deletion */
    RL_CLASSES,
};

/* One limit: points per window. */
struct rl_limit_def {
    const char *name;
    int64_t points;
    int64_t window_ms;
    const char *what; /* for the docs and the admin API: what it counts, from where */
};

#define RL_GROUP_LIMITS_MAX 3

/* Limits consumed together by one route or call (all must admit). */
struct rl_group_def {
    const char *name;
    enum rl_key key;
    const char *subject_field; /* RL_KEY_SUBJECT_IP on a route: the input's string field */
    const char *limits[RL_GROUP_LIMITS_MAX]; /* names of rl_limit_def; NULL after the last */
};

#define RL_ROUTE_OWN_BUCKET 1u /* not counted in global-ip (the reference's getRepo) */
#define RL_ROUTE_WRITES                                                                            \
    2u /* repository writes: per-account limits checked in the handler,                            \
          and peeked at when the headers are in (ratelimit_peek_did) */

/* A route's group (NULL: global-ip only), class and flags (RL_ROUTE_*). */
struct rl_route_def {
    const char *nsid;
    const char *group;
    enum rl_class cls;
    unsigned flags;
};

/* The tables (ratelimit_table.c). */
extern const struct rl_limit_def ratelimit_limit_defs[];
extern const size_t ratelimit_limit_defs_len;
extern const struct rl_group_def ratelimit_group_defs[];
extern const size_t ratelimit_group_defs_len;
extern const struct rl_route_def ratelimit_route_defs[];
extern const size_t ratelimit_route_defs_len;

/* Builds the limits from the table and cfg (PDS_RATE_LIMITS overrides, bypasses).
 * ERR_INVALID with a reason naming the variable in why. Call before the HTTP server starts
 * (http/limits.h does, and runs the background work); stop with ratelimit_stop. */
enum err ratelimit_start(const struct config *cfg, char *why, size_t why_len) MUST_CHECK;
void ratelimit_stop(void);
/* Whether limits are being enforced (PDS_RATE_LIMITS_ENABLED and started). */
bool ratelimit_enabled(void);

/* The overload class of a request (by its route, else its method). */
enum rl_class ratelimit_class(const struct xrpc_req *rq);

/* The bypass key of this host's own calls to itself (a migration job uploading an account's
 * blobs through the public API): HMAC of PDS_JWT_SECRET under a fixed label, so every process
 * of the host accepts what any of them sends, and no operator has to configure it. Sent as
 * `x-ratelimit-bypass`; never leaves the host. NUL-terminated hex; "" before
 * ratelimit_start. */
#define RL_INTERNAL_KEY_HEX 64
const char *ratelimit_internal_key(void);

/* Whether the request bypasses limits (key header or address), decided once per request. */
bool ratelimit_bypassed(struct xrpc_req *rq);
/* The same, but not for the internal key: the host's event budget (http/hostbudget.h) is
 * waived for an operator's trusted client, never for the host's own jobs, which it paces. */
bool ratelimit_bypassed_by_operator(struct xrpc_req *rq);

/* Each returns 0 (go on) or, when a limit refuses, sets 429 RateLimitExceeded with
 * Retry-After and returns 429 (pass it on). */
int ratelimit_on_headers(struct xrpc_req *rq);
/* For a route flagged RL_ROUTE_WRITES: the `sub` of the bearer token, read without checking
 * its signature (NULL when there is none). Only for refusing early an account whose limits
 * are already spent in this process: nothing is consumed on its word, and a forged token
 * is still refused later by auth. */
const char *ratelimit_peek_did(struct xrpc_req *rq);
int ratelimit_on_input(struct xrpc_req *rq);
int ratelimit_on_account(struct xrpc_req *rq, const char *did);
/* Consumes `points` of group (RL_GROUP_*) keyed as the group says: the client address,
 * the DID `subject`, or "<subject>-<ip>". For OAuth:
 *     int st = ratelimit_consume(rq, RL_GROUP_OAUTH_TOKEN, NULL, 1);
 *     if (st) return st;   // 429 with the headers set
 * An unknown group is a programming error (logged, admitted). */
int ratelimit_consume(struct xrpc_req *rq, const char *group, const char *subject, int64_t points);
/* As ratelimit_consume, but on refusal only the headers (and Retry-After) are set and false
 * returned, for callers that answer in their own error format (OAuth's JSON errors). */
bool ratelimit_try(struct xrpc_req *rq, const char *group, const char *subject, int64_t points);

/* Adds this process's admitted and refused counts to the database's (the background
 * thread's call, once a second). On failure they are kept for the next flush. */
enum err ratelimit_flush(struct db *db) MUST_CHECK;

/* Records a refusal made elsewhere (host budget, overload) in the per-limit counts. */
void ratelimit_count(const char *name, bool refused);

/* Adds the RateLimit-* headers of the tightest limit this request met (called by the server
 * just before it answers). */
void ratelimit_add_headers(struct xrpc_req *rq);

/* Sets the headers of a refusal by another limiter (host budget shares) and answers 429:
 * limit points per window_ms, remaining, reset in ms from now. Returns 429. */
int ratelimit_refuse(struct xrpc_req *rq, int64_t limit, int64_t window_ms, int64_t remaining,
                     int64_t reset_ms, const char *message);
/* Keeps a limit status for the headers if it is tighter than what the request has. */
void ratelimit_note(struct xrpc_req *rq, int64_t limit, int64_t window_ms, int64_t remaining,
                    int64_t reset_ms);

/* JSON for the admin API: each limit (name, points, window, what) with this database's
 * admitted and refused counts (db may be NULL: counts of this process only). */
json_t *ratelimit_status_json(struct db *db);

#endif
