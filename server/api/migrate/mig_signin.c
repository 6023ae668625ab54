/* mig_signin.c - finding the old host and signing in there (mig_signin.h). */
#include "api/migrate/mig_signin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api/common/app.h"
#include "api/migrate/mig_job.h"
#include "core/syntax.h"

#define SIGN_IN_TIMEOUT_MS 20000

static char *arena_dup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

enum mig_locate_result mig_locate(struct arena *a, const char *ident, char did[RESOLVER_DID_MAX],
                                  char **pds, char **handle)
{
    *pds = *handle = NULL;
    did[0] = '\0';
    struct resolver *res = app_get()->resolver;
    if (strncmp(ident, "did:", 4) == 0) {
        if (!syntax_did_valid(bytes_str(ident)) || strlen(ident) >= RESOLVER_DID_MAX) {
            return MIG_LOCATE_BAD_DID;
        }
        snprintf(did, RESOLVER_DID_MAX, "%s", ident);
    } else {
        char *h = arena_dup(a, ident);
        for (char *p = h; *p; p++) {
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
        }
        enum err e = resolver_resolve_handle(res, h, true, did);
        if (e) {
            return e == ERR_INVALID ? MIG_LOCATE_BAD_HANDLE : MIG_LOCATE_NO_HANDLE;
        }
    }
    struct did_doc doc;
    if (resolver_resolve_atproto(res, did, true, &doc)) {
        return MIG_LOCATE_NO_DID;
    }
    *pds = arena_dup(a, doc.pds_endpoint);
    *handle = arena_dup(a, doc.handle);
    did_doc_clear(&doc);
    return *pds ? MIG_LOCATE_OK : MIG_LOCATE_NO_PDS;
}

void mig_remote_session_clear(struct mig_remote_session *s)
{
    mig_secret_set(&s->access, NULL);
    mig_secret_set(&s->refresh, NULL);
    free(s->handle);
    free(s->email);
    memset(s, 0, sizeof *s);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

/* What the answer r to the call (e: its transport outcome) means; the session into out. */
static enum mig_signin_result read_answer(enum err e, const struct mig_http_resp *r,
                                          const char *did, struct mig_remote_session *out)
{
    snprintf(out->error, sizeof out->error, "%s", r->error);
    snprintf(out->message, sizeof out->message, "%s", r->message);
    snprintf(out->why, sizeof out->why, "%s", r->why);
    if (e) {
        return MIG_SIGNIN_UNREACHABLE;
    }
    if (r->status == 401) {
        return strcmp(r->error, "AuthFactorTokenRequired") == 0 ? MIG_SIGNIN_NEED_CODE
                                                                : MIG_SIGNIN_WRONG_PASSWORD;
    }
    if (r->status >= 400 && r->status < 500 && r->error[0]) {
        return MIG_SIGNIN_REFUSED;
    }
    json_t *j =
        r->status == 200 ? json_loadb((const char *)r->body.ptr, r->body.len, 0, NULL) : NULL;
    const char *a = json_string_value(json_object_get(j, "accessJwt"));
    const char *f = json_string_value(json_object_get(j, "refreshJwt"));
    const char *sd = json_string_value(json_object_get(j, "did"));
    enum mig_signin_result res = !a || !f || !sd        ? MIG_SIGNIN_BAD_ANSWER
                                 : strcmp(sd, did) != 0 ? MIG_SIGNIN_WRONG_ACCOUNT
                                                        : MIG_SIGNIN_OK;
    if (res == MIG_SIGNIN_OK) {
        mig_secret_set(&out->access, a);
        mig_secret_set(&out->refresh, f);
        out->handle = dup_or_null(json_string_value(json_object_get(j, "handle")));
        out->email = dup_or_null(json_string_value(json_object_get(j, "email")));
    }
    json_decref(j); /* jansson frees without wiping: the tokens are wiped with r's body */
    return res;
}

enum mig_signin_result mig_sign_in_old(const char *url, const char *did, const char *password,
                                       const char *code, bool ssrf_protect,
                                       struct mig_remote_session *out)
{
    memset(out, 0, sizeof *out);
    json_t *body = json_pack("{s:s,s:s,s:s*}", "identifier", did, "password", password,
                             "authFactorToken", code && *code ? code : NULL);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char *u = xprintf("%s/xrpc/com.atproto.server.createSession", url);
    struct mig_http_req hr;
    mig_http_req_init(&hr, "POST", u);
    hr.content_type = "application/json";
    hr.body = bytes_str(text ? text : "{}");
    hr.timeout_ms = SIGN_IN_TIMEOUT_MS;
    hr.ssrf_protect = ssrf_protect;
    struct mig_http_resp r;
    mig_http_resp_init(&r);
    enum err e = mig_http_do(&hr, &r);
    if (text) {
        sodium_memzero(text, strlen(text));
        free(text);
    }
    free(u);
    enum mig_signin_result res = read_answer(e, &r, did, out);
    sodium_memzero(r.body.ptr, r.body.cap);
    mig_http_resp_clear(&r);
    return res;
}
