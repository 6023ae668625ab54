/* mig_job.h - an account migration job as the worker and the endpoints see it: its
 * direction, state, hosts and choices, and the credentials it holds while it runs (sealed in
 * migration_job.secrets, see mig_store.h). Plain data; one thread per struct. */
#ifndef PDS_API_MIGRATE_MIG_JOB_H
#define PDS_API_MIGRATE_MIG_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

/* migration_job.state values (0030_migration_jobs.sql) */
#define MIG_STATE_PREFLIGHT      "preflight"
#define MIG_STATE_CONFIRM        "confirm"
#define MIG_STATE_RUNNING        "running"
#define MIG_STATE_AWAITING_TOKEN "awaiting_token"
#define MIG_STATE_FAILED         "failed"
#define MIG_STATE_DONE           "done"
#define MIG_STATE_CANCELLED      "cancelled"

/* The steps, in order. Each is idempotent and recorded in migration_step once done. */
enum mig_step {
    MIG_STEP_PREFLIGHT,      /* checks and sizes; nothing changes */
    MIG_STEP_CREATE_ACCOUNT, /* the account on the new host, deactivated, with the old DID */
    MIG_STEP_IMPORT_REPO,    /* the old repository, verified, imported */
    MIG_STEP_BLOBS,          /* every referenced blob, checked against its CID */
    MIG_STEP_PREFERENCES,    /* private preferences */
    MIG_STEP_VERIFY,         /* the gate: everything is there and matches */
    MIG_STEP_PLC_SIGN,       /* the old host signs the PLC operation (emailed code) */
    MIG_STEP_PLC_SUBMIT,     /* the new host submits it to the directory */
    MIG_STEP_DID_VERIFY,     /* the DID document names the new host and its key */
    MIG_STEP_ACTIVATE,       /* the account goes live on the new host */
    MIG_STEP_DEACTIVATE_OLD, /* and is deactivated on the old one */
    MIG_STEP_COUNT,
};

/* The step's name in migration_step.name and in the API ("create_account"...). */
const char *mig_step_name(enum mig_step s);
/* The step named name; MIG_STEP_COUNT when none. */
enum mig_step mig_step_parse(const char *name);

enum mig_dir {
    MIG_IN,  /* into this server */
    MIG_OUT, /* out of it */
};

/* Credentials the job holds while it runs; every string malloc'd or NULL, wiped on clear.
 * "old"/"new" are the hosts the account leaves and joins; this server's side needs none
 * (the worker signs its own short-lived token for the account). */
struct mig_secrets {
    char *remote_access; /* session on the other host */
    char *remote_refresh;
    char *password;  /* for the account on the new host (createAccount / createSession) */
    char *plc_token; /* the emailed code, between the user typing it and its use */
};

struct mig_job {
    int64_t id;
    enum mig_dir dir;
    char *did;
    char *state;
    char *step;
    char *created_by; /* "user" or "operator" */
    char *old_url, *new_url;
    char *old_handle, *new_handle;
    char *email;
    char *invite_code;
    char *rotation_key; /* did:key of a user-held rotation key, or NULL */
    json_t *plan;       /* what preflight found, or NULL */
    json_t *progress;   /* counters for the page */
    int attempts;
    bool done[MIG_STEP_COUNT]; /* steps recorded as completed */
    struct mig_secrets sec;
    bool sec_dirty; /* sec changed (a refreshed session): save before the job is released */
};

void mig_job_init(struct mig_job *j);
/* Frees every field; wipes the secrets. Safe on an initialised or cleared job. */
void mig_job_clear(struct mig_job *j);
void mig_secrets_clear(struct mig_secrets *s);
/* Replaces *slot with a copy of value (NULL: clears it), wiping the old one. */
void mig_secret_set(char **slot, const char *value);

#endif
