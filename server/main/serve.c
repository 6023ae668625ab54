/* serve.c - `pds serve`: load the configuration, start the private PostgreSQL cluster when no
 * database URL is given, migrate, serve HTTP until SIGINT/SIGTERM, then stop in reverse. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/common/app.h"
#include "api/routes.h"
#include "api/sync/crawlers.h"
#include "api/sync/relay_standing.h"
#include "api/sync/subscribe.h"
#include "blob/blobsvc.h"
#include "db/cluster.h"
#include "db/db.h"
#include "db/log.h"
#include "db/migrate.h"
#include "db/sequencer.h"
#include "http/limits.h"
#include "http/server.h"
#include "web/web.h"
#include "main/commands.h"
#include "config/config.h"

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

/* Blocks until SIGINT or SIGTERM (blocked in every thread, so only sigwait sees them). */
static void wait_for_stop(const sigset_t *set)
{
    int sig = 0;
    while (sigwait(set, &sig) != 0) {
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
    log_info(NULL, "pds %s starting: %s (%s), %d worker threads", cfg.version, cfg.public_url,
             cfg.service_did, cfg.worker_threads);
    log_secrets_source(&cfg);

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
    if (app_init(&cfg, why, sizeof why) != ERR_OK) {
        log_error(NULL, "%s", why);
        goto out;
    }
    if (web_init(&cfg) != ERR_OK) { /* keys of the web pages (CSRF) */
        log_error(NULL, "web pages: no JWT secret to derive their keys from");
        goto out;
    }
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
    log_info(NULL, "listening on http://0.0.0.0:%d (public URL %s)", cfg.port, cfg.public_url);
    wait_for_stop(&stop_set);
    rc = 0;
out:
    sync_subscribe_shutdown(); /* subscribers closed before the HTTP server stops */
    http_server_stop(http);
    relay_standing_stop(standing);
    limits_stop();
    blobsvc_stop();
    sync_subscribe_stop();
    crawlers_stop(crawlers);
    sequencer_stop(sequencer);
    app_clear();
    web_clear();
    cluster_stop(&cluster);
    config_clear(&cfg);
    if (rc != 0) {
        log_error(NULL, "pds did not start");
    } else {
        log_info(NULL, "stopped");
    }
    return rc;
}
