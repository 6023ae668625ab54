/* sweep.h - the blob sweeper's two jobs, each one short transaction on the caller's
 * connection: expire uploads no record referenced within the grace period, and delete the
 * bytes of blobs queued in blob_gc (by the write path when no record references a blob any
 * more, and by the expiry above). Safe to run in several processes at once (rows are taken
 * with FOR UPDATE SKIP LOCKED). */
#ifndef PDS_BLOB_SWEEP_H
#define PDS_BLOB_SWEEP_H

#include "blob/blobstore.h"
#include "db/db.h"

#define BLOB_SWEEP_BATCH 200 /* blob_gc rows handled per transaction */
/* PostgreSQL advisory lock key that pauses byte deletion: every sweep round holds it shared
 * for its transaction, and `pdsadmin backup` holds it exclusively while it copies the blobs
 * its snapshot references, so no byte the snapshot needs is deleted under it. */
#define BLOB_SWEEP_PAUSE_LOCK 7041977261840170101LL

/* Deletes `blob` rows still temporary grace_ms after their upload and not referenced by any
 * record, queueing their bytes in blob_gc. *n gets the count. */
enum err blob_sweep_expired(struct db *db, int64_t grace_ms, int64_t *n) MUST_CHECK;

/* Deletes from the store the bytes of up to BLOB_SWEEP_BATCH queued blobs, then their queue
 * rows; nothing while a backup holds BLOB_SWEEP_PAUSE_LOCK (*n is then 0). A queued blob that has a
 * `blob` row again (uploaded anew meanwhile) keeps its bytes. Bytes that fail to delete stay queued
 * for the next round. *n gets the count. */
enum err blob_sweep_gc(struct db *db, struct blobstore *s, int64_t *n) MUST_CHECK;

#endif
