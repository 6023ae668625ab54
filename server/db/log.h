/* log.h - the server's log: one line per event on stderr, either human-readable,
 * "<ISO time> <level> <message> (ctx)", or one JSON object per line (LOG_FORMAT=json).
 * Registered secrets and anything shaped like a JWT are replaced by "[redacted]" in every
 * line, whatever the caller passed. Thread-safe: each line is one write(2); the format and
 * the secrets are set before threads start. The lowest I/O layer, so db, http, api use it
 * alike. */
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

enum log_format {
    LOG_FORMAT_TEXT, /* "<time> <level> <message> (req=... nsid=...)" */
    LOG_FORMAT_JSON, /* {"time","level","msg","req","nsid","did","action"} per line */
};

#define LOG_REDACT_MAX 16 /* secrets registered with log_redact_add */
#define LOG_REDACTED   "[redacted]"

/* Sets the format (default text). Call before threads start. */
void log_set_format(enum log_format format);
/* "text" or "json"; false when unknown. */
bool log_parse_format(const char *name, enum log_format *out);

/* Registers a secret (copied; shorter than 6 bytes is ignored) never to appear in a line:
 * the admin password, the JWT secret, keys, passwords inside URLs. Call before threads
 * start; at most LOG_REDACT_MAX. log_redact_clear wipes them at exit. */
void log_redact_add(const char *secret);
void log_redact_clear(void);

/* One finished HTTP request: the access-log line. path is without the query (queries may
 * carry codes and tokens). JSON: {"msg":"request","method","path","nsid","did","status",
 * "duration_ms","ip"} plus the request id; text: "GET /path 200 1.2ms ip". */
struct log_request {
    const char *request_id;
    const char *method;
    const char *path;
    const char *nsid; /* NULL outside /xrpc/ */
    const char *did;  /* the authenticated account, or NULL */
    const char *client_ip;
    int status;
    double duration_ms;
    bool cut_short; /* the connection ended before the response was sent */
};
void log_request(const struct log_request *r);

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
