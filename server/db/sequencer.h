/* sequencer.h - numbers the outbox: one thread per process, with its own connection, gives
 * committed repo_seq rows their seq in one ordered step after commit, and prunes rows older
 * than the retention window. Any number of processes may run one on the same database.
 * sequencer_step and sequencer_run use the caller's connection and thread. */
#ifndef PDS_DB_SEQUENCER_H
#define PDS_DB_SEQUENCER_H

#include <stdint.h>

#include "core/err.h"
#include "db/db.h"

#define SEQUENCER_BATCH          10000 /* rows numbered per step (one transaction) */
#define SEQUENCER_POLL_MS        1000  /* safety net: a step at least this often */
#define SEQUENCER_BATCH_MS       5     /* at most one numbering transaction per 5 ms */
#define SEQUENCER_PRUNE_EVERY_MS 60000 /* pruning runs this often */

/* Numbers up to SEQUENCER_BATCH committed, unnumbered rows, in one transaction under the
 * sequencer's advisory lock, and NOTIFYs OUTBOX_CHANNEL_SEQUENCED with the new head.
 * *numbered gets the count; *head (may be NULL) the new head, or 0 when nothing was
 * numbered. db must not be inside a transaction. */
enum err sequencer_step(struct db *db, int64_t *numbered, int64_t *head) MUST_CHECK;

/* Steps until a step numbers less than a full batch. */
enum err sequencer_run(struct db *db) MUST_CHECK;

struct sequencer;

/* Starts the thread: it LISTENs on OUTBOX_CHANNEL_ADDED, steps on every notification and at
 * least every SEQUENCER_POLL_MS, and prunes events older than retention_ms (0: never) every
 * SEQUENCER_PRUNE_EVERY_MS. ERR_INTERNAL when the thread cannot start. A database that is
 * down is retried, never fatal. Caller stops with sequencer_stop. */
enum err sequencer_start(const char *db_url, int64_t retention_ms,
                         struct sequencer **out) MUST_CHECK;

/* Wakes and joins the thread, closes its connection, frees s. NULL is a no-op. */
void sequencer_stop(struct sequencer *s);

/* Wakes this process's sequencer (the first one started) at once: call it after committing
 * a transaction that inserted outbox rows (db_commit's hook and repo_store_apply do).
 * Thread-safe, never blocks on the database; a no-op when no sequencer runs. Promptness
 * only: the once-a-second poll numbers whatever a wake-up missed. */
void sequencer_wake(void);

#endif
