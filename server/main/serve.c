/* serve.c - `pds serve`: load the configuration, start the private PostgreSQL cluster when no
 * database URL is given, migrate, serve HTTP until SIGINT/SIGTERM, then stop in reverse. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "api/common/app.h"
#include "api/lexicon/lexicon.h"
#include "api/migrate/migrate.h"
#include "api/routes.h"
#include "api/sync/crawlers.h"
#include "api/sync/relay_standing.h"
#include "api/sync/subscribe.h"
#include "blob/blobsvc.h"
#include "db/cluster.h"
#include "db/db.h"
#include "db/log.h"
#include "db/metrics.h"
#include "db/migrate.h"
#include "db/sequencer.h"
#include "http/limits.h"
#include "http/server.h"
#include "oauth/include.h"
#include "web/web.h"
#include "oauth/oauth.h"
#include "main/commands.h"
#include "config/config.h"
#include "db/replica.h"

#define SERVE_TRIM_S     10    /* between malloc_trim calls while serving */
#define DB_START_WAIT_MS 30000 /* an external database that is still starting up */

static void log_secrets_source(const struct config *cfg)
{
    if (cfg->secrets_created) {
        log_warn(NULL,
                 "generated development secrets (JWT secret, admin password, PLC rotation key) "
                 "into %s/%s: keep that file, accounts depend on it; set the variables "
                 "yourself in production",
                 cfg->data_dir, CONFIG_SECRETS_FILE);
    } else if (cfg->secrets_from_file) {
        log_info(NULL, "using development secrets from %s/%s", cfg->data_dir, CONFIG_SECRETS_FILE);
    }
}

/* Secrets never appear in a log line (db/log.h replaces them), whoever logs what. */
static void redact_secrets(const struct config *cfg)
{
    const char *secrets[] = {cfg->jwt_secret,
                             cfg->admin_password,
                             cfg->dpop_secret,
                             cfg->plc_rotation_key_hex,
                             cfg->blobstore_s3_secret_access_key,
                             cfg->rate_limit_bypass_key,
                             cfg->database_url,
                             cfg->email_smtp_url,
                             cfg->moderation_email_smtp_url};
    for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
        log_redact_add(secrets[i]);
    }
}

/* Connects once to apply migrations; workers open their own connections later. */
static enum err prepare_database(const char *url)
{
    struct db db;
    db_init(&db, url);
    enum err e = db_connect_wait(&db, DB_START_WAIT_MS);
    int applied = 0, version = 0;
    if (e == ERR_OK) {
        e = migrate_run(&db, migrations_embedded, migrations_embedded_len, &applied);
    }
    if (e == ERR_OK) {
        e = migrate_current_version(&db, &version);
    }
    if (e == ERR_OK) {
        log_info(NULL, "database schema at version %d (%d migration%s applied now)", version,
                 applied, applied == 1 ? "" : "s");
    }
    db_clear(&db);
    return e;
}

/* Each client connection holds a descriptor, and the connection limit follows the soft
 * open-file limit (http_connection_budget): raise it to the hard limit, as far as we may. */
static void raise_open_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) {
        return;
    }
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
        log_info(NULL, "open-file limit raised from %llu to %llu", (unsigned long long)was,
                 (unsigned long long)rl.rlim_cur);
    } else {
        log_warn(NULL, "could not raise the open-file limit from %llu", (unsigned long long)was);
    }
}

/* Blocks until SIGINT or SIGTERM (blocked in every thread, so only this thread sees them).
 * Meanwhile it hands the heap's free pages back to the system every SERVE_TRIM_S: glibc
 * keeps what a burst freed (a fan-out to a thousand subscribers, a flood of writes), so an
 * idle server held tens of MB it no longer used. */
static void wait_for_stop(const sigset_t *set)
{
    const struct timespec every = {SERVE_TRIM_S, 0};
    int sig;
    while ((sig = sigtimedwait(set, NULL, &every)) < 0) {
        if (errno == EAGAIN) {
            malloc_trim(0);
        }
    }
    log_info(NULL, "received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

int cmd_serve(int argc, char **argv)
{
    if (argc > 1) {
        fprintf(stderr, "pds serve: takes no arguments; configure with PDS_* variables "
                        "(pds config-doc lists them)\n");
        return 2;
    }
    struct config cfg;
    char why[512];
    if (config_load(&cfg, why, sizeof why) != ERR_OK) {
        log_error(NULL, "configuration: %s", why);
        config_clear(&cfg);
        return 1;
    }
    enum log_level level = LOG_LEVEL_INFO;
    (void)log_parse_level(cfg.log_level, &level); /* validated by config_load */
    log_set_level(level);
    enum log_format format = LOG_FORMAT_TEXT;
    (void)log_parse_format(cfg.log_format, &format);
    log_set_format(format);
    redact_secrets(&cfg);
    log_info(NULL, "pds %s starting: %s (%s), %d worker threads", cfg.version, cfg.public_url,
             cfg.service_did, cfg.worker_threads);
    log_secrets_source(&cfg);
    raise_open_file_limit();
    metrics_register_defaults();
    metrics_set(
        metrics_gauge("pds_process_start_time_seconds", "When this process started (Unix seconds)"),
        (int64_t)time(NULL));
    metrics_set(metrics_gauge("pds_http_worker_threads",
                              "HTTP worker threads, each with one PostgreSQL connection"),
                cfg.worker_threads);

    /* Before any thread exists, so all inherit the mask; children unblock (cluster.c). */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int rc = 1;
    struct cluster cluster;
    memset(&cluster, 0, sizeof cluster);
    struct http_server *http = NULL;
    struct sequencer *sequencer = NULL;
    struct crawlers *crawlers = NULL;
    struct relay_standing *standing = NULL;
    const char *url = cfg.database_url;
    if (!url) {
        if (cluster_start(&cluster, cfg.data_dir, cfg.postgres_bin_dir) != ERR_OK) {
            goto out;
        }
        url = cluster.url;
        log_info(NULL, "using the private PostgreSQL cluster in %s", cluster.pgdata);
    }
    if (prepare_database(url) != ERR_OK) {
        goto out;
    }
    db_thread_set_url(url);
    if (replica_start(url, cfg.database_replica_urls, cfg.database_replica_max_lag_ms) != ERR_OK) {
        log_error(NULL, "configuration: PDS_DATABASE_REPLICA_URLS names more than %d replicas",
                  REPLICA_MAX);
        goto out;
    }
    if (app_init(&cfg, why, sizeof why) != ERR_OK) {
        log_error(NULL, "%s", why);
        goto out;
    }
    if (web_init(&cfg) != ERR_OK) { /* keys of the web pages (CSRF) */
        log_error(NULL, "web pages: no JWT secret to derive their keys from");
        goto out;
    }
    if (oauth_init(&cfg) != ERR_OK) { /* access-token and DPoP nonce keys */
        log_error(NULL, "oauth: PDS_DPOP_SECRET must be 64 hex digits");
        goto out;
    }
    struct lexres_config lexicons = api_lexicon_resolver(&cfg); /* after app_init: its resolver */
    oauth_include_configure(&lexicons);  /* permission sets for include: scopes */
    if (blobsvc_start(&cfg) != ERR_OK) { /* the blob store and its sweeper */
        goto out;
    }
    if (limits_start(&cfg, url, why, sizeof why) != ERR_OK) { /* rate limits, budget, overload */
        log_error(NULL, "configuration: %s", why);
        goto out;
    }
    /* the event stream: number the outbox, follow it, tell relays (never blocks start-up) */
    db_set_commit_hook(sequencer_wake); /* events committed in a transaction: number now */
    if (sequencer_start(url, cfg.repo_backfill_limit_ms, &sequencer) != ERR_OK ||
        crawlers_start(cfg.hostname, cfg.crawlers.items, cfg.crawlers.len, NULL, &crawlers) ||
        sync_subscribe_start(&cfg, url, crawlers_notify, crawlers) != ERR_OK ||
        relay_standing_start(&cfg, url, crawlers, &standing) != ERR_OK) {
        goto out;
    }
    api_routes_install();
    if (http_server_start(&cfg, &http) != ERR_OK) {
        goto out;
    }
    if (migrate_start(&cfg, url) != ERR_OK) { /* account migration jobs (after HTTP: they */
        goto out;                             /* call this server over loopback) */
    }
    log_info(NULL, "ready (public URL %s)", cfg.public_url);
    wait_for_stop(&stop_set);
    rc = 0;
out:
    migrate_stop();            /* jobs give their leases back while HTTP still answers */
    sync_subscribe_shutdown(); /* subscribers closed before the HTTP server stops */
    http_server_stop(http);
    replica_stop();
    relay_standing_stop(standing);
    limits_stop();
    blobsvc_stop();
    sync_subscribe_stop();
    crawlers_stop(crawlers);
    sequencer_stop(sequencer);
    app_clear();
    web_clear();
    oauth_clear();
    cluster_stop(&cluster);
    config_clear(&cfg);
    log_redact_clear();
    if (rc != 0) {
        log_error(NULL, "pds did not start");
    } else {
        log_info(NULL, "stopped");
    }
    return rc;
}
