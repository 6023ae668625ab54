/* mig_job.c - the job record's lifetime and step names (mig_job.h). */
#include "api/migrate/mig_job.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/bytes.h"

static const char *const step_names[MIG_STEP_COUNT] = {
    [MIG_STEP_PREFLIGHT] = "preflight",
    [MIG_STEP_CREATE_ACCOUNT] = "create_account",
    [MIG_STEP_IMPORT_REPO] = "import_repo",
    [MIG_STEP_BLOBS] = "blobs",
    [MIG_STEP_PREFERENCES] = "preferences",
    [MIG_STEP_VERIFY] = "verify",
    [MIG_STEP_PLC_SIGN] = "plc_sign",
    [MIG_STEP_PLC_SUBMIT] = "plc_submit",
    [MIG_STEP_DID_VERIFY] = "did_verify",
    [MIG_STEP_ACTIVATE] = "activate",
    [MIG_STEP_DEACTIVATE_OLD] = "deactivate_old",
};

const char *mig_step_name(enum mig_step s)
{
    return (unsigned)s < MIG_STEP_COUNT ? step_names[s] : "";
}

enum mig_step mig_step_parse(const char *name)
{
    for (int i = 0; name && i < MIG_STEP_COUNT; i++) {
        if (strcmp(name, step_names[i]) == 0) {
            return (enum mig_step)i;
        }
    }
    return MIG_STEP_COUNT;
}

void mig_job_init(struct mig_job *j)
{
    memset(j, 0, sizeof *j);
}

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

void mig_secret_set(char **slot, const char *value)
{
    wipe_free(*slot);
    *slot = value ? xstrndup(value, strlen(value)) : NULL;
}

void mig_secrets_clear(struct mig_secrets *s)
{
    wipe_free(s->remote_access);
    wipe_free(s->remote_refresh);
    wipe_free(s->password);
    wipe_free(s->plc_token);
    memset(s, 0, sizeof *s);
}

void mig_job_clear(struct mig_job *j)
{
    free(j->did);
    free(j->state);
    free(j->step);
    free(j->created_by);
    free(j->old_url);
    free(j->new_url);
    free(j->old_handle);
    free(j->new_handle);
    free(j->email);
    free(j->invite_code);
    free(j->rotation_key);
    json_decref(j->plan);
    json_decref(j->progress);
    mig_secrets_clear(&j->sec);
    memset(j, 0, sizeof *j);
}
