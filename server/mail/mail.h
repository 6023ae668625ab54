/* mail.h - sending one email over SMTP with libcurl, and composing it (RFC 5322 message,
 * MIME multipart/alternative with a plain-text and an HTML part).
 * Thread-safe: no shared state beyond libcurl's global init (run once); each send owns its
 * handle. mail_send blocks for at most the server's timeout. */
#ifndef PDS_MAIL_MAIL_H
#define PDS_MAIL_MAIL_H

#include <stdint.h>

#include "core/bytes.h"
#include "core/err.h"

#define MAIL_TIMEOUT_MS_DEFAULT 15000        /* whole SMTP conversation */
#define MAIL_MESSAGE_MAX_BYTES  (256u << 10) /* our mails are a few kilobytes */
#define MAIL_ADDRESS_MAX        320          /* RFC 3696: 64 local + @ + 255 domain */
#define MAIL_WHY_MAX            256

/* Where to send. url: smtp://[user:pass@]host[:port] upgrades to TLS with STARTTLS when the
 * server offers it (opportunistic, as the reference's nodemailer does with a smtp:// URL);
 * smtps:// speaks TLS from the first byte. Credentials in the URL are percent-decoded by
 * libcurl. The URL holds a secret: never log it. */
struct mail_server {
    const char *url;
    long timeout_ms; /* <= 0: MAIL_TIMEOUT_MS_DEFAULT */
};

/* One message. from may be "addr@host" or "Display Name <addr@host>"; to is a bare address.
 * Header fields must not hold CR or LF (ERR_INVALID). subject may be UTF-8 (encoded as RFC
 * 2047 words); text and html are UTF-8 bodies (sent base64-encoded, so any line length). */
struct mail_message {
    const char *from;
    const char *to;
    const char *subject;
    const char *text;
    const char *html;
};

/* The bare address of a From/To value: the part inside <...> when present, else the whole
 * value trimmed. ERR_INVALID when it is not local@domain without spaces or controls. */
enum err mail_address(const char *value, char out[MAIL_ADDRESS_MAX]) MUST_CHECK;

/* Appends the whole message (headers and MIME body, CRLF line ends) to out. now_s dates it
 * (Unix seconds); the Message-ID's random part comes from libsodium. Pure otherwise. */
enum err mail_compose(const struct mail_message *m, int64_t now_s, struct buf *out) MUST_CHECK;

/* Composes and sends m. ERR_INVALID for a bad message; ERR_UPSTREAM when the server cannot
 * be reached or refuses (a short reason, without the URL, in why). */
enum err mail_send(const struct mail_server *srv, const struct mail_message *m,
                   char why[MAIL_WHY_MAX]) MUST_CHECK;

#endif
