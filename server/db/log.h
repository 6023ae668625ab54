/* log.h - the server's log: one line per event on stderr, "<ISO time> <level> <message> (ctx)".
 * Thread-safe: each line is one write(2). The lowest I/O layer, so db, http, api use it alike. */
#ifndef PDS_DB_LOG_H
#define PDS_DB_LOG_H

#include <stdbool.h>

#include "core/err.h"

/* Not LOG_INFO/LOG_DEBUG: those are <syslog.h> macros. */
enum log_level {
    LOG_LEVEL_ERROR, /* the operator must act */
    LOG_LEVEL_WARN,  /* something failed and was recovered from */
    LOG_LEVEL_INFO,  /* lifecycle and one line per request */
    LOG_LEVEL_DEBUG, /* detail; off in production */
};

/* Who a line is about; every field may be NULL. Lives in the request (xrpc_req.log), so
 * handlers pass &rq->log; lifecycle lines pass NULL. Never put secrets here. */
struct log_ctx {
    const char *request_id;
    const char *nsid;   /* or the path of a non-XRPC route */
    const char *did;    /* the authenticated account, once known */
    const char *action; /* a phrase for long phases: "applying writes" */
};

/* Sets the threshold (default info). Call before threads start. */
void log_set_level(enum log_level level);
/* Parses "error", "warn", "info", "debug" (also "fatal" = error, "trace" = debug, as pino
 * names them); false when unknown. */
bool log_parse_level(const char *name, enum log_level *out);
bool log_enabled(enum log_level level);

/* Writes one line if level passes the threshold. Control characters in the message are
 * replaced so wire data cannot forge lines. Lines longer than LOG_LINE_MAX are cut. */
void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
    PRINTF_LIKE(3, 4);

#define LOG_LINE_MAX 4096 /* bytes per line, including the time stamp and context */

#define log_error(ctx, ...) log_write(LOG_LEVEL_ERROR, (ctx), __VA_ARGS__)
#define log_warn(ctx, ...)  log_write(LOG_LEVEL_WARN, (ctx), __VA_ARGS__)
#define log_info(ctx, ...)  log_write(LOG_LEVEL_INFO, (ctx), __VA_ARGS__)
#define log_debug(ctx, ...) log_write(LOG_LEVEL_DEBUG, (ctx), __VA_ARGS__)

#endif
