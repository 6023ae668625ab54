/* sweep.c - expiring unreferenced uploads and deleting the bytes of dead blobs.
 *
 * The race this order rules out: an upload of a CID whose old bytes are queued for
 * deletion. The uploader deletes the CID's blob_gc rows in the transaction that records
 * the blob (waiting on our row lock if a sweep holds it) and moves the bytes into the store
 * only after that commits; a sweep deletes bytes only while holding the queue rows and only
 * when no `blob` row exists. So new bytes are never deleted by an old queue entry. */
#include "blob/sweep.h"

#include <stdlib.h>

#include "db/log.h"

enum err blob_sweep_expired(struct db *db, int64_t grace_ms, int64_t *n)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, grace_ms);
    return db_exec(db,
                   "WITH dead AS ("
                   " DELETE FROM blob b"
                   "  WHERE b.temp_key IS NOT NULL"
                   "    AND b.created_at < now() - $1::bigint * interval '1 millisecond'"
                   "    AND NOT EXISTS (SELECT 1 FROM record_blob rb"
                   "                     WHERE rb.did = b.did AND rb.blob_cid = b.cid)"
                   "  RETURNING b.did, b.cid)"
                   " INSERT INTO blob_gc (did, cid) SELECT did, cid FROM dead",
                   &p, n);
}

enum err blob_sweep_gc(struct db *db, struct blobstore *s, int64_t *n)
{
    *n = 0;
    enum err e = db_begin(db);
    if (e) {
        return e;
    }
    PGresult *r = NULL;
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, BLOB_SWEEP_PAUSE_LOCK);
    e = db_query(db, "SELECT pg_try_advisory_xact_lock_shared($1::bigint)", &p, &r);
    bool paused = !e && !db_col_bool(r, 0, 0);
    PQclear(r);
    r = NULL;
    if (e || paused) { /* a backup is copying blobs: delete nothing this round */
        db_rollback(db);
        return e;
    }
    db_params_init(&p);
    db_param_i64(&p, BLOB_SWEEP_BATCH);
    e = db_query(db,
                 "SELECT g.id, g.did, g.cid,"
                 " EXISTS (SELECT 1 FROM blob b WHERE b.did = g.did AND b.cid = g.cid)"
                 " FROM blob_gc g ORDER BY g.id LIMIT $1 FOR UPDATE OF g SKIP LOCKED",
                 &p, &r);
    int rows = e ? 0 : PQntuples(r);
    for (int i = 0; i < rows && !e; i++) {
        struct cid cid;
        const char *did = db_col_text(r, i, 1);
        bool alive = db_col_bool(r, i, 3);
        if (cid_from_bytes(db_col_bytes(r, i, 2), &cid) == ERR_OK && !alive) {
            enum err de = blobstore_delete(s, did, &cid);
            if (de) {
                log_warn(NULL, "blob sweeper: could not delete a blob of %s: %s", did, err_str(de));
                continue; /* stays queued */
            }
        }
        struct db_params d;
        db_params_init(&d);
        db_param_i64(&d, db_col_i64(r, i, 0));
        e = db_exec(db, "DELETE FROM blob_gc WHERE id = $1", &d, NULL);
        if (!e) {
            (*n)++;
        }
    }
    PQclear(r);
    if (e) {
        db_rollback(db);
        return e;
    }
    return db_commit(db);
}
