/* log.c - line-oriented logging to stderr with UTC ISO-8601 time stamps.
 * Each line is formatted into a stack buffer and written with a single write(2). */
#include "db/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_threshold = LOG_LEVEL_INFO;

static const char *const level_names[] = {
    [LOG_LEVEL_ERROR] = "error",
    [LOG_LEVEL_WARN] = "warn",
    [LOG_LEVEL_INFO] = "info",
    [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
    atomic_store(&log_threshold, (int)level);
}

bool log_parse_level(const char *name, enum log_level *out)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {
        {"error", LOG_LEVEL_ERROR},  {"fatal", LOG_LEVEL_ERROR}, {"warn", LOG_LEVEL_WARN},
        {"warning", LOG_LEVEL_WARN}, {"info", LOG_LEVEL_INFO},   {"debug", LOG_LEVEL_DEBUG},
        {"trace", LOG_LEVEL_DEBUG},
    };
    if (!name) {
        return false;
    }
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].level;
            return true;
        }
    }
    return false;
}

bool log_enabled(enum log_level level)
{
    return (int)level <= atomic_load(&log_threshold);
}

/* Appends " key=value" when value is set; values are ours (ids, NSIDs, DIDs), but are still
 * cleaned by the caller's final pass. */
static size_t put_field(char *line, size_t at, size_t cap, const char *key, const char *value)
{
    if (!value || at >= cap) {
        return at;
    }
    int n = snprintf(line + at, cap - at, "%s%s=%s", at ? " " : "", key, value);
    if (n < 0) {
        return at;
    }
    return at + (size_t)n < cap ? at + (size_t)n : cap - 1;
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
    if (!log_enabled(level)) {
        return;
    }
    char line[LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t at = strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    at += (size_t)snprintf(line + at, sizeof line - at, ".%03dZ %s ", (int)(tv.tv_usec / 1000),
                           level_names[level]);
    size_t msg_start = at;

    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line + at, sizeof line - at, fmt, ap);
    va_end(ap);
    if (n > 0) {
        at = at + (size_t)n < sizeof line ? at + (size_t)n : sizeof line - 1;
    }

    if (ctx && (ctx->request_id || ctx->nsid || ctx->did || ctx->action)) {
        char fields[512];
        size_t f = 0;
        f = put_field(fields, f, sizeof fields, "req", ctx->request_id);
        f = put_field(fields, f, sizeof fields, "nsid", ctx->nsid);
        f = put_field(fields, f, sizeof fields, "did", ctx->did);
        f = put_field(fields, f, sizeof fields, "action", ctx->action);
        fields[f] = '\0';
        int m = snprintf(line + at, sizeof line - at, " (%s)", fields);
        if (m > 0) {
            at = at + (size_t)m < sizeof line ? at + (size_t)m : sizeof line - 1;
        }
    }

    /* One event, one line: wire data (handles, paths) must not start a new one. */
    for (size_t i = msg_start; i < at; i++) {
        unsigned char c = (unsigned char)line[i];
        if (c < 0x20 || c == 0x7f) {
            line[i] = '?';
        }
    }
    if (at >= sizeof line - 1) {
        at = sizeof line - 2;
    }
    line[at++] = '\n';

    /* stderr may be a pipe shared with children (pg_ctl): a single write keeps lines whole. */
    ssize_t w = write(STDERR_FILENO, line, at);
    (void)w;
}
