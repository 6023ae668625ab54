/* session.h - which accounts are signed in on this browser: the pages' sign-in sessions,
 * one row per (browser, account) in web_device_account, the browser named by its device
 * cookie (csrf.h; the table keeps only the SHA-256 of the id, so the database signs nobody
 * in). The OAuth authorize page's account chooser, /account and later pages (admin,
 * migration) all ask here. Signing in (checking a password and second factor) is the
 * caller's job; this module records the result. Request-scoped; thread-safe. */
#ifndef PDS_WEB_SESSION_H
#define PDS_WEB_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "http/xrpc.h"

#define WEB_DEVICE_HASH_CHARS 64
#define WEB_SESSIONS_MAX      16 /* accounts one browser may have signed in at once */

struct web_account {
    const char *did;
    const char *handle;       /* NULL if the account has none */
    int64_t authenticated_at; /* last sign-in, Unix seconds */
    bool deactivated;
};

/* The SHA-256 hex of the request's device id; NULL when the browser has none and create
 * is false (with create, one is made and its cookie set). In rq's arena. */
const char *web_device_hash(struct xrpc_req *rq, bool create);

/* The accounts signed in on this browser, last sign-in first (none without a device
 * cookie; taken-down accounts are left out). *out in the arena. */
enum err web_session_list(struct xrpc_req *rq, struct web_account **out, size_t *n) MUST_CHECK;

/* Whether did is signed in on this browser with a sign-in at most max_age_s old (0: any
 * age). Marks the session used. */
enum err web_session_check(struct xrpc_req *rq, const char *did, int64_t max_age_s,
                           bool *ok) MUST_CHECK;

/* Records that did has just signed in on this browser (creating the device cookie if
 * needed), with the browser's User-Agent and address for /account's device list. Past
 * WEB_SESSIONS_MAX accounts the oldest sign-in is dropped. */
enum err web_session_add(struct xrpc_req *rq, const char *did) MUST_CHECK;

/* Signs did out of this browser. */
enum err web_session_remove(struct xrpc_req *rq, const char *did) MUST_CHECK;

#endif
