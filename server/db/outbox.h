/* outbox.h - the event log (repo_seq) as the firehose reads it: stream frames built from the
 * stored bodies, cursor resolution, ranges in seq order, pruning, account deletion, and a
 * listener thread that follows new rows as the sequencer numbers them.
 * Functions taking a struct db run on the caller's thread and connection; the listener owns
 * its thread and connection. */
#ifndef PDS_DB_OUTBOX_H
#define PDS_DB_OUTBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"
#include "db/db.h"

/* NOTIFY channels (migrations/0003_sequencer.sql): rows were added; rows were numbered (the
 * payload is the new head). */
#define OUTBOX_CHANNEL_ADDED     "pds_outbox"
#define OUTBOX_CHANNEL_SEQUENCED "pds_seq"

#define OUTBOX_FRAME_MAX_BYTES (5u << 20) /* spec(event-stream): a frame is at most 5 MB */
#define OUTBOX_PRUNE_BATCH     1000       /* rows deleted per pruning statement */

/* One event as the stream sends it: the DAG-CBOR header and body pair, body with `seq`. */
struct outbox_event {
    int64_t seq;
    uint8_t *frame; /* malloc'd; a consumer may take it (set NULL) before outbox_page_clear */
    size_t frame_len;
};

/* Events in seq order, and the head as the same snapshot saw it. */
struct outbox_page {
    struct outbox_event *events;
    size_t n;
    int64_t head; /* highest seq assigned when the page was read; 0 if none ever */
};

void outbox_page_clear(struct outbox_page *p);

/* Stream frames. event_type is the stored one ("commit", "sync", "identity", "account");
 * body the stored DAG-CBOR map without `seq`: the frame is {t:"#<type>",op:1} followed by the
 * body with seq added, canonically encoded. ERR_INVALID for a body that is not a canonical
 * map or already has `seq`; ERR_TOO_LARGE past OUTBOX_FRAME_MAX_BYTES. */
enum err outbox_frame(const char *event_type, int64_t seq, struct bytes body,
                      struct buf *out) MUST_CHECK;
/* {t:"#info",op:1} {name, message} */
enum err outbox_info_frame(const char *name, const char *message, struct buf *out) MUST_CHECK;
/* {op:-1} {error, message}: the stream error frame, after which the server closes. */
enum err outbox_error_frame(const char *error, const char *message, struct buf *out) MUST_CHECK;

/* Highest seq ever assigned (0 for none) and highest seq pruned (0 for none). */
enum err outbox_head(struct db *db, int64_t *head, int64_t *pruned_through) MUST_CHECK;

/* Where a subscription with `cursor` starts, as the reference decides it. */
struct outbox_resume {
    bool future;         /* cursor > head: FutureCursor, then close */
    bool outdated;       /* events after cursor are gone or older than the window: send
                            #info OutdatedCursor, then replay from start_after */
    int64_t start_after; /* deliver events with seq > start_after */
    int64_t head;
};
/* cursor >= 0. window_ms: PDS_REPO_BACKFILL_LIMIT_MS. */
enum err outbox_resume(struct db *db, int64_t cursor, int64_t window_ms,
                       struct outbox_resume *out) MUST_CHECK;

/* Events with seq > after, in seq order: at most max_events, and no more than max_bytes of
 * stored bodies (always at least one event when any exists). Invalidated rows are skipped.
 * out is filled even on an empty page (head set); clear it with outbox_page_clear. */
enum err outbox_read(struct db *db, int64_t after, int max_events, int64_t max_bytes,
                     struct outbox_page *out) MUST_CHECK;

/* Deletes numbered events created more than window_ms ago, in batches of
 * OUTBOX_PRUNE_BATCH; *deleted (may be NULL) gets the count. */
enum err outbox_prune(struct db *db, int64_t window_ms, int64_t *deleted) MUST_CHECK;
/* One batch of that: at most OUTBOX_PRUNE_BATCH rows, the oldest seqs first. */
enum err outbox_prune_batch(struct db *db, int64_t window_ms, int64_t *deleted) MUST_CHECK;

/* Adds an event row (event_type "identity", "account", "sync", ...; body the DAG-CBOR
 * without seq) with seq NULL: call it inside the transaction that made the change, so the
 * event commits with it. The sequencer numbers it afterwards. */
enum err outbox_insert(struct db *db, const char *did, const char *event_type,
                       struct bytes body) MUST_CHECK;

/* Deletes every outbox row of did present now (the reference drops a deleted account's
 * earlier events). Call it in the deleting transaction before inserting the
 * #account{status:"deleted"} event, which then survives. The high-water mark in
 * repo_seq_state keeps a deleted seq from ever being assigned again. */
enum err outbox_delete_account_events(struct db *db, const char *did) MUST_CHECK;

/* Waiting for NOTIFY on one channel over db's connection. LISTEN is (re)issued whenever the
 * connection is new, so a reconnect loses nothing but the notifications in between, which
 * callers cover by polling. */
struct outbox_notify {
    struct db *db;
    const char *channel;
    const void *_conn; /* connection LISTEN was issued on, and its backend pid */
    int _pid;
};
void outbox_notify_init(struct outbox_notify *n, struct db *db, const char *channel);
/* Waits up to timeout_ms for a notification on the channel or for wake_fd (-1: none) to be
 * readable (not read here). Returns the number of notifications taken (0 on timeout or
 * wake); *payload_max (may be NULL) gets the largest numeric payload seen, else unchanged.
 * ERR_DB when the connection is down (the caller sleeps and retries). */
enum err outbox_notify_wait(struct outbox_notify *n, int wake_fd, int timeout_ms, int *count,
                            int64_t *payload_max) MUST_CHECK;

/* The listener: one thread per process with its own connection, LISTENing on
 * OUTBOX_CHANNEL_SEQUENCED (and polling every OUTBOX_LISTEN_POLL_MS), reads rows with
 * seq > the last one seen, in order, and hands each page to on_page on its thread. on_page
 * may take frames (set them NULL); the page is cleared after it returns. */
#define OUTBOX_LISTEN_POLL_MS    1000
#define OUTBOX_LISTEN_PAGE       1000       /* events per read */
#define OUTBOX_LISTEN_PAGE_BYTES (32 << 20) /* stored bytes per read */

typedef void outbox_page_fn(void *ctx, struct outbox_page *page);
struct outbox_listener;

/* Starts following after seq start_after (normally outbox_head's). ERR_INTERNAL when the
 * thread cannot start. Caller stops with outbox_listener_stop. */
enum err outbox_listener_start(const char *db_url, int64_t start_after, outbox_page_fn *on_page,
                               void *ctx, struct outbox_listener **out) MUST_CHECK;
/* Wakes and joins the thread, closes its connection, frees l. NULL is a no-op. */
void outbox_listener_stop(struct outbox_listener *l);

#endif
