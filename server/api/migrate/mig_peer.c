/* mig_peer.c - XRPC calls to the two hosts of a migration (mig_peer.h). */
#include "api/migrate/mig_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api/common/auth.h"
#include "db/log.h"

#define BACKOFF_FIRST_MS 500  /* the first wait after a failure that may pass */
#define BACKOFF_MAX_MS   8000 /* waits double up to this */
#define JITTER_MS        250

void mig_call_init(struct mig_call *c, const char *method, const char *nsid)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    c->nsid = nsid;
    c->raw_fd = -1;
    c->out_fd = -1;
    c->pace = MIG_PACE_CALL;
}

bool mig_fail_is(const struct mig_fail *f, const char *error)
{
    return f && strcmp(f->error, error) == 0;
}

/* A failure worth trying again: no answer, the host overloaded or failing. */
static bool transient(enum err e, long status)
{
    return e == ERR_UPSTREAM || status == 429 || (status >= 500 && status != 501);
}

/* Replaces the other host's session with refreshSession; false when it cannot be. */
static bool refresh_session(struct mig_peer *p)
{
    if (!p->sec || !p->sec->remote_refresh) {
        return false;
    }
    char url[MIG_URL_MAX + 64];
    snprintf(url, sizeof url, "%s/xrpc/com.atproto.server.refreshSession", p->url);
    struct mig_http_req rq;
    mig_http_req_init(&rq, "POST", url);
    rq.bearer = p->sec->remote_refresh;
    rq.timeout_ms = p->timeout_ms;
    rq.ssrf_protect = p->ssrf_protect;
    struct mig_http_resp r;
    mig_http_resp_init(&r);
    bool ok = false;
    if (mig_pace_wait(p->url, MIG_PACE_CALL, p->stop) && mig_http_do(&rq, &r) == ERR_OK &&
        r.status == 200) {
        json_t *j = json_loadb((const char *)r.body.ptr, r.body.len, 0, NULL);
        const char *a = json_string_value(json_object_get(j, "accessJwt"));
        const char *f = json_string_value(json_object_get(j, "refreshJwt"));
        if (a && f) {
            mig_secret_set(&p->sec->remote_access, a);
            mig_secret_set(&p->sec->remote_refresh, f);
            if (p->sec_dirty) {
                *p->sec_dirty = true;
            }
            ok = true;
        }
        json_decref(j);
    }
    sodium_memzero(r.body.ptr, r.body.cap);
    mig_http_resp_clear(&r);
    return ok;
}

/* The bearer for a call to this peer: malloc'd (caller wipes and frees), or NULL. */
static char *bearer_for(struct mig_peer *p, const struct mig_call *c)
{
    if (c->no_auth) {
        return NULL;
    }
    if (c->bearer) {
        return xstrndup(c->bearer, strlen(c->bearer));
    }
    if (p->self) {
        char *access = NULL, *refresh = NULL;
        /* an access token of our own for the account, never stored (no refresh row) */
        if (auth_sign_session(p->did, AUTH_SCOPE_ACCESS, "migration", (int64_t)time(NULL), &access,
                              &refresh) != ERR_OK) {
            return NULL;
        }
        free(refresh);
        return access;
    }
    const char *a = p->sec ? p->sec->remote_access : NULL;
    return a ? xstrndup(a, strlen(a)) : NULL;
}

static void wipe(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

/* One attempt. */
static enum err attempt(struct mig_peer *p, const struct mig_call *c, const char *bearer,
                        struct mig_http_resp *r)
{
    char *url = c->query ? xprintf("%s/xrpc/%s?%s", p->url, c->nsid, c->query)
                         : xprintf("%s/xrpc/%s", p->url, c->nsid);
    struct mig_http_req rq;
    mig_http_req_init(&rq, c->method, url);
    rq.bearer = bearer;
    rq.timeout_ms = c->timeout_ms ? c->timeout_ms : p->timeout_ms;
    rq.ssrf_protect = !p->self && p->ssrf_protect;
    rq.to_self = p->self;
    rq.max_bytes = c->max_bytes;
    rq.out_fd = c->out_fd;
    rq.hash = c->hash;
    rq.on_bytes = c->on_bytes;
    rq.ctx = c->ctx;
    char *json_text = NULL;
    if (c->body) {
        json_text = json_dumps(c->body, JSON_COMPACT);
        rq.content_type = "application/json";
        rq.body = bytes_str(json_text ? json_text : "{}");
    } else if (c->content_type) {
        rq.content_type = c->content_type;
        rq.body = c->raw;
        rq.body_fd = c->raw_fd;
        rq.body_len = c->raw_len;
    }
    if (c->out_fd >= 0) {
        /* a retry starts the file over */
        if (ftruncate(c->out_fd, 0) != 0) {
            free(url);
            free(json_text);
            return ERR_UPSTREAM;
        }
        lseek(c->out_fd, 0, SEEK_SET);
    }
    enum err e = mig_http_do(&rq, r);
    if (json_text) {
        sodium_memzero(json_text, strlen(json_text)); /* may hold a password or a token */
        free(json_text);
    }
    free(url);
    return e;
}

static bool expired_session(const struct mig_call *c, const struct mig_http_resp *r)
{
    if (r->status == 401) {
        return true;
    }
    return !c->emailed_code && r->status == 400 &&
           (strcmp(r->error, "ExpiredToken") == 0 || strcmp(r->error, "InvalidToken") == 0);
}

enum err mig_peer_call(struct mig_peer *p, const struct mig_call *c, json_t **out,
                       struct mig_http_resp *resp, struct mig_fail *f)
{
    memset(f, 0, sizeof *f);
    if (out) {
        *out = NULL;
    }
    struct mig_http_resp local;
    struct mig_http_resp *r = resp ? resp : &local;
    int tries = p->tries > 0 ? p->tries : 1;
    bool refreshed = false;
    int64_t backoff = BACKOFF_FIRST_MS;
    enum err e = ERR_UPSTREAM;
    for (int i = 0; i < tries; i++) {
        if (!p->self && !mig_pace_wait(p->url, c->pace, p->stop)) {
            snprintf(f->why, sizeof f->why, "stopped");
            return ERR_UPSTREAM;
        }
        mig_http_resp_init(r);
        char *bearer = bearer_for(p, c);
        e = attempt(p, c, bearer, r);
        wipe(bearer);
        f->status = r->status;
        snprintf(f->error, sizeof f->error, "%s", r->error);
        snprintf(f->message, sizeof f->message, "%s", r->message);
        snprintf(f->why, sizeof f->why, "%s", r->why);
        if (e == ERR_OK && r->status >= 200 && r->status < 300) {
            break;
        }
        if (e == ERR_TOO_LARGE) {
            break;
        }
        if (e == ERR_OK && !p->self && !c->bearer && !c->no_auth && expired_session(c, r)) {
            if (!refreshed && refresh_session(p)) {
                refreshed = true;
                i--; /* a refreshed session is not a failed try */
                mig_http_resp_clear(r);
                continue;
            }
            e = ERR_AUTH;
            break;
        }
        if (!transient(e, r->status)) {
            e = ERR_INVALID;
            break;
        }
        if (e == ERR_OK) {
            snprintf(f->why, sizeof f->why, "%s answered %ld %s", c->nsid, r->status, r->error);
            e = ERR_UPSTREAM;
        }
        if (i + 1 < tries) {
            mig_http_resp_clear(r);
            int64_t wait = backoff + (int64_t)randombytes_uniform(JITTER_MS);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            if (!mig_sleep_ms(wait, p->stop)) {
                snprintf(f->why, sizeof f->why, "stopped");
                return ERR_UPSTREAM;
            }
        }
    }
    if (e == ERR_OK && r->status >= 200 && r->status < 300 && out) {
        *out = r->body.len ? json_loadb((const char *)r->body.ptr, r->body.len, 0, NULL) : NULL;
        if (!*out && r->body.len) {
            /* a JSON method answered with something else: garbage, not a refusal */
            snprintf(f->error, sizeof f->error, "BadAnswer");
            snprintf(f->message, sizeof f->message, "%s answered with something that is not JSON",
                     c->nsid);
            e = ERR_INVALID;
            r->status = 0;
        } else if (!*out) {
            *out = json_object();
        }
    }
    if (!(e == ERR_OK && r->status >= 200 && r->status < 300) && e == ERR_OK) {
        e = ERR_INVALID;
    }
    if (!resp) {
        sodium_memzero(r->body.ptr, r->body.cap);
        mig_http_resp_clear(r);
    }
    return e;
}

enum err mig_peer_get(struct mig_peer *p, const char *nsid, const char *query, json_t **out,
                      struct mig_fail *f)
{
    struct mig_call c;
    mig_call_init(&c, "GET", nsid);
    c.query = query;
    return mig_peer_call(p, &c, out, NULL, f);
}

enum err mig_peer_post(struct mig_peer *p, const char *nsid, json_t *body, json_t **out,
                       struct mig_fail *f)
{
    struct mig_call c;
    mig_call_init(&c, "POST", nsid);
    c.body = body; /* NULL: a procedure without input, sent with no body at all */
    return mig_peer_call(p, &c, out, NULL, f);
}
