/* cli_host.c - `pdsadmin status`, `create-invite-code` and `request-crawl`: the commands
 * about the host rather than one account. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define INVITE_USES_MAX 1000000 /* the server's own bound */

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long jint(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

/* bytes as "12.3 MiB" */
static void human_bytes(long long n, char out[32])
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0) {
        snprintf(out, 32, "%lld B", n);
    } else {
        snprintf(out, 32, "%.1f %s", v, units[u]);
    }
}

static void human_duration(long long s, char out[32])
{
    if (s < 0) {
        snprintf(out, 32, "unknown");
    } else if (s < 3600) {
        snprintf(out, 32, "%lldm %llds", s / 60, s % 60);
    } else if (s < 86400) {
        snprintf(out, 32, "%lldh %lldm", s / 3600, s % 3600 / 60);
    } else {
        snprintf(out, 32, "%lldd %lldh", s / 86400, s % 86400 / 3600);
    }
}

static void print_status(const struct cli *c, json_t *health, json_t *st)
{
    char a[32], b[32], d[32];
    json_t *acc = json_object_get(st, "accounts"), *db = json_object_get(st, "database");
    json_t *blobs = json_object_get(st, "blobs"), *fh = json_object_get(st, "firehose");
    human_duration(jint(st, "uptimeSeconds"), a);
    printf("Server:       %s (up, version %s, for %s)\n", c->url, jstr(health, "version"), a);
    printf("Hostname:     %s (%s)\n", jstr(st, "hostname"), jstr(st, "did"));
    printf("Accounts:     %lld (%lld active, %lld taken down, %lld deactivated)\n",
           jint(acc, "total"), jint(acc, "active"), jint(acc, "takendown"),
           jint(acc, "deactivated"));
    human_bytes(jint(db, "bytes"), a);
    printf("Database:     %s (PostgreSQL %s, %s)\n", a, jstr(db, "serverVersion"),
           json_is_true(json_object_get(db, "privateCluster")) ? "private cluster"
                                                               : "external server");
    human_bytes(jint(st, "repoBytes"), a);
    printf("Repositories: %s of blocks\n", a);
    human_bytes(jint(blobs, "bytes"), a);
    printf("Blob store:   %s, %lld blobs, %s", jstr(blobs, "store"), jint(blobs, "count"), a);
    if (json_object_get(blobs, "diskFreeBytes")) {
        human_bytes(jint(blobs, "diskFreeBytes"), b);
        human_bytes(jint(blobs, "diskTotalBytes"), d);
        printf(" (disk: %s free of %s)", b, d);
    }
    printf("\n");
    json_t *subs = json_object_get(fh, "subscribers");
    printf("Firehose:     head seq %lld, ", jint(fh, "headSeq"));
    if (json_is_integer(subs)) {
        printf("%lld subscriber%s (this process)\n", (long long)json_integer_value(subs),
               json_integer_value(subs) == 1 ? "" : "s");
    } else {
        printf("subscriber count not available\n");
    }
    cli_print_limits_summary(json_object_get(st, "rateLimits"));
    printf("pdsadmin:     %s\n", PDS_VERSION);
}

int cli_status(struct cli *c, int argc, char **argv)
{
    if (argc != 1) {
        cli_error("usage: pdsadmin status [--json]");
        return CLI_USAGE;
    }
    size_t n = strlen(c->url) + 32;
    char *url = xmalloc(n);
    snprintf(url, n, "%s/xrpc/_health", c->url);
    long code;
    json_t *health = NULL, *st = NULL;
    int rc = cli_http(c, url, NULL, false, true, &code, &health);
    free(url);
    if (rc != CLI_OK) {
        if (code == 0) {
            cli_error("the server at %s is down (no answer)", c->url);
        } else {
            cli_error("the server at %s is unhealthy: /xrpc/_health answered %ld%s", c->url, code,
                      code == 503 ? " (its database is unreachable)" : "");
        }
        json_decref(health);
        return CLI_FAIL;
    }
    rc = cli_xrpc(c, "_status", NULL, NULL, true, &st);
    json_t *migrations = rc == CLI_OK ? cli_migrations_status(c) : NULL;
    if (rc == CLI_OK && c->json) {
        json_t *o = json_pack("{s:s,s:O,s:O,s:s,s:O*}", "url", c->url, "health", health, "status",
                              st, "pdsadmin", PDS_VERSION, "migrations", migrations);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else if (rc == CLI_OK) {
        print_status(c, health, st);
        if (migrations) {
            cli_migrations_print(migrations);
        }
    }
    json_decref(migrations);
    json_decref(health);
    json_decref(st);
    return rc;
}

int cli_create_invite_code(struct cli *c, int argc, char **argv)
{
    const char *uses_s;
    int rc = cli_take_option(&argc, argv, "--uses", &uses_s);
    if (rc != CLI_OK) {
        return rc;
    }
    char *end = NULL;
    long uses = uses_s ? strtol(uses_s, &end, 10) : 1;
    if (argc != 1 || (uses_s && (*end != '\0' || uses < 1 || uses > INVITE_USES_MAX))) {
        cli_error("usage: pdsadmin create-invite-code [--uses N] (N from 1 to %d)",
                  INVITE_USES_MAX);
        return CLI_USAGE;
    }
    json_t *req = json_pack("{s:i}", "useCount", (int)uses), *out = NULL;
    rc = cli_xrpc(c, "com.atproto.server.createInviteCode", NULL, req, true, &out);
    json_decref(req);
    if (rc == CLI_OK) {
        if (c->json) {
            printf("{\"code\": \"%s\", \"uses\": %ld}\n", jstr(out, "code"), uses);
        } else {
            printf("%s\n", jstr(out, "code"));
        }
    }
    json_decref(out);
    return rc;
}

/* Asks one relay to crawl hostname. */
static int crawl_one(struct cli *c, const char *relay, const char *hostname)
{
    bool has_scheme = strstr(relay, "://") != NULL;
    size_t rn = strlen(relay);
    while (rn > 0 && relay[rn - 1] == '/') {
        rn--;
    }
    size_t n = rn + 64;
    char *url = xmalloc(n);
    snprintf(url, n, "%s%.*s/xrpc/com.atproto.sync.requestCrawl", has_scheme ? "" : "https://",
             (int)rn, relay);
    json_t *req = json_pack("{s:s}", "hostname", hostname);
    long status;
    int rc = cli_http(c, url, req, false, false, &status, NULL);
    json_decref(req);
    if (rc == CLI_OK) {
        printf("Requested a crawl of %s from %.*s\n", hostname, (int)rn, relay);
    }
    free(url);
    return rc;
}

int cli_request_crawl(struct cli *c, int argc, char **argv)
{
    if (argc > 2) {
        cli_error("usage: pdsadmin request-crawl [RELAY[,RELAY...]]");
        return CLI_USAGE;
    }
    const char *list = argc == 2 ? argv[1] : c->crawlers;
    if (!list || !*list) {
        cli_error("no relay given and PDS_CRAWLERS is not set");
        return CLI_USAGE;
    }
    if (!c->hostname) {
        cli_error("PDS_HOSTNAME is not set: the relay needs this server's public host name");
        return CLI_FAIL;
    }
    char *copy = xstrndup(list, strlen(list));
    int rc = CLI_OK, count = 0;
    for (char *p = copy; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma) {
            *comma = '\0';
        }
        while (*p == ' ') {
            p++;
        }
        size_t len = strlen(p);
        while (len > 0 && p[len - 1] == ' ') {
            p[--len] = '\0';
        }
        if (*p) {
            count++;
            if (crawl_one(c, p, c->hostname) != CLI_OK) {
                rc = CLI_FAIL;
            }
        }
        p = comma ? comma + 1 : NULL;
    }
    free(copy);
    if (count == 0) {
        cli_error("no relay given");
        return CLI_USAGE;
    }
    return rc;
}
