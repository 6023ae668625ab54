/* mig_run.h - private to server/api/migrate: running one claimed job. The worker builds a
 * context (the job, its two hosts as peers, the lease), mig_run_job walks the steps in
 * order, skipping those recorded as done, and turns each step's result into the job's next
 * state: done, try again later, stopped on an error, or waiting for the user. The step
 * functions live in mig_preflight.c, mig_copy.c, mig_blobs.c and mig_identity.c; what they
 * share (results, peers, progress) in mig_step.c.
 * One thread per context. */
#ifndef PDS_API_MIGRATE_MIG_RUN_H
#define PDS_API_MIGRATE_MIG_RUN_H

#include <stdatomic.h>

#include "api/migrate/mig_job.h"
#include "api/migrate/mig_peer.h"
#include "db/db.h"
#include "db/log.h"

struct config;

#define MIG_STEP_TRIES     6    /* a step that keeps failing in ways that may pass stops here */
#define MIG_RETRY_FIRST_MS 2000 /* the wait before such a step runs again, doubling */
#define MIG_RETRY_MAX_MS   60000
#define MIG_CAR_MAX_BYTES  ((uint64_t)512 << 20) /* the largest repository export we read */
#define MIG_CODE_MAX       48
#define MIG_MESSAGE_MAX    600

struct mig_ctx {
    struct db *db;
    const struct config *cfg;
    struct log_ctx log;
    struct mig_job job;
    struct mig_peer old, fresh;     /* the host the account leaves, and the one it joins */
    struct mig_peer *self, *remote; /* which of the two is this server */
    const char *owner;              /* the lease owner id */
    atomic_bool stop;               /* lease lost or process stopping: wind down */
    const atomic_bool *shutdown;    /* the process is stopping */
    int64_t progress_ms;            /* last progress save */
};

enum mig_outcome {
    MIG_OK,     /* the step is done: record it and go on */
    MIG_AGAIN,  /* a failure that may pass: run the step again later */
    MIG_FAILED, /* stop: the user must act (message says what) */
    MIG_WAIT,   /* waiting for the user (the PLC code) */
    MIG_REDO,   /* go back to redo_from (the old repository moved on) */
    MIG_STOPPED /* the lease was lost or the process stops: leave the job as it is */
};

struct mig_result {
    enum mig_outcome kind;
    char code[MIG_CODE_MAX];       /* error name for the page (WrongPassword, ...) */
    char message[MIG_MESSAGE_MAX]; /* what happened, in plain words */
    enum mig_step redo_from;
    json_t *detail; /* recorded with the step when done (owned) */
};

/* Sets r to MIG_FAILED / MIG_AGAIN with a code and a message. */
void mig_fail(struct mig_result *r, const char *code, const char *fmt, ...) PRINTF_LIKE(3, 4);
void mig_again(struct mig_result *r, const char *fmt, ...) PRINTF_LIKE(2, 3);
/* The outcome of a failed peer call e/f during what (a phrase: "downloading the
 * repository"): MIG_STOPPED when stopping, MIG_AGAIN when it may pass, else MIG_FAILED
 * with the host's words. */
void mig_from_call(struct mig_ctx *x, struct mig_result *r, enum err e, const struct mig_fail *f,
                   const struct mig_peer *host, const char *what);

/* False when the job should stop: its lease was lost (the lease keeper sets x->stop) or the
 * process is stopping. Call often during long steps. */
bool mig_keepalive(struct mig_ctx *x);
/* Sets progress[key] = value (stolen) and saves progress at most every 500 ms (force:
 * now). */
void mig_progress(struct mig_ctx *x, const char *key, json_t *value, bool force);
/* A human name for a host ("this server" or its URL). */
const char *mig_host_name(const struct mig_peer *p);

/* The two hosts of job as peers (this server over loopback, the other with the job's
 * session); the peers borrow job and stop. */
void mig_setup_peers(const struct config *cfg, struct mig_job *job, const atomic_bool *stop,
                     struct mig_peer *old, struct mig_peer *fresh);

/* Runs claimed job id until it finishes, waits, fails or is stopped. */
void mig_run_job(struct db *db, const struct config *cfg, int64_t id, const char *owner,
                 const atomic_bool *shutdown);

/* The steps. */
void mig_step_preflight(struct mig_ctx *x, struct mig_result *r);
void mig_step_create_account(struct mig_ctx *x, struct mig_result *r);
void mig_step_import_repo(struct mig_ctx *x, struct mig_result *r);
void mig_step_blobs(struct mig_ctx *x, struct mig_result *r);
void mig_step_preferences(struct mig_ctx *x, struct mig_result *r);
void mig_step_verify(struct mig_ctx *x, struct mig_result *r);
void mig_step_plc_sign(struct mig_ctx *x, struct mig_result *r);
void mig_step_plc_submit(struct mig_ctx *x, struct mig_result *r);
void mig_step_did_verify(struct mig_ctx *x, struct mig_result *r);
void mig_step_activate(struct mig_ctx *x, struct mig_result *r);
void mig_step_deactivate_old(struct mig_ctx *x, struct mig_result *r);

/* Shared by the steps (mig_copy.c). */

/* The old host's repository export, read and checked (inventory.h) against the account's
 * key in its DID document as it stands; the CAR stays in car (caller clears). */
struct inventory;
void mig_fetch_repo(struct mig_ctx *x, struct mig_result *r, struct buf *car,
                    struct inventory *inv);
/* The new host's service DID (describeServer), into out; 0 on success. */
int mig_new_host_did(struct mig_ctx *x, struct mig_result *r, char *out, size_t cap);
/* Whether the old host's repository moved on from commit (new posts since the copy): 1 yes,
 * 0 no, -1 could not tell (r set). */
int mig_old_moved(struct mig_ctx *x, struct mig_result *r, const char *commit);
/* Cleans up after a cancel: deletes the half-made account here (inbound, never activated). */
void mig_cleanup_cancelled(struct db *db, const struct mig_job *j);

#endif
