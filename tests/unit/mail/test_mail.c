/* test_mail.c - mail composition: addresses, header injection refused, MIME structure,
 * base64 bodies that decode to the input, RFC 2047 subjects that never split a character. */
#include "mail/mail.h"

#include "core/base.h"
#include "unit/test.h"

static char *compose(const struct mail_message *m, enum err *e)
{
    struct buf out;
    buf_init(&out, MAIL_MESSAGE_MAX_BYTES);
    *e = mail_compose(m, 1795513200, &out); /* 2026-11-24T08:20:00Z, a Tuesday */
    size_t n;
    return *e ? (buf_clear(&out), NULL) : (char *)buf_take(&out, &n);
}

/* The decoded body of the part with this Content-Type, or NULL. */
static char *part(const char *msg, const char *type)
{
    char hdr[128];
    snprintf(hdr, sizeof(hdr), "Content-Type: %s; charset=utf-8\r\n", type);
    const char *p = strstr(msg, hdr);
    if (!p || !(p = strstr(p, "\r\n\r\n"))) {
        return NULL;
    }
    p += 4;
    const char *end = strstr(p, "\r\n--");
    struct buf b64, dec;
    buf_init(&b64, MAIL_MESSAGE_MAX_BYTES);
    buf_init(&dec, MAIL_MESSAGE_MAX_BYTES);
    for (const char *c = p; c < end; c++) {
        if (*c != '\r' && *c != '\n') {
            (void)!buf_append(&b64, c, 1);
        }
    }
    size_t n;
    char *out = NULL;
    if (base64_decode(buf_bytes(&b64), &dec) == ERR_OK && buf_append(&dec, "", 1) == ERR_OK) {
        out = (char *)buf_take(&dec, &n);
    }
    buf_clear(&b64);
    buf_clear(&dec);
    return out;
}

static void test_mail_address_takes_the_angle_part(void)
{
    char out[MAIL_ADDRESS_MAX];
    CHECK(mail_address("PDS <noreply@example.com>", out) == ERR_OK);
    CHECK_STR(out, "noreply@example.com");
    CHECK(mail_address("  a@b.example  ", out) == ERR_OK);
    CHECK_STR(out, "a@b.example");
    CHECK(mail_address("no-at-sign", out) == ERR_INVALID);
    CHECK(mail_address("@example.com", out) == ERR_INVALID);
    CHECK(mail_address("a@", out) == ERR_INVALID);
    CHECK(mail_address("a b@example.com", out) == ERR_INVALID);
    CHECK(mail_address("Name <a@example.com", out) == ERR_INVALID);
    CHECK(mail_address("a@example.com,b@example.com", out) == ERR_INVALID);
}

static void test_mail_compose_refuses_header_injection(void)
{
    enum err e;
    struct mail_message m = {"noreply@example.com", "a@example.com", "Hi\r\nBcc: x@evil.com",
                             "text", "<p>html</p>"};
    CHECK(compose(&m, &e) == NULL && e == ERR_INVALID);
    m.subject = "Hi";
    m.to = "a@example.com\nBcc: x@evil.com";
    CHECK(compose(&m, &e) == NULL && e == ERR_INVALID);
    m.to = "a@example.com";
    m.from = "Evil\n <noreply@example.com>";
    CHECK(compose(&m, &e) == NULL && e == ERR_INVALID);
    m.from = "noreply@example.com";
    m.html = NULL;
    CHECK(compose(&m, &e) == NULL && e == ERR_INVALID);
}

static void test_mail_compose_builds_multipart_alternative(void)
{
    enum err e;
    const char *text = "Hello @alice.test,\n\nYour code:\n\n    ABCDE-FGH23\n";
    const char *html = "<p>Your code: <strong>ABCDE-FGH23</strong></p>";
    struct mail_message m = {"PDS <noreply@pds.example.com>", "alice@example.com", "Your code",
                             text, html};
    char *msg = compose(&m, &e);
    CHECK(msg != NULL);
    if (!msg) {
        return;
    }
    CHECK(strncmp(msg, "Date: Tue, 24 Nov 2026 09:40:00 +0000\r\n", 39) == 0);
    CHECK(strstr(msg, "\r\nFrom: PDS <noreply@pds.example.com>\r\n") != NULL);
    CHECK(strstr(msg, "\r\nTo: alice@example.com\r\n") != NULL);
    CHECK(strstr(msg, "\r\nSubject: Your code\r\n") != NULL);
    CHECK(strstr(msg, "\r\nMIME-Version: 1.0\r\n") != NULL);
    CHECK(strstr(msg, "@pds.example.com>\r\n") != NULL); /* Message-ID in the sender's domain */
    CHECK(strstr(msg, "Content-Type: multipart/alternative; boundary=\"=_pds_") != NULL);
    char *t = part(msg, "text/plain"), *h = part(msg, "text/html");
    CHECK_STR(t, text);
    CHECK_STR(h, html);
    /* every line is CRLF-terminated and short */
    for (const char *p = msg, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        CHECK(nl > msg && nl[-1] == '\r');
        CHECK(nl - p - 1 <= 78); /* RFC 5322: 78 characters before the CRLF */
    }
    free(t);
    free(h);
    free(msg);
}

static void test_mail_compose_encodes_utf8_subjects_whole(void)
{
    enum err e;
    /* 30 three-byte characters: more than one encoded word */
    char subject[128];
    for (int i = 0; i < 30; i++) {
        memcpy(subject + 3 * i, "\xe2\x82\xac", 3); /* U+20AC */
    }
    subject[90] = '\0';
    struct mail_message m = {"noreply@example.com", "a@example.com", subject, "t", "h"};
    char *msg = compose(&m, &e);
    CHECK(msg != NULL);
    if (!msg) {
        return;
    }
    const char *s = strstr(msg, "\r\nSubject: =?UTF-8?B?");
    CHECK(s != NULL);
    /* decode every word and join: the subject comes back, each word whole characters */
    struct buf all;
    buf_init(&all, 1024);
    int words = 0;
    for (const char *w = s;
         (w = strstr(w, "=?UTF-8?B?")) != NULL && w < strstr(s, "\r\nContent-Type");) {
        w += 10;
        const char *end = strstr(w, "?=");
        struct buf dec;
        buf_init(&dec, 256);
        CHECK(base64_decode(bytes_of(w, (size_t)(end - w)), &dec) == ERR_OK);
        CHECK(dec.len % 3 == 0);
        CHECK(buf_append(&all, dec.ptr, dec.len) == ERR_OK);
        buf_clear(&dec);
        words++;
        w = end;
    }
    CHECK(words >= 2);
    CHECK(all.len == strlen(subject) && memcmp(all.ptr, subject, all.len) == 0);
    buf_clear(&all);
    free(msg);
}

int main(void)
{
    RUN(test_mail_address_takes_the_angle_part);
    RUN(test_mail_compose_refuses_header_injection);
    RUN(test_mail_compose_builds_multipart_alternative);
    RUN(test_mail_compose_encodes_utf8_subjects_whole);
    return test_report();
}
