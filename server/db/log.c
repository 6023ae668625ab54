/* log.c - line-oriented logging to stderr with UTC ISO-8601 time stamps, as text or JSON.
 * Each line is formatted into stack buffers and written with a single write(2). The message
 * is cleaned before it is placed: secrets and JWTs redacted, control characters replaced
 * (text) or escaped (JSON), so wire data can neither forge a line nor leak a token. */
#include "db/log.h"

#include "core/bytes.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_threshold = LOG_LEVEL_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static char *secrets[LOG_REDACT_MAX]; /* set before threads start, read-only after */
static size_t n_secrets;

#define MSG_MAX      (LOG_LINE_MAX - 512) /* leaves room for the time stamp and context */
#define REDACT_MIN   6                    /* shorter "secrets" would redact ordinary words */
#define JWT_PART_MIN 4                    /* base64url characters in each part of a JWT */

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

void log_set_format(enum log_format format)
{
    log_format = format;
}

bool log_parse_format(const char *name, enum log_format *out)
{
    if (name && strcasecmp(name, "text") == 0) {
        *out = LOG_FORMAT_TEXT;
        return true;
    }
    if (name && strcasecmp(name, "json") == 0) {
        *out = LOG_FORMAT_JSON;
        return true;
    }
    return false;
}

void log_redact_add(const char *secret)
{
    if (!secret || strlen(secret) < REDACT_MIN || n_secrets >= LOG_REDACT_MAX) {
        return;
    }
    secrets[n_secrets++] = xstrndup(secret, strlen(secret));
}

void log_redact_clear(void)
{
    for (size_t i = 0; i < n_secrets; i++) {
        explicit_bzero(secrets[i], strlen(secrets[i]));
        free(secrets[i]);
        secrets[i] = NULL;
    }
    n_secrets = 0;
}

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Length of a JWT (header.payload.signature, the header starting "eyJ", which is how
 * base64url of '{"' begins) at s, or 0. */
static size_t jwt_at(const char *s)
{
    if (strncmp(s, "eyJ", 3) != 0) {
        return 0;
    }
    size_t i = 0;
    for (int part = 0; part < 3; part++) {
        size_t start = i;
        while (b64url_char(s[i])) {
            i++;
        }
        if (i - start < JWT_PART_MIN) {
            return 0;
        }
        if (part < 2) {
            if (s[i] != '.') {
                return 0;
            }
            i++;
        }
    }
    return i;
}

/* Copies msg into out (cap bytes) with registered secrets and JWTs replaced. */
static void redact(const char *msg, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; msg[i] && o + 1 < cap;) {
        size_t skip = jwt_at(msg + i);
        for (size_t k = 0; k < n_secrets && !skip; k++) {
            size_t n = strlen(secrets[k]);
            if (strncmp(msg + i, secrets[k], n) == 0) {
                skip = n;
            }
        }
        if (skip) {
            size_t r = strlen(LOG_REDACTED);
            if (o + r + 1 >= cap) {
                break;
            }
            memcpy(out + o, LOG_REDACTED, r);
            o += r;
            i += skip;
        } else {
            out[o++] = msg[i++];
        }
    }
    out[o] = '\0';
}

/* A bounded line under construction. */
struct line {
    char b[LOG_LINE_MAX];
    size_t at;
};

static void put(struct line *l, const char *s, size_t n)
{
    size_t room = sizeof l->b - 2 - l->at; /* newline and NUL */
    if (n > room) {
        n = room;
    }
    memcpy(l->b + l->at, s, n);
    l->at += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void putf(struct line *l, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void putf(struct line *l, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) {
        put(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
    }
}

/* Text: control characters become '?', so a value cannot start a new line. */
static void put_text(struct line *l, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char ch = c < 0x20 || c == 0x7f ? '?' : (char)c;
        put(l, &ch, 1);
    }
}

/* JSON string contents (RFC 8259): quote, backslash and control characters escaped. Bytes
 * that are not valid UTF-8 are passed through; readers replace them. */
static void put_json(struct line *l, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(l, e, 2);
        } else if (c < 0x20 || c == 0x7f) {
            putf(l, "\\u%04x", c);
        } else {
            put(l, (const char *)&c, 1);
        }
    }
}

static void put_json_field(struct line *l, const char *key, const char *value)
{
    if (!value) {
        return;
    }
    char clean[MSG_MAX];
    redact(value, clean, sizeof clean);
    putf(l, ",\"%s\":\"", key);
    put_json(l, clean);
    puts_(l, "\"");
}

static void start_line(struct line *l, enum log_level level)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03dZ", (int)(tv.tv_usec / 1000));
    l->at = 0;
    if (log_format == LOG_FORMAT_JSON) {
        putf(l, "{\"time\":\"%s\",\"level\":\"%s\"", ts, level_names[level]);
    } else {
        putf(l, "%s %s ", ts, level_names[level]);
    }
}

static void end_line(struct line *l)
{
    if (log_format == LOG_FORMAT_JSON) {
        if (l->at >= sizeof l->b - 3) {
            l->at = sizeof l->b - 3; /* cut: keep it an object */
        }
        l->b[l->at++] = '}';
    }
    l->b[l->at++] = '\n';
    /* stderr may be a pipe shared with children (pg_ctl): a single write keeps lines whole */
    ssize_t w = write(STDERR_FILENO, l->b, l->at);
    (void)w;
}

static void put_text_ctx(struct line *l, const struct log_ctx *ctx)
{
    if (!ctx || !(ctx->request_id || ctx->nsid || ctx->did || ctx->action)) {
        return;
    }
    const char *keys[] = {"req", "nsid", "did", "action"};
    const char *vals[] = {ctx->request_id, ctx->nsid, ctx->did, ctx->action};
    bool first = true;
    puts_(l, " (");
    for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
        if (vals[i]) {
            char clean[MSG_MAX];
            redact(vals[i], clean, sizeof clean);
            putf(l, "%s%s=", first ? "" : " ", keys[i]);
            put_text(l, clean);
            first = false;
        }
    }
    puts_(l, ")");
}

void log_write(enum log_level level, const struct log_ctx *ctx, const char *fmt, ...)
{
    if (!log_enabled(level)) {
        return;
    }
    char raw[MSG_MAX], msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    redact(raw, msg, sizeof msg);
    struct line l;
    start_line(&l, level);
    if (log_format == LOG_FORMAT_JSON) {
        puts_(&l, ",\"msg\":\"");
        put_json(&l, msg);
        puts_(&l, "\"");
        if (ctx) {
            put_json_field(&l, "req", ctx->request_id);
            put_json_field(&l, "nsid", ctx->nsid);
            put_json_field(&l, "did", ctx->did);
            put_json_field(&l, "action", ctx->action);
        }
    } else {
        put_text(&l, msg);
        put_text_ctx(&l, ctx);
    }
    end_line(&l);
}

void log_request(const struct log_request *r)
{
    if (!log_enabled(LOG_LEVEL_INFO)) {
        return;
    }
    struct line l;
    start_line(&l, LOG_LEVEL_INFO);
    if (log_format == LOG_FORMAT_JSON) {
        puts_(&l, ",\"msg\":\"request\"");
        put_json_field(&l, "req", r->request_id);
        put_json_field(&l, "method", r->method);
        put_json_field(&l, "path", r->path);
        put_json_field(&l, "nsid", r->nsid);
        put_json_field(&l, "did", r->did);
        putf(&l, ",\"status\":%d,\"duration_ms\":%.1f", r->status, r->duration_ms);
        put_json_field(&l, "ip", r->client_ip);
        if (r->cut_short) {
            puts_(&l, ",\"cut_short\":true");
        }
    } else {
        char clean[MSG_MAX];
        redact(r->path ? r->path : "?", clean, sizeof clean);
        put_text(&l, r->method ? r->method : "?");
        puts_(&l, " ");
        put_text(&l, clean);
        putf(&l, " %d %.1fms ", r->status, r->duration_ms);
        put_text(&l, r->client_ip ? r->client_ip : "-");
        if (r->cut_short) {
            puts_(&l, " (cut short)");
        }
        struct log_ctx ctx = {.request_id = r->request_id, .did = r->did};
        put_text_ctx(&l, &ctx);
    }
    end_line(&l);
}
