/* mail.c - composing a MIME message and sending it with libcurl's SMTP client.
 * Bodies are base64 so that neither long lines nor 8-bit text depend on the relay. */
#include "mail/mail.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "core/base.h"
#include "db/metrics.h"

#define MAIL_LINE_CHARS   76 /* RFC 2045: encoded lines are at most 76 characters */
#define MAIL_RANDOM_BYTES 12

static pthread_once_t mail_once = PTHREAD_ONCE_INIT;
static CURLcode mail_global_rc;

static void mail_global_init(void)
{
    mail_global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

enum err mail_address(const char *value, char out[MAIL_ADDRESS_MAX])
{
    const char *start = value, *end = value + strlen(value);
    const char *lt = strchr(value, '<');
    if (lt) {
        const char *gt = strchr(lt, '>');
        if (!gt) {
            return ERR_INVALID;
        }
        start = lt + 1;
        end = gt;
    }
    while (start < end && (*start == ' ' || *start == '\t')) {
        start++;
    }
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
        end--;
    }
    size_t n = (size_t)(end - start);
    if (n == 0 || n >= MAIL_ADDRESS_MAX) {
        return ERR_INVALID;
    }
    const char *at = NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)start[i];
        if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';') {
            return ERR_INVALID;
        }
        if (c == '@') {
            at = start + i;
        }
    }
    if (!at || at == start || at == end - 1) {
        return ERR_INVALID;
    }
    memcpy(out, start, n);
    out[n] = '\0';
    return ERR_OK;
}

static bool is_ascii_printable(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < ' ' || *p >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* Subject: as is when plain ASCII, else RFC 2047 encoded words of whole UTF-8 characters,
 * each word short enough for a 76-character line. */
static enum err put_subject(struct buf *out, const char *subject)
{
    enum err e = buf_appendf(out, "Subject:");
    if (e || is_ascii_printable(subject)) {
        return e ? e : buf_appendf(out, " %s\r\n", subject);
    }
    const size_t chunk_max = 45; /* bytes per word: 60 base64 chars + 12 of framing */
    size_t n = strlen(subject), i = 0;
    struct buf b64;
    buf_init(&b64, MAIL_MESSAGE_MAX_BYTES);
    while (!e && i < n) {
        size_t take = n - i < chunk_max ? n - i : chunk_max;
        while (i + take < n && ((unsigned char)subject[i + take] & 0xC0) == 0x80) {
            take--; /* never split a UTF-8 sequence */
        }
        buf_reset(&b64);
        e = base64_encode(bytes_of(subject + i, take), true, &b64);
        if (!e) {
            e = buf_appendf(out, "%s=?UTF-8?B?%s?=", i ? "\r\n " : " ", (const char *)b64.ptr);
        }
        i += take;
    }
    buf_clear(&b64);
    return e ? e : buf_appendf(out, "\r\n");
}

/* One MIME part: headers, then the body in base64 lines. */
static enum err put_part(struct buf *out, const char *boundary, const char *type, const char *body)
{
    enum err e = buf_appendf(out,
                             "--%s\r\nContent-Type: %s; charset=utf-8\r\n"
                             "Content-Transfer-Encoding: base64\r\n\r\n",
                             boundary, type);
    struct buf b64;
    buf_init(&b64, MAIL_MESSAGE_MAX_BYTES);
    if (!e) {
        e = base64_encode(bytes_str(body), true, &b64);
    }
    for (size_t i = 0; !e && i < b64.len; i += MAIL_LINE_CHARS) {
        size_t take = b64.len - i < MAIL_LINE_CHARS ? b64.len - i : MAIL_LINE_CHARS;
        e = buf_append(out, b64.ptr + i, take);
        if (!e) {
            e = buf_append(out, "\r\n", 2);
        }
    }
    buf_clear(&b64);
    return e;
}

enum err mail_compose(const struct mail_message *m, int64_t now_s, struct buf *out)
{
    char from[MAIL_ADDRESS_MAX], to[MAIL_ADDRESS_MAX];
    if (!m->from || !m->to || !m->subject || !m->text || !m->html || has_crlf(m->from) ||
        has_crlf(m->to) || has_crlf(m->subject) || mail_address(m->from, from) ||
        mail_address(m->to, to) || !is_ascii_printable(m->from)) {
        return ERR_INVALID;
    }
    uint8_t rnd[MAIL_RANDOM_BYTES];
    char hex[2 * MAIL_RANDOM_BYTES + 1];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    char boundary[64];
    snprintf(boundary, sizeof(boundary), "=_pds_%s", hex);
    time_t t = (time_t)now_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    /* RFC 5322 date-time; English names, not the locale's */
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    const char *domain = strchr(from, '@') + 1;
    enum err e = buf_appendf(out,
                             "Date: %s\r\nFrom: %s\r\nTo: %s\r\nMessage-ID: <%s@%s>\r\n"
                             "MIME-Version: 1.0\r\n",
                             date, m->from, to, hex, domain);
    if (!e) {
        e = put_subject(out, m->subject);
    }
    if (!e) {
        e = buf_appendf(out, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n",
                        boundary);
    }
    if (!e) {
        e = put_part(out, boundary, "text/plain", m->text);
    }
    if (!e) {
        e = put_part(out, boundary, "text/html", m->html);
    }
    if (!e) {
        e = buf_appendf(out, "--%s--\r\n", boundary);
    }
    return e;
}

struct upload {
    const uint8_t *data;
    size_t len, pos;
};

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t room = size * n, left = u->len - u->pos;
    size_t take = left < room ? left : room;
    memcpy(dst, u->data + u->pos, take);
    u->pos += take;
    return take;
}

enum err mail_send(const struct mail_server *srv, const struct mail_message *m,
                   char why[MAIL_WHY_MAX])
{
    why[0] = '\0';
    char from[MAIL_ADDRESS_MAX], to[MAIL_ADDRESS_MAX];
    if (!srv->url || mail_address(m->from, from) || mail_address(m->to, to)) {
        snprintf(why, MAIL_WHY_MAX, "bad sender or recipient address");
        return ERR_INVALID;
    }
    struct buf msg;
    buf_init(&msg, MAIL_MESSAGE_MAX_BYTES);
    enum err e = mail_compose(m, (int64_t)time(NULL), &msg);
    if (e) {
        buf_clear(&msg);
        snprintf(why, MAIL_WHY_MAX, "the message could not be composed");
        return e == ERR_TOO_LARGE ? ERR_TOO_LARGE : ERR_INVALID;
    }
    pthread_once(&mail_once, mail_global_init);
    CURL *c = mail_global_rc == CURLE_OK ? curl_easy_init() : NULL;
    if (!c) {
        buf_clear(&msg);
        return ERR_INTERNAL;
    }
    char mail_from[MAIL_ADDRESS_MAX + 2], rcpt[MAIL_ADDRESS_MAX + 2];
    snprintf(mail_from, sizeof(mail_from), "<%s>", from);
    snprintf(rcpt, sizeof(rcpt), "<%s>", to);
    struct curl_slist *rcpts = curl_slist_append(NULL, rcpt);
    struct upload up = {msg.ptr, msg.len, 0};
    long timeout = srv->timeout_ms > 0 ? srv->timeout_ms : MAIL_TIMEOUT_MS_DEFAULT;
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, srv->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* no SIGALRM: we are multi-threaded */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    /* smtp://: STARTTLS when offered; smtps:// is TLS throughout anyway */
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &up);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CURLcode rc = curl_easy_perform(c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_outbound("smtp", rc == CURLE_OK ? "ok" : "error",
                     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (rc != CURLE_OK) {
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        /* curl's message names hosts and codes, never the credentials */
        snprintf(why, MAIL_WHY_MAX, "%s (SMTP %ld)", *errbuf ? errbuf : curl_easy_strerror(rc),
                 code);
        e = ERR_UPSTREAM;
    }
    curl_slist_free_all(rcpts);
    curl_easy_cleanup(c);
    buf_clear(&msg);
    return e;
}
