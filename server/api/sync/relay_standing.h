/* relay_standing.h - this host's standing at each relay of PDS_CRAWLERS, and its repair.
 *
 * A relay gives a new host an account limit (100); accounts past it are marked
 * host-throttled and their commits dropped, and when the limit is raised nothing fetches
 * what was dropped. So, at a gentle pace, one process (an advisory lock elects it) asks each
 * relay for its view of this host (com.atproto.sync.getHostStatus: status, account count,
 * and an account limit where the relay serves one) and, one account at a time, for its view
 * of each of our active accounts (com.atproto.sync.getRepoStatus on the relay). It records
 * the answers (relay_host_status, relay_repo_status), warns when the host nears the relay's
 * account limit (80 %, the relay's own alert threshold) or the relay throttles the host,
 * and when an account is active at the relay again after being throttled there, or the
 * relay's rev is behind ours, it emits a #sync event for the account (paced into the host's
 * event budget) and asks the relays to crawl, so the relay and every consumer fetch the
 * repository again. At most one repair per account per RELAY_REPAIR_COOLDOWN_MS.
 *
 * Its own thread, database connection and libcurl handles; start and stop from the main
 * thread. */
#ifndef PDS_API_SYNC_RELAY_STANDING_H
#define PDS_API_SYNC_RELAY_STANDING_H

#include <jansson.h>

#include "core/err.h"
#include "db/db.h"

struct config;
struct crawlers;

#define RELAY_TIMEOUT_MS         10000             /* one question to a relay */
#define RELAY_RESPONSE_MAX_BYTES (64 << 10)        /* answers are small JSON objects */
#define RELAY_REPAIR_COOLDOWN_MS (3600 * 1000)     /* one #sync per account per hour at most */
#define RELAY_REPAIR_WAIT_MS     30000             /* a repair waits this long for budget */
#define RELAY_GRACE_MAX_MS       60000             /* a newer commit may still be on its way */
#define RELAY_WARN_SHARE         80                /* % of the account limit: warn (the relay's) */
#define RELAY_WARN_EVERY_MS      (6 * 3600 * 1000) /* repeat a warning this often (the relay's) */
#define RELAY_BATCH              100               /* accounts read per query */
#define RELAY_LOCK_KEY           0x7064737265706c61LL /* "pdsrepla" */

struct relay_standing;

/* Starts the checker for cfg's crawlers (nothing when there are none: *out NULL).
 * crawlers (may be NULL) is urged after a repair. ERR_INTERNAL when the thread cannot
 * start. */
enum err relay_standing_start(const struct config *cfg, const char *db_url,
                              struct crawlers *crawlers, struct relay_standing **out) MUST_CHECK;
/* Stops and joins the thread (an in-flight question ends at its timeout). NULL: no-op. */
void relay_standing_stop(struct relay_standing *r);

/* What the relays said, per relay: host status, counts of throttled, behind and repaired
 * accounts with examples, and a warning when there is one. cfg for the configured limit. */
json_t *relay_standing_status_json(struct db *db, const struct config *cfg);

#endif
