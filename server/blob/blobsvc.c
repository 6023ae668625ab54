/* blobsvc.c - the process-wide blob store and the sweeper thread. */
#include "blob/blobsvc.h"

#include <pthread.h>
#include <time.h>

#include "blob/sweep.h"
#include "db/db.h"
#include "db/log.h"
#include "config/config.h"

static pthread_mutex_t svc_lock = PTHREAD_MUTEX_INITIALIZER;
/* guarded by svc_lock: */
static struct blobstore *svc_store;
static bool svc_started, svc_stopping, svc_wake;
static enum err svc_result;
static pthread_t svc_thread;
static pthread_cond_t svc_cond;
static int64_t svc_grace_ms, svc_interval_ms;

static void sweep_round(struct db *db)
{
    int64_t expired = 0, deleted = 0;
    enum err e = blob_sweep_expired(db, svc_grace_ms, &expired);
    if (e) {
        log_warn(NULL, "blob sweeper: expiring uploads failed: %s", err_str(e));
    }
    do {
        e = blob_sweep_gc(db, svc_store, &deleted);
        if (e) {
            log_warn(NULL, "blob sweeper: deleting blobs failed: %s", err_str(e));
        } else if (deleted) {
            log_debug(NULL, "blob sweeper: deleted %lld blobs", (long long)deleted);
        }
    } while (!e && deleted == BLOB_SWEEP_BATCH);
    if (expired) {
        log_info(NULL, "blob sweeper: %lld unreferenced uploads expired", (long long)expired);
    }
}

static void *sweeper_main(void *arg)
{
    struct db *db = db_thread();
    pthread_mutex_lock(&svc_lock);
    while (!svc_stopping) {
        pthread_mutex_unlock(&svc_lock);
        sweep_round(db);
        pthread_mutex_lock(&svc_lock);
        if (svc_stopping) {
            break;
        }
        if (!svc_wake) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            int64_t ns = until.tv_nsec + (svc_interval_ms % 1000) * 1000000;
            until.tv_sec += (time_t)(svc_interval_ms / 1000 + ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&svc_cond, &svc_lock, &until);
        }
        svc_wake = false;
    }
    pthread_mutex_unlock(&svc_lock);
    return NULL;
}

enum err blobsvc_start(const struct config *cfg)
{
    pthread_mutex_lock(&svc_lock);
    if (svc_started) {
        enum err e = svc_result;
        pthread_mutex_unlock(&svc_lock);
        return e;
    }
    svc_started = true;
    struct blobstore_config bc = {
        .disk_root = cfg->blobstore_disk,
        .tmp_dir = cfg->blobstore_disk_tmp,
        .s3_bucket = cfg->blobstore_s3_bucket,
        .s3_region = cfg->blobstore_s3_region,
        .s3_endpoint = cfg->blobstore_s3_endpoint,
        .s3_force_path_style = cfg->blobstore_s3_force_path_style,
        .s3_access_key_id = cfg->blobstore_s3_access_key_id,
        .s3_secret_access_key = cfg->blobstore_s3_secret_access_key,
        .s3_upload_timeout_ms = (long)cfg->blobstore_s3_upload_timeout_ms,
        .s3_request_timeout_ms = (long)cfg->blobstore_s3_request_timeout_ms,
    };
    char why[512];
    svc_result = blobstore_new(&bc, &svc_store, why, sizeof why);
    if (svc_result) {
        log_error(NULL, "blob store: %s", why);
        pthread_mutex_unlock(&svc_lock);
        return svc_result;
    }
    svc_grace_ms = cfg->blob_temp_grace_ms;
    svc_interval_ms = cfg->blob_sweep_interval_ms > 0 ? cfg->blob_sweep_interval_ms : 60000;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&svc_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&svc_thread, NULL, sweeper_main, NULL) != 0) {
        log_error(NULL, "blob store: could not start the sweeper thread");
        blobstore_free(svc_store);
        svc_store = NULL;
        svc_result = ERR_INTERNAL;
    } else {
        log_info(NULL, "blob store: %s, sweeping every %lld ms", blobstore_kind(svc_store),
                 (long long)svc_interval_ms);
    }
    pthread_mutex_unlock(&svc_lock);
    return svc_result;
}

struct blobstore *blobsvc_store(void)
{
    pthread_mutex_lock(&svc_lock);
    struct blobstore *s = svc_store;
    pthread_mutex_unlock(&svc_lock);
    return s;
}

void blobsvc_wake(void)
{
    pthread_mutex_lock(&svc_lock);
    if (svc_store) {
        svc_wake = true;
        pthread_cond_signal(&svc_cond);
    }
    pthread_mutex_unlock(&svc_lock);
}

void blobsvc_stop(void)
{
    pthread_mutex_lock(&svc_lock);
    bool running = svc_started && svc_store;
    svc_stopping = true;
    if (running) {
        pthread_cond_signal(&svc_cond);
    }
    pthread_mutex_unlock(&svc_lock);
    if (running) {
        pthread_join(svc_thread, NULL);
        blobstore_free(svc_store);
        svc_store = NULL;
    }
}
