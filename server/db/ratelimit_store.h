/* ratelimit_store.h - the rate limits' shared state in PostgreSQL (migrations/0020): leasing
 * points of (limit, key) counters, taking events of the host's budget windows, each
 * process's demand, the accounts held to their share, refusal counts, and sweeping expired
 * counters. Every call is one round trip on the caller's connection, outside any
 * transaction (a lease inside a transaction that rolls back would be undone). */
#ifndef PDS_DB_RATELIMIT_STORE_H
#define PDS_DB_RATELIMIT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

#define RL_STORE_BATCH_MAX 8   /* (limit, key) pairs leased in one call */
#define RL_STORE_KEY_MAX   128 /* bytes of a stored key, NUL included (longer keys are hashed) */
#define RL_STORE_NAME_MAX  64  /* bytes of a limit name, NUL included */

/* One pair to lease: up to `want` points of limit `name` (points per window_ms) for `key`,
 * but only if at least `need` are left. */
struct rl_lease_req {
    const char *name;
    const char *key;
    int64_t points;
    int64_t window_ms;
    int64_t want;
    int64_t need;
};

struct rl_lease_res {
    int64_t granted;  /* points now ours to spend (0: fewer than need were left) */
    int64_t total;    /* points granted to all processes in this window, ours included */
    int64_t start_ms; /* the window's start, Unix ms (it ends window_ms later) */
};

/* Leases n pairs (n <= RL_STORE_BATCH_MAX), which the caller sorted by (name, key). */
enum err rl_store_lease(struct db *db, const struct rl_lease_req *req, size_t n,
                        struct rl_lease_res *res) MUST_CHECK;

/* The host budget's windows (second, hour, day). Takes up to `take` events under limits
 * (exactly `take` when force), after giving back `give_back` events leased at give_back_at_ms
 * and not used. *granted gets the events taken; used[] each window's sliding count after. */
struct rl_host_events {
    int64_t take;
    int64_t give_back;
    int64_t give_back_at_ms;
    const int64_t *limits; /* 3: second, hour, day */
    bool force;
};
enum err rl_store_host_events(struct db *db, const struct rl_host_events *q, int64_t *granted,
                              double used[3], int64_t *now_ms) MUST_CHECK;

/* Records this process's demand (events/s), forgets processes silent for 10 s, and returns
 * the live processes' total demand and count (this one included). */
enum err rl_store_process_demand(struct db *db, const char *process, double demand,
                                 double *total_demand, int *processes) MUST_CHECK;
/* Removes this process's rows (at shutdown). */
enum err rl_store_process_leave(struct db *db, const char *process) MUST_CHECK;

/* The accounts this process holds to their share, replacing what it reported before. */
struct rl_slowed {
    const char *did;
    double demand; /* events/s asked for */
    double share;  /* events/s granted */
    int64_t refused;
};
enum err rl_store_slowed(struct db *db, const char *process, const struct rl_slowed *rows,
                         size_t n) MUST_CHECK;

/* Adds admitted and refused counts per limit name. */
enum err rl_store_stats_add(struct db *db, const char *const *names, const int64_t *admitted,
                            const int64_t *refused, size_t n) MUST_CHECK;

/* Deletes counters whose window ended; *deleted (may be NULL) gets the count. */
enum err rl_store_sweep(struct db *db, int64_t *deleted) MUST_CHECK;

/* Accounts that are neither taken down nor deactivated (the relay counts active ones). */
enum err rl_store_active_accounts(struct db *db, int64_t *count) MUST_CHECK;

#endif
