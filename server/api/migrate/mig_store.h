/* mig_store.h - migration jobs in PostgreSQL (migration_job, migration_step, migration_blob):
 * creating and loading jobs, claiming one with FOR UPDATE SKIP LOCKED and holding it by a
 * renewed lease, recording steps, blobs and progress, and the job's credentials, sealed
 * under a key derived from the server's PLC rotation key (as signing keys are) and erased
 * when the job ends. Every call is one statement or one short transaction on the caller's
 * connection, never held across network I/O. Thread-safe given one struct db per thread. */
#ifndef PDS_API_MIGRATE_MIG_STORE_H
#define PDS_API_MIGRATE_MIG_STORE_H

#include "api/migrate/mig_job.h"
#include "core/err.h"
#include "db/db.h"
#include "repo/inventory.h"

#define MIG_LEASE_MS         10000 /* a job's lease; a dead worker's job waits this long */
#define MIG_ACCESS_TOKEN_LEN 43    /* base64url of 32 random bytes: the page's job token */

/* Creates a job in state preflight with its sealed secrets and the sha256 of access_token
 * (may be NULL: no page access). ERR_CONFLICT when the DID already has an open job. */
enum err mig_store_create(struct db *db, const struct mig_job *j, const char *access_token,
                          int64_t *id) MUST_CHECK;

/* Loads job id with its completed steps and unsealed secrets. ERR_NOT_FOUND. */
enum err mig_store_load(struct db *db, int64_t id, struct mig_job *out) MUST_CHECK;

/* The open job (not done or cancelled: a failed one may be retried) of did, or the newest
 * one if none is open;
 * ERR_NOT_FOUND when did has no job at all. */
enum err mig_store_find(struct db *db, const char *did, bool open_only, int64_t *id) MUST_CHECK;

/* Whether token is the page token of job id (constant-time compare of hashes). */
bool mig_store_check_access(struct db *db, int64_t id, const char *token);
/* Replaces the page token (a new sign-in). */
enum err mig_store_set_access(struct db *db, int64_t id, const char *token) MUST_CHECK;

/* Claims a runnable job (preflight or running, due, lease free or expired) for owner:
 * *id = 0 when there is none. One short transaction with FOR UPDATE SKIP LOCKED, so
 * workers of several processes never take the same job. */
enum err mig_store_claim(struct db *db, const char *owner, int64_t *id) MUST_CHECK;
/* Extends owner's lease on id. *held false when it was lost: another worker has it, or the
 * job left the runnable states (cancelled from a page): the worker must stop. */
enum err mig_store_renew(struct db *db, int64_t id, const char *owner, bool *held) MUST_CHECK;
/* Gives the lease back (the job stays as it is). */
enum err mig_store_release(struct db *db, int64_t id, const char *owner) MUST_CHECK;

/* Records step s as done with detail (may be NULL) and clears attempts and the error. */
enum err mig_store_step_done(struct db *db, int64_t id, enum mig_step s, json_t *detail) MUST_CHECK;
/* The detail recorded with step s (new reference), or NULL. */
json_t *mig_store_step_detail(struct db *db, int64_t id, enum mig_step s);
/* Forgets steps from s on (a retry of that part). */
enum err mig_store_steps_reset(struct db *db, int64_t id, enum mig_step from) MUST_CHECK;

/* Sets state and step (NULL: unchanged step), and error/code (NULL clears them). Leaving
 * the runnable states also drops the lease. */
enum err mig_store_set_state(struct db *db, int64_t id, const char *state, const char *step,
                             const char *code, const char *error) MUST_CHECK;
/* A transient failure of the current step: attempts + 1, next try after delay_ms, the
 * error kept for the page. */
enum err mig_store_retry_later(struct db *db, int64_t id, const char *step, int64_t delay_ms,
                               const char *error) MUST_CHECK;
/* Replaces the progress document (counters for the page). */
enum err mig_store_set_progress(struct db *db, int64_t id, json_t *progress) MUST_CHECK;
/* Sets the preflight plan, and the email and handle it found where none was known. */
enum err mig_store_set_plan(struct db *db, int64_t id, json_t *plan, const char *email,
                            const char *old_handle) MUST_CHECK;
/* The user's choices at confirm: new handle, invite code; state -> running. */
enum err mig_store_confirm(struct db *db, int64_t id, const char *handle,
                           const char *invite_code) MUST_CHECK;
/* Sets (or clears) the user-held rotation key. */
enum err mig_store_set_rotation_key(struct db *db, int64_t id, const char *did_key) MUST_CHECK;

/* Seals and stores sec. */
enum err mig_store_save_secrets(struct db *db, int64_t id,
                                const struct mig_secrets *sec) MUST_CHECK;
/* Erases the credentials (secrets = NULL). */
enum err mig_store_erase_secrets(struct db *db, int64_t id) MUST_CHECK;

/* ---- blobs ---- */

/* Makes migration_blob list exactly the blobs of inv: new ones added (not done), ones no
 * longer referenced dropped, done ones kept. */
enum err mig_store_blobs_set(struct db *db, int64_t id, const struct inventory *inv) MUST_CHECK;

struct mig_blob {
    char cid[64];
    int64_t size;
};
/* Up to max blobs not yet done; *out malloc'd (caller frees), *n their count. */
enum err mig_store_blobs_pending(struct db *db, int64_t id, size_t max, struct mig_blob **out,
                                 size_t *n) MUST_CHECK;
/* Marks a blob done, or failed with error (attempts + 1). */
enum err mig_store_blob_result(struct db *db, int64_t id, const char *cid, bool ok,
                               const char *error) MUST_CHECK;
/* Counters: all and done blobs, their bytes. */
struct mig_blob_counts {
    int64_t total, done, total_bytes, done_bytes, failed;
};
enum err mig_store_blob_counts(struct db *db, int64_t id, struct mig_blob_counts *out) MUST_CHECK;

/* ---- for the page and the admin API ---- */

/* The job as JSON for its page: id, direction, did, state, step, hosts, handles, plan,
 * progress, error, errorCode, the steps with done flags, blob counters, times. NULL when
 * there is no such job (or on a database failure). New reference. */
json_t *mig_store_job_json(struct db *db, int64_t id);
/* Jobs for the admin API (newest first), state NULL for all; up to limit. */
json_t *mig_store_list_json(struct db *db, const char *state, int64_t limit);

#endif
