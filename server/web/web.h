/* web.h - the web layer behind every page (OAuth sign-in and consent, /account, the
 * migration pages, the admin console): its process-wide keys, set once by web_init before
 * the HTTP server starts and read-only afterwards (thread-safe), and the branding values
 * every page shows. The pieces are in their own headers: html.h (escaping, templates),
 * cookie.h, csrf.h (device cookie and CSRF tokens), page.h (assets, headers, rendering). */
#ifndef PDS_WEB_WEB_H
#define PDS_WEB_WEB_H

#include "core/err.h"

struct config;

#define WEB_KEY_BYTES 32

/* Derives the CSRF key from cfg->jwt_secret (so every process of a host agrees) and keeps
 * cfg for branding. cfg must outlive the web layer. ERR_INVALID without a JWT secret. */
enum err web_init(const struct config *cfg) MUST_CHECK;

/* Wipes the keys. */
void web_clear(void);

/* The key CSRF tokens are made with; all zero before web_init. */
const unsigned char *web_csrf_key(void);

#endif
