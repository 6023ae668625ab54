/* migrate.h - account migration into and out of this server (issue 13): the pages
 * /migrate and /migrate/out, their JSON endpoints, the admin API for jobs, and the workers
 * that run the jobs recorded in PostgreSQL (any process of the host may run any job; a job
 * survives closed tabs, restarts and network failures). Started once by `pds serve` after
 * the app and the web layer; thread-safe. */
#ifndef PDS_API_MIGRATE_MIGRATE_H
#define PDS_API_MIGRATE_MIGRATE_H

#include "core/err.h"
#include "http/router.h"

struct config;

/* The pages, the page endpoints and the admin endpoints (routes.c). */
extern const struct route_table api_migrate_routes;

/* Starts PDS_MIGRATION_WORKERS threads, each with its own connection to db_url, that claim
 * and run jobs. Call after app_init; ERR_INTERNAL when a thread cannot start. */
enum err migrate_start(const struct config *cfg, const char *db_url) MUST_CHECK;
/* Stops the workers: each finishes the request it is in, gives its job's lease back (so a
 * restarted process continues at once) and exits. Safe when not started. */
void migrate_stop(void);
/* Wakes an idle worker of this process (a job was created or can go on). */
void migrate_wake(void);

#endif
