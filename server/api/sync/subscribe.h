/* subscribe.h - this process's firehose (com.atproto.sync.subscribeRepos): the listener
 * that follows the numbered outbox, the event-stream thread that writes every subscriber's
 * socket without blocking, and the replay thread that serves cursors from the table.
 * One per process; start and stop from the main thread. The handler (api.h) runs on HTTP
 * workers and only hands connections over. */
#ifndef PDS_API_SYNC_SUBSCRIBE_H
#define PDS_API_SYNC_SUBSCRIBE_H

#include <stddef.h>

#include "core/err.h"

struct config;

#define FIREHOSE_SUB_MAX_BYTES   ((size_t)64 << 20) /* queued frame bytes per subscriber */
#define FIREHOSE_REPLAY_PAGE     500                /* events per replay read (the reference's) */
#define FIREHOSE_PING_IDLE_MS    30000              /* a subscriber silent this long is pinged */
#define FIREHOSE_IDLE_TIMEOUT_MS 120000             /* ...and dropped when silent this long */
#define FIREHOSE_CLOSE_WAIT_MS   3000 /* a closing connection gets this long to drain */

/* Called on the listener thread after each batch of new events (crawler notices). */
typedef void firehose_events_fn(void *ctx);

/* Starts the threads, following the outbox from its current head. cfg supplies
 * max_subscription_buffer and repo_backfill_limit_ms and must outlive the firehose.
 * on_events may be NULL. ERR_DB when the head cannot be read, ERR_INTERNAL when a thread
 * cannot start. */
enum err sync_subscribe_start(const struct config *cfg, const char *db_url,
                              firehose_events_fn *on_events, void *ctx) MUST_CHECK;

/* Before the HTTP server stops: closes every subscriber (close code 1001) and from then on
 * closes new upgrades at once. Blocks until the connections are released (a few seconds at
 * most). */
void sync_subscribe_shutdown(void);

/* After the HTTP server stopped: joins the remaining threads and frees everything. Safe
 * without a start. */
void sync_subscribe_stop(void);

/* Subscribers connected to this process now (for /xrpc/_status). Thread-safe. */
size_t sync_subscribe_count(void);

#endif
