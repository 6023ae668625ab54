/* crawlers.h - telling relays (PDS_CRAWLERS) that this server has news: POST
 * <relay>/xrpc/com.atproto.sync.requestCrawl {"hostname"} at start-up, and again while new
 * events appear, at most once per interval per relay. Failures are retried with exponential
 * backoff. Its own thread with libcurl and timeouts, so start-up never waits on a relay.
 * crawlers_notify is thread-safe; start and stop from one thread. */
#ifndef PDS_API_SYNC_CRAWLERS_H
#define PDS_API_SYNC_CRAWLERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CRAWLERS_INTERVAL_MS        (20 * 60 * 1000) /* the reference's NOTIFY_THRESHOLD */
#define CRAWLERS_TIMEOUT_MS         10000            /* one whole request */
#define CRAWLERS_CONNECT_TIMEOUT_MS 5000
#define CRAWLERS_RETRY_FIRST_MS     1000            /* backoff after a first failure... */
#define CRAWLERS_RETRY_MAX_MS       (5 * 60 * 1000) /* ...doubling up to this */

/* Timing, for tests; crawlers_start with NULL uses the constants above. */
struct crawlers_opts {
    int64_t interval_ms;
    int64_t retry_first_ms;
    int64_t retry_max_ms;
};

struct crawlers;

/* Starts the thread for the relays' base URLs (copied; n may be 0: then nothing runs and
 * *out is NULL). hostname is what relays are asked to crawl. ERR_INTERNAL when the thread
 * cannot start. Stop with crawlers_stop. */
enum err crawlers_start(const char *hostname, char *const *relays, size_t n,
                        const struct crawlers_opts *opts, struct crawlers **out) MUST_CHECK;

/* New events exist: relays hear of it once their interval has passed. ctx is a struct
 * crawlers (NULL is a no-op), so this fits the firehose's event callback. */
void crawlers_notify(void *ctx);

/* As crawlers_notify, but every relay is asked now rather than once its interval has
 * passed: after a repair (api/sync/relay_standing.h) the relay should fetch at once. */
void crawlers_urge(void *ctx);

/* Requests made so far that a relay answered with 2xx (for tests and logs). */
uint64_t crawlers_sent(struct crawlers *c);

/* Wakes and joins the thread (an in-flight request ends at its timeout) and frees c. NULL
 * is a no-op. */
void crawlers_stop(struct crawlers *c);

#endif
