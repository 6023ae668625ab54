/* mig_step.c - what the steps of a migration share (mig_run.h): their results in words, the
 * two hosts as peers, progress for the page, and whether to stop. */
#include "api/migrate/mig_run.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/migrate/mig_store.h"
#include "config/config.h"

#define PROGRESS_SAVE_MS 500

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mig_fail(struct mig_result *r, const char *code, const char *fmt, ...)
{
    r->kind = MIG_FAILED;
    snprintf(r->code, sizeof r->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

void mig_again(struct mig_result *r, const char *fmt, ...)
{
    r->kind = MIG_AGAIN;
    snprintf(r->code, sizeof r->code, "Retrying");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

const char *mig_host_name(const struct mig_peer *p)
{
    return p->self ? "this server" : p->url;
}

void mig_from_call(struct mig_ctx *x, struct mig_result *r, enum err e, const struct mig_fail *f,
                   const struct mig_peer *host, const char *what)
{
    if (atomic_load(&x->stop)) {
        r->kind = MIG_STOPPED;
        return;
    }
    const char *name = mig_host_name(host);
    if (e == ERR_AUTH) {
        mig_fail(r, "SignInAgain",
                 "The sign-in at %s has expired while %s. Sign in there again to continue.", name,
                 what);
    } else if (e == ERR_UPSTREAM) {
        log_warn(&x->log, "migration %lld: %s at %s failed: %s", (long long)x->job.id, what, name,
                 f->why);
        mig_again(r, "%s did not answer while %s (%s); trying again shortly.", name, what,
                  f->status ? "it failed" : "no answer");
    } else if (strcmp(f->error, "BadAnswer") == 0) {
        mig_fail(r, "BadAnswer", "%s sent an answer this server cannot read while %s (%s).", name,
                 what, f->message);
    } else if (e == ERR_TOO_LARGE) {
        mig_fail(r, "TooLarge", "%s sent more than this server accepts while %s.", name, what);
    } else {
        mig_fail(r, f->error[0] ? f->error : "Refused", "%s refused while %s: %s%s%s", name, what,
                 f->error[0] ? f->error : "error", f->message[0] ? ": " : "", f->message);
    }
}

bool mig_keepalive(struct mig_ctx *x)
{
    /* the lease itself is renewed by the process's lease keeper (mig_lease.c), which sets
     * x->stop when it is lost; here a long step only looks whether it should stop */
    if (x->shutdown && atomic_load(x->shutdown)) {
        atomic_store(&x->stop, true);
    }
    return !atomic_load(&x->stop);
}

void mig_progress(struct mig_ctx *x, const char *key, json_t *value, bool force)
{
    json_object_set_new(x->job.progress, key, value);
    int64_t now = now_ms();
    if (force || now - x->progress_ms >= PROGRESS_SAVE_MS) {
        x->progress_ms = now;
        if (mig_store_set_progress(x->db, x->job.id, x->job.progress) != ERR_OK) {
            log_warn(&x->log, "migration %lld: could not save progress", (long long)x->job.id);
        }
    }
}

void mig_setup_peers(const struct config *cfg, struct mig_job *job, const atomic_bool *stop,
                     struct mig_peer *old, struct mig_peer *fresh)
{
    struct mig_peer self = {
        .self = true, .did = job->did, .timeout_ms = 600000, .tries = 3, .stop = stop};
    snprintf(self.url, sizeof self.url, "http://127.0.0.1:%d", cfg->port);
    struct mig_peer remote = {
        .did = job->did,
        .sec = &job->sec,
        .sec_dirty = &job->sec_dirty,
        .ssrf_protect = !cfg->disable_ssrf_protection,
        .timeout_ms = (long)cfg->migration_timeout_ms,
        .tries = 4,
        .stop = stop,
    };
    snprintf(remote.url, sizeof remote.url, "%s", job->dir == MIG_IN ? job->old_url : job->new_url);
    *old = job->dir == MIG_IN ? remote : self;
    *fresh = job->dir == MIG_IN ? self : remote;
}
