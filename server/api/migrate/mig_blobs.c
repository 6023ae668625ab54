/* mig_blobs.c - the blob step: every blob the repository references, moved from the old
 * host to the new one by a few threads at once. Each blob is downloaded into an unlinked
 * temporary file while its SHA-256 is computed, refused unless that hash is the one its CID
 * names, uploaded from the file, and refused again unless the new host names the same CID.
 * Only the job's own thread touches the database: the transfer threads hand results back
 * through a queue, and a session that expires is refreshed by the job's thread alone (the
 * old refresh token is single-use), which then hands the new token to the transfer
 * threads. A blob recorded as done is never sent again, so a restart resumes the rest. */
#include "api/migrate/mig_run.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api/migrate/mig_store.h"
#include "config/config.h"
#include "core/cid.h"

#define BLOB_TRIES        3 /* per blob, for a mismatch or a failure that may pass */
#define BLOB_THREADS_MAX  16
#define BLOB_PENDING_MAX  2000000
#define BLOB_TIMEOUT_MS   (15 * 60 * 1000)
#define BLOB_WAIT_MS      500 /* how often the job's thread wakes to record and renew */
#define BLOB_MIME_DEFAULT "application/octet-stream"

struct task {
    struct mig_blob b;
    bool ok;
    bool auth; /* failed on an expired session: requeue after the refresh */
    char error[200];
};

struct pool {
    struct mig_ctx *x;
    struct task *tasks;
    size_t n;
    pthread_mutex_t lock; /* guards the fields below */
    pthread_cond_t cond;
    size_t next;      /* the next task to hand out */
    size_t *finished; /* indices of tasks done, not yet recorded */
    size_t nfinished;
    size_t running;  /* threads still working */
    size_t *requeue; /* tasks to hand out again after a refresh */
    size_t nrequeue;
    char *access; /* the other host's current access token (copied per request) */
    bool need_refresh;
    bool auth_failed;      /* the other host's session could not be refreshed */
    uint64_t bytes_moving; /* bytes of blobs in flight, for the progress bar */
    atomic_bool halt;      /* the transfer threads stop taking blobs */
};

static int tmp_file(const struct config *cfg)
{
    const char *dir =
        cfg->blobstore_disk_tmp && !cfg->blobstore_s3_bucket ? cfg->blobstore_disk_tmp : "/tmp";
    char *path = xprintf("%s/pds-migration-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0 && strcmp(dir, "/tmp") != 0) {
        free(path);
        path = xprintf("/tmp/pds-migration-XXXXXX");
        fd = mkstemp(path);
    }
    if (fd >= 0) {
        unlink(path); /* gone with the descriptor, whatever happens to this process */
    }
    free(path);
    return fd;
}

/* A thread's own view of a peer: the other host's token is a private copy. */
static void peer_copy(struct pool *p, const struct mig_peer *src, struct mig_peer *dst,
                      struct mig_secrets *sec)
{
    *dst = *src;
    if (!src->self) {
        pthread_mutex_lock(&p->lock);
        mig_secret_set(&sec->remote_access, p->access);
        pthread_mutex_unlock(&p->lock);
        dst->sec = sec;
        dst->sec_dirty = NULL;
    }
    dst->stop = &p->halt;
}

static bool move_once(struct pool *p, struct task *t, int fd)
{
    struct mig_ctx *x = p->x;
    struct mig_peer old, fresh;
    struct mig_secrets sec = {0};
    peer_copy(p, &x->old, &old, &sec);
    peer_copy(p, &x->fresh, &fresh, &sec);
    struct cid want;
    if (cid_parse_str(t->b.cid, &want) != ERR_OK) {
        snprintf(t->error, sizeof t->error, "not a CID");
        mig_secrets_clear(&sec);
        return false;
    }
    char *d = mig_http_escape(x->job.did);
    char *query = xprintf("did=%s&cid=%s", d, t->b.cid);
    free(d);
    struct mig_call get;
    mig_call_init(&get, "GET", "com.atproto.sync.getBlob");
    get.query = query;
    get.out_fd = fd;
    get.hash = true;
    get.max_bytes = (uint64_t)x->cfg->blob_upload_limit;
    get.timeout_ms = BLOB_TIMEOUT_MS;
    get.pace = MIG_PACE_BLOB;
    struct mig_http_resp resp;
    struct mig_fail f;
    enum err e = mig_peer_call(&old, &get, NULL, &resp, &f);
    free(query);
    char mime[128];
    snprintf(mime, sizeof mime, "%s", resp.content_type[0] ? resp.content_type : BLOB_MIME_DEFAULT);
    uint64_t size = resp.bytes;
    struct bytes digest = cid_digest(&want);
    bool hash_ok = !e && digest.len == SHA256_BYTES &&
                   sodium_memcmp(digest.ptr, resp.sha256, SHA256_BYTES) == 0;
    mig_http_resp_clear(&resp);
    json_t *out = NULL;
    if (e) {
        t->auth = e == ERR_AUTH;
        snprintf(t->error, sizeof t->error, "%s: %s",
                 e == ERR_TOO_LARGE ? "larger than this host's blob limit"
                 : e == ERR_INVALID ? "the old host refused it"
                                    : "the old host did not send it",
                 f.error[0] ? f.error : f.why);
        goto out;
    }
    if (!hash_ok) {
        snprintf(t->error, sizeof t->error, "the bytes sent do not match the blob's CID");
        e = ERR_INVALID;
        goto out;
    }
    struct mig_call put;
    mig_call_init(&put, "POST", "com.atproto.repo.uploadBlob");
    put.content_type = mime;
    put.raw_fd = fd;
    put.raw_len = size;
    put.timeout_ms = BLOB_TIMEOUT_MS;
    put.pace = MIG_PACE_BLOB;
    e = mig_peer_call(&fresh, &put, &out, NULL, &f);
    const char *got = json_string_value(
        json_object_get(json_object_get(json_object_get(out, "blob"), "ref"), "$link"));
    if (e) {
        t->auth = e == ERR_AUTH;
        snprintf(t->error, sizeof t->error, "the new host refused it: %s %s", f.error,
                 f.message[0] ? f.message : f.why);
    } else if (!got || strcmp(got, t->b.cid) != 0) {
        snprintf(t->error, sizeof t->error, "the new host stored it under another CID (%s)",
                 got ? got : "none");
        e = ERR_INVALID;
    }
out:
    json_decref(out);
    mig_secrets_clear(&sec);
    if (!e) {
        t->error[0] = '\0';
    }
    return e == ERR_OK;
}

static void move_blob(struct pool *p, struct task *t)
{
    int fd = tmp_file(p->x->cfg);
    if (fd < 0) {
        snprintf(t->error, sizeof t->error, "no room for a temporary file");
        t->ok = false;
        return;
    }
    for (int i = 0; i < BLOB_TRIES && !atomic_load(&p->halt); i++) {
        t->auth = false;
        if ((t->ok = move_once(p, t, fd)) || t->auth) {
            break;
        }
    }
    close(fd);
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        while (!atomic_load(&p->halt) && p->need_refresh) {
            pthread_cond_wait(&p->cond, &p->lock);
        }
        size_t i = SIZE_MAX;
        if (atomic_load(&p->halt)) {
            /* leave the rest */
        } else if (p->nrequeue) {
            i = p->requeue[--p->nrequeue];
        } else if (p->next < p->n) {
            i = p->next++;
        }
        if (i != SIZE_MAX) {
            p->bytes_moving += (uint64_t)p->tasks[i].b.size;
        }
        pthread_mutex_unlock(&p->lock);
        if (i == SIZE_MAX) {
            break;
        }
        move_blob(p, &p->tasks[i]);
        pthread_mutex_lock(&p->lock);
        p->bytes_moving -= (uint64_t)p->tasks[i].b.size;
        p->finished[p->nfinished++] = i;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_lock(&p->lock);
    p->running--;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void report(struct pool *p, int64_t started_ms, int64_t bytes_at_start)
{
    struct mig_blob_counts bc;
    if (mig_store_blob_counts(p->x->db, p->x->job.id, &bc)) {
        return;
    }
    int64_t elapsed = wall_ms() - started_ms;
    int64_t moved = bc.done_bytes - bytes_at_start;
    json_t *o =
        json_pack("{s:I,s:I,s:I,s:I,s:I}", "total", (json_int_t)bc.total, "done",
                  (json_int_t)bc.done, "totalBytes", (json_int_t)bc.total_bytes, "doneBytes",
                  (json_int_t)bc.done_bytes, "startedAt", (json_int_t)started_ms);
    if (moved > 0 && elapsed > 0) {
        int64_t rate = moved * 1000 / elapsed; /* bytes per second, this run */
        json_object_set_new(o, "bytesPerSecond", json_integer(rate));
        json_object_set_new(o, "secondsLeft",
                            json_integer(rate ? (bc.total_bytes - bc.done_bytes) / rate : 0));
    }
    mig_progress(p->x, "blobs", o, false);
}

/* The job's thread, while the transfers run: record, renew, refresh. */
static void coordinate(struct pool *p)
{
    struct mig_ctx *x = p->x;
    struct mig_blob_counts start;
    if (mig_store_blob_counts(x->db, x->job.id, &start)) {
        memset(&start, 0, sizeof start);
    }
    int64_t started = wall_ms();
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->nfinished) {
            struct task *t = &p->tasks[p->finished[--p->nfinished]];
            if (t->auth && !t->ok) {
                p->requeue[p->nrequeue++] = (size_t)(t - p->tasks);
                p->need_refresh = true;
                continue;
            }
            pthread_mutex_unlock(&p->lock);
            if (mig_store_blob_result(x->db, x->job.id, t->b.cid, t->ok, t->ok ? NULL : t->error)) {
                log_warn(&x->log, "migration %lld: could not record blob %s", (long long)x->job.id,
                         t->b.cid);
            }
            pthread_mutex_lock(&p->lock);
        }
        if (p->need_refresh) {
            pthread_mutex_unlock(&p->lock);
            json_t *s = NULL;
            struct mig_fail f;
            enum err e = mig_peer_get(x->remote, "com.atproto.server.getSession", NULL, &s, &f);
            json_decref(s);
            pthread_mutex_lock(&p->lock);
            if (e) {
                p->auth_failed = true; /* the step reports SignInAgain */
                atomic_store(&p->halt, true);
            } else {
                mig_secret_set(&p->access, x->job.sec.remote_access);
            }
            p->need_refresh = false;
            pthread_cond_broadcast(&p->cond);
        }
        if (p->running == 0 && p->nfinished == 0) {
            break;
        }
        pthread_mutex_unlock(&p->lock);
        report(p, started, start.done_bytes);
        if (!mig_keepalive(x)) {
            atomic_store(&p->halt, true);
        }
        pthread_mutex_lock(&p->lock);
        if (p->nfinished == 0 && p->running > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)BLOB_WAIT_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&p->cond, &p->lock, &ts);
        }
    }
    pthread_mutex_unlock(&p->lock);
    report(p, started, start.done_bytes);
    mig_progress(x, "step", json_string("blobs"), true);
}

void mig_step_blobs(struct mig_ctx *x, struct mig_result *r)
{
    struct pool p = {.x = x};
    atomic_init(&p.halt, false);
    struct mig_blob *pending = NULL;
    if (mig_store_blobs_pending(x->db, x->job.id, BLOB_PENDING_MAX, &pending, &p.n)) {
        mig_again(r, "The database did not answer; trying again shortly.");
        return;
    }
    p.tasks = xcalloc(p.n ? p.n : 1, sizeof *p.tasks);
    for (size_t i = 0; i < p.n; i++) {
        p.tasks[i].b = pending[i];
    }
    free(pending);
    p.finished = xcalloc(p.n ? p.n : 1, sizeof *p.finished);
    p.requeue = xcalloc(p.n ? p.n : 1, sizeof *p.requeue);
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    mig_secret_set(&p.access, x->job.sec.remote_access);
    int nthreads = x->cfg->migration_blob_concurrency;
    nthreads = nthreads < 1 ? 1 : nthreads > BLOB_THREADS_MAX ? BLOB_THREADS_MAX : nthreads;
    if ((size_t)nthreads > p.n) {
        nthreads = (int)p.n;
    }
    pthread_t th[BLOB_THREADS_MAX];
    int started = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_mutex_lock(&p.lock);
        p.running++;
        pthread_mutex_unlock(&p.lock);
        if (pthread_create(&th[i], NULL, worker, &p) != 0) {
            pthread_mutex_lock(&p.lock);
            p.running--;
            pthread_mutex_unlock(&p.lock);
            break;
        }
        started++;
    }
    if (started > 0 || p.n == 0) {
        coordinate(&p);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }
    pthread_mutex_destroy(&p.lock);
    pthread_cond_destroy(&p.cond);
    mig_secret_set(&p.access, NULL);
    free(p.tasks);
    free(p.finished);
    free(p.requeue);
    if (p.auth_failed) {
        mig_fail(r, "SignInAgain",
                 "The sign-in at %s has expired while copying blobs. Sign in there again to "
                 "continue.",
                 mig_host_name(x->remote));
        return;
    }
    if (atomic_load(&x->stop)) {
        r->kind = MIG_STOPPED;
        return;
    }
    struct mig_blob_counts bc;
    if (mig_store_blob_counts(x->db, x->job.id, &bc)) {
        mig_again(r, "The database did not answer; trying again shortly.");
        return;
    }
    if (started == 0 && p.n > 0) {
        mig_again(r, "This server could not start its transfer threads; trying again.");
        return;
    }
    if (bc.done < bc.total) {
        mig_fail(r, "BlobsFailed",
                 "%lld of %lld blobs could not be copied from %s (see the list). Retry copying "
                 "the blobs.",
                 (long long)(bc.total - bc.done), (long long)bc.total, mig_host_name(&x->old));
        return;
    }
    r->kind = MIG_OK;
    r->detail =
        json_pack("{s:I,s:I}", "blobs", (json_int_t)bc.total, "bytes", (json_int_t)bc.total_bytes);
}
