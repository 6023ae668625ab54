/* hostbudget.h - the host's event budget: the relays size each host's firehose budget from
 * its account limit (per second 50 + L/1000, per hour 2,500 + L, per day 20,000 + 10 L;
 * indigo relay/slurper.go) and throttle a host that goes over. We compute that budget, grow
 * it as accounts are added (PDS_RELAY_ACCOUNT_LIMIT=auto), keep the host's commits inside a
 * share of it (PDS_HOST_BUDGET_PERCENT), and share it max-min fairly among accounts: while
 * demand fits, nobody is held back; when it does not, the accounts asking for more than the
 * fair level (an importer, a bot) are held to it and everyone else keeps full speed.
 *
 * Shared by every process on the database: the windows live in PostgreSQL
 * (host_event_window); once a second each process records its demand, gives back what it
 * did not use, and takes a pool of events for the next second in one round trip, so the
 * write path itself spends from memory. The fair level is computed per process over its
 * share of the host's rate (its demand over the total).
 *
 * Thread-safe: one mutex guards the accounts, atomics the pool. */
#ifndef PDS_HTTP_HOSTBUDGET_H
#define PDS_HTTP_HOSTBUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db/db.h"
#include "http/xrpc.h"

struct config;

#define HOSTBUDGET_TICK_MS        1000        /* pool taken and shares recomputed this often */
#define HOSTBUDGET_DEMAND_TAU_MS  (30 * 1000) /* demand is an average over about 30 s */
#define HOSTBUDGET_BURST_S        30          /* a held account may still burst 30 s of share */
#define HOSTBUDGET_BURST_MIN      3           /* ...and at least this many events */
#define HOSTBUDGET_ACCOUNTS_MAX   4096        /* accounts tracked per process; others pass */
#define HOSTBUDGET_COUNT_EVERY_MS (10 * 1000) /* active accounts recounted this often */

/* Sets up from cfg (PDS_HOST_BUDGET, PDS_HOST_BUDGET_PERCENT, PDS_RELAY_ACCOUNT_LIMIT,
 * PDS_RATE_LIMITS_ENABLED). process names this process in host_budget_process (copied). */
void hostbudget_init(const struct config *cfg, const char *process);

/* One commit event for did's write, from a request: 0, or 429 RateLimitExceeded set (the
 * account is over its share, or the host's budget is spent) and returned. Bypassing
 * requests (ratelimit_bypassed) are counted but never held. The event is given back when
 * the request ends unless hostbudget_done(rq) said the commit happened. */
int hostbudget_admit(struct xrpc_req *rq, const char *did);
void hostbudget_done(struct xrpc_req *rq);
/* When the headers are in, for a repository write: refuses at once (429 set and returned)
 * an account this process already holds with no share left, by the token's unchecked `sub`
 * (ratelimit_peek_did); nothing is consumed. Else 0. */
int hostbudget_peek(struct xrpc_req *rq);
/* Gives one event of did back (a write that did not happen). */
void hostbudget_refund(const char *did);

/* For work that should wait rather than fail (an import, a relay repair): takes one event
 * for did, waiting up to max_wait_ms for the account's share and the host's budget.
 * ERR_RATE_LIMITED when the wait would be longer. db is the caller's connection. */
enum err hostbudget_acquire(struct db *db, const char *did, int64_t max_wait_ms) MUST_CHECK;

/* Counts n events that happen anyway (never refused). */
void hostbudget_charge(const char *did, int64_t n);

/* The account limit a relay reported for this host (0: none reported). */
void hostbudget_set_relay_limit(int64_t limit);

/* The account limit the budget is computed from, and where it came from ("configured",
 * "trusted", "relay", "active accounts"). */
int64_t hostbudget_account_limit(const char **source);

/* The background thread's once-a-second work, on its own connection. */
void hostbudget_tick(struct db *db);
/* Gives this process's pool back and removes its rows (at shutdown). */
void hostbudget_leave(struct db *db);

/* Budget, use, rate, fair level, slowed accounts (every process's, from db; NULL: this
 * process's only) and refusals, for the admin API. */
json_t *hostbudget_status_json(struct db *db);

#endif
