/* basic.c - routes outside the lexicons: the landing page, robots.txt, the health check and
 * handle resolution over HTTPS (/.well-known/atproto-did), as the reference serves them. */
#include "api/host/host.h"

#include <ctype.h>
#include <string.h>

#include "config/config.h"

#define TEXT_PLAIN     "text/plain; charset=utf-8"
#define HOST_MAX_BYTES 253 /* spec(handle): at most 253 characters */

/* GET / */
int api_basic_root(struct xrpc_req *rq)
{
    return xrpc_reply_static(
        rq, 200, TEXT_PLAIN,
        "This is an AT Protocol Personal Data Server (PDS), written in C.\n"
        "\n"
        "Most API routes are under /xrpc/ (for example /xrpc/com.atproto.server.describeServer).\n"
        "Operator documentation: docs/ in the source tree (docs/configuration.md lists every "
        "setting).\n");
}

/* GET /robots.txt */
int api_basic_robots(struct xrpc_req *rq)
{
    return xrpc_reply_static(rq, 200, TEXT_PLAIN,
                             "# Hello!\n\n# Crawling the public API is allowed\nUser-agent: *\n"
                             "Allow: /\n");
}

/* GET /xrpc/_health */
int api_basic_health(struct xrpc_req *rq)
{
    json_t *body = json_pack("{s:s}", "version", rq->cfg->version);
    enum err e = db_exec(rq->db, "SELECT 1", NULL, NULL);
    if (e != ERR_OK) {
        log_error(&rq->log, "failed health check: %s", err_str(e));
        json_object_set_new(body, "error", json_string("Service Unavailable"));
        return xrpc_reply_json(rq, 503, body);
    }
    return xrpc_reply_json(rq, 200, body);
}

/* The Host header's name, lower-cased and without a port; NULL if unusable. */
static char *host_of(struct xrpc_req *rq)
{
    const char *host = xrpc_header(rq, "host");
    if (!host) {
        return NULL;
    }
    size_t n = strcspn(host, ":");
    if (n == 0 || n > HOST_MAX_BYTES) {
        return NULL;
    }
    char *h = arena_strndup(rq->arena, host, n);
    for (char *p = h; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    return h;
}

/* Under one of the service's handle domains, or one of them without its leading dot. */
static bool in_service_domains(const struct config *cfg, const char *handle)
{
    size_t hn = strlen(handle);
    for (size_t i = 0; i < cfg->handle_domains.len; i++) {
        const char *d = cfg->handle_domains.items[i];
        size_t dn = strlen(d);
        if ((hn > dn && strcmp(handle + hn - dn, d) == 0) || strcmp(handle, d + 1) == 0) {
            return true;
        }
    }
    return false;
}

/* GET /.well-known/atproto-did */
int api_basic_atproto_did(struct xrpc_req *rq)
{
    char *handle = host_of(rq);
    if (!handle || !in_service_domains(rq->cfg, handle)) {
        return xrpc_reply_static(rq, 404, TEXT_PLAIN, "User not found");
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, handle);
    PGresult *r;
    enum err e = db_query_in(rq->db, rq->arena,
                             "SELECT did FROM account WHERE handle = $1 "
                             "AND takedown_ref IS NULL AND deactivated_at IS NULL",
                             &p, &r);
    if (e != ERR_OK) {
        return xrpc_reply_static(rq, 500, TEXT_PLAIN, "Internal Server Error");
    }
    if (PQntuples(r) == 0) {
        return xrpc_reply_static(rq, 404, TEXT_PLAIN, "User not found");
    }
    const char *did = db_col_text(r, 0, 0);
    return xrpc_reply_bytes(rq, 200, TEXT_PLAIN, did, strlen(did));
}
