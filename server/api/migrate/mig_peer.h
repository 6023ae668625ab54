/* mig_peer.h - one of the two hosts of a migration as an XRPC endpoint: this server (called
 * over loopback with a short-lived access token the worker signs for the account) or the
 * other host (with the session the user opened there, refreshed when it expires). A call
 * is paced (mig_pace.h), retried with back-off on failures that may pass (no answer, 5xx,
 * 429), and its refusal is given back with the host's error name and message.
 * One thread per peer at a time. */
#ifndef PDS_API_MIGRATE_MIG_PEER_H
#define PDS_API_MIGRATE_MIG_PEER_H

#include <stdatomic.h>
#include <stdbool.h>

#include <jansson.h>

#include "api/migrate/mig_http.h"
#include "api/migrate/mig_job.h"
#include "api/migrate/mig_pace.h"

#define MIG_URL_MAX 512

struct mig_peer {
    char url[MIG_URL_MAX];   /* where calls go (this server: http://127.0.0.1:<port>) */
    bool self;               /* this server */
    const char *did;         /* the account: this server's token is signed for it */
    struct mig_secrets *sec; /* the other host: the session (remote_access/refresh) */
    bool *sec_dirty;         /* set when a refresh replaced the session */
    bool ssrf_protect;       /* the other host: https only, no private addresses */
    long timeout_ms;         /* one JSON call */
    int tries;               /* attempts per call for failures that may pass */
    const atomic_bool *stop; /* give up waiting when set (shutdown, lost lease) */
};

/* How a call ended, beyond ERR_OK. */
struct mig_fail {
    long status;                        /* HTTP status, 0 when no answer came */
    char error[MIG_HTTP_ERROR_MAX];     /* the host's error name */
    char message[MIG_HTTP_MESSAGE_MAX]; /* and message */
    char why[200];                      /* for the log: transport reason */
};

/* One call. body: a JSON object to POST (NULL: GET, unless raw is set); raw: a non-JSON
 * body (CAR, blob bytes) given through mig_http_req fields. */
struct mig_call {
    const char *method; /* "GET" or "POST" */
    const char *nsid;
    const char *query;  /* "did=...&cid=..." already escaped, or NULL */
    json_t *body;       /* borrowed */
    const char *bearer; /* overrides the peer's own token (service auth), or NULL */
    bool no_auth;       /* send no Authorization at all */
    /* the body carries an emailed code: 400 InvalidToken / ExpiredToken are about that code
     * (the same names as for a session), so only 401 means the session */
    bool emailed_code;
    /* raw transfers */
    const char *content_type;
    struct bytes raw;
    int raw_fd;
    uint64_t raw_len;
    uint64_t max_bytes;
    int out_fd;
    bool hash;
    long timeout_ms; /* overrides the peer's */
    enum mig_pace_kind pace;
    void (*on_bytes)(void *ctx, uint64_t received);
    void *ctx;
};

void mig_call_init(struct mig_call *c, const char *method, const char *nsid);

/* Makes the call. ERR_OK: a 2xx answer, *out (may be NULL) its JSON (new reference; an
 * empty object for an empty or non-JSON body), resp (may be NULL) the raw response (caller
 * clears; for downloads). ERR_INVALID: the host refused (4xx other than an expired
 * session), f says how. ERR_AUTH: the session at the other host is no longer valid and
 * could not be refreshed (the user must sign in again). ERR_UPSTREAM: no good answer after
 * every try (f->why). ERR_TOO_LARGE: the answer passed max_bytes. ERR_INTERRUPTED-like
 * stops report ERR_UPSTREAM with why "stopped". */
enum err mig_peer_call(struct mig_peer *p, const struct mig_call *c, json_t **out,
                       struct mig_http_resp *resp, struct mig_fail *f) MUST_CHECK;

/* Shorthands for JSON calls; mig_peer_post with body NULL sends no body (procedures
 * without input). */
enum err mig_peer_get(struct mig_peer *p, const char *nsid, const char *query, json_t **out,
                      struct mig_fail *f) MUST_CHECK;
enum err mig_peer_post(struct mig_peer *p, const char *nsid, json_t *body, json_t **out,
                       struct mig_fail *f) MUST_CHECK;

/* Whether the refusal in f carries this error name. */
bool mig_fail_is(const struct mig_fail *f, const char *error);

#endif
