/* config.c - the settings table, environment loading, dev-mode secrets and the generated doc.
 * Names follow the reference PDS (packages/pds/src/config/env.ts) where the meaning is the same. */
#include "main/config.h"

#include "core/hex.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "db/log.h"
#include "main/commands.h"

enum cfg_kind {
    CFG_STR,    /* free text */
    CFG_URL,    /* text; a trailing "/" is dropped */
    CFG_INT,    /* int, decimal */
    CFG_I64,    /* int64_t, decimal (bytes, counts, milliseconds) */
    CFG_BOOL,   /* "true"/"1" or "false"/"0" */
    CFG_LIST,   /* comma-separated list */
    CFG_SECRET, /* text, never logged or printed */
};

enum cfg_section {
    SEC_SERVICE,
    SEC_STORAGE,
    SEC_IDENTITY,
    SEC_INVITES,
    SEC_EMAIL,
    SEC_FIREHOSE,
    SEC_UPSTREAM,
    SEC_RATE,
    SEC_FETCH,
    SEC_SECRETS,
    SEC_LOG,
};

static const char *const section_titles[] = {
    [SEC_SERVICE] = "Service",
    [SEC_STORAGE] = "Storage",
    [SEC_IDENTITY] = "Identity",
    [SEC_INVITES] = "Invites",
    [SEC_EMAIL] = "Email",
    [SEC_FIREHOSE] = "Event stream (firehose)",
    [SEC_UPSTREAM] = "Upstream services",
    [SEC_RATE] = "Rate limits",
    [SEC_FETCH] = "Outbound fetches and proxying",
    [SEC_SECRETS] = "Secrets",
    [SEC_LOG] = "Logging",
};

/* One row per setting. dflt is the literal default (parsed like the variable would be);
 * NULL means "unset" or, when dflt_doc is given, a default derived in derive_defaults. */
struct cfg_row {
    const char *env;
    enum cfg_kind kind;
    size_t offset;
    const char *dflt;
    const char *dflt_doc; /* shown in the doc instead of dflt */
    const char *unit;
    enum cfg_section section;
    const char *meaning;
};

#define F(field) offsetof(struct config, field)

/* clang-format off */
static const struct cfg_row cfg_table[] = {
    {"PDS_HOSTNAME", CFG_STR, F(hostname), "localhost", NULL, NULL, SEC_SERVICE,
     "Public host name of this PDS (no scheme, no port). `localhost` means a local development server."},
    {"PDS_PORT", CFG_INT, F(port), "2583", NULL, "port", SEC_SERVICE,
     "TCP port the HTTP server listens on (all interfaces)."},
    {"PDS_SERVICE_DID", CFG_STR, F(service_did), NULL, "`did:web:<hostname>`", NULL, SEC_SERVICE,
     "DID of this service, reported by describeServer and used as the audience of service tokens."},
    {"PDS_SERVICE_NAME", CFG_STR, F(service_name), NULL, "`<hostname> PDS`", NULL, SEC_SERVICE,
     "Display name on sign-in pages and in emails."},
    {"PDS_VERSION", CFG_STR, F(version), PDS_VERSION, "the package version", NULL, SEC_SERVICE,
     "Version string reported by `/xrpc/_health`."},
    {"PDS_DEV_MODE", CFG_BOOL, F(dev_mode), "false", NULL, NULL, SEC_SERVICE,
     "Development mode: relaxes checks (secrets may be generated, SSRF protection off by default). Never in production."},
    {"PDS_WORKER_THREADS", CFG_INT, F(worker_threads), NULL, "number of CPUs", "threads", SEC_SERVICE,
     "HTTP worker threads; each owns one PostgreSQL connection, so this is also the connection count per process."},
    /* HTTP edge: connection limits and request deadlines against clients that hold connections */
    {"PDS_HTTP_MAX_CONNECTIONS", CFG_INT, F(http_max_connections), "0", NULL, "connections", SEC_SERVICE,
     "Most client connections open at once; 0: as many as the open-file limit allows (raised to its hard limit at start-up, less 512 and 4 per worker thread for the rest of the server). An idle connection costs a few KiB, one that has made a request up to 64 KiB."},
    {"PDS_HTTP_MAX_CONNECTIONS_PER_IP", CFG_INT, F(http_max_connections_per_ip), "128", NULL, "connections", SEC_SERVICE,
     "Most connections open at once from one client address (IPv6: one /64); more are closed on arrival. 0: no cap. Does not apply to local addresses (next setting)."},
    {"PDS_HTTP_MAX_CONNECTIONS_PER_LOCAL_IP", CFG_INT, F(http_max_connections_per_local_ip), "0", NULL, "connections", SEC_SERVICE,
     "The same cap for loopback and private addresses, where a reverse proxy connects from on behalf of many clients. 0: no cap."},
    {"PDS_HTTP_HEADERS_TIMEOUT", CFG_I64, F(http_headers_timeout_ms), "60000", NULL, "ms", SEC_SERVICE,
     "Time a connection has to send a complete request head, counted from its opening or the end of its previous response, however slowly the bytes come (as Node's headersTimeout). 0: none."},
    {"PDS_HTTP_REQUEST_TIMEOUT", CFG_I64, F(http_request_timeout_ms), "300000", NULL, "ms", SEC_SERVICE,
     "Time a connection has to send a whole request, head and body, counted the same way (as Node's requestTimeout, 5 minutes by default, which the reference runs with). Late connections are closed. 0: none."},
    {"PDS_BLOB_UPLOAD_LIMIT", CFG_I64, F(blob_upload_limit), "104857600", NULL, "bytes", SEC_SERVICE,
     "Largest blob a client may upload (the reference's code default is 5 MiB; its installer writes 100 MiB)."},
    {"PDS_ACCEPTING_REPO_IMPORTS", CFG_BOOL, F(accepting_repo_imports), "true", NULL, NULL, SEC_SERVICE,
     "Whether `com.atproto.repo.importRepo` is allowed."},
    {"PDS_MAX_REPO_IMPORT_SIZE", CFG_I64, F(max_repo_import_size), "0", NULL, "bytes", SEC_SERVICE,
     "Largest CAR accepted by importRepo; 0 means no cap beyond the server's own limits."},
    {"PDS_PRIVACY_POLICY_URL", CFG_URL, F(privacy_policy_url), NULL, NULL, NULL, SEC_SERVICE,
     "Privacy policy link in describeServer and on sign-up pages."},
    {"PDS_TERMS_OF_SERVICE_URL", CFG_URL, F(terms_of_service_url), NULL, NULL, NULL, SEC_SERVICE,
     "Terms of service link in describeServer and on sign-up pages."},
    {"PDS_CONTACT_EMAIL_ADDRESS", CFG_STR, F(contact_email_address), NULL, NULL, NULL, SEC_SERVICE,
     "Contact address in describeServer."},
    {"PDS_HOME_URL", CFG_URL, F(home_url), NULL, NULL, NULL, SEC_SERVICE,
     "Home page link on sign-in pages."},
    {"PDS_LOGO_URL", CFG_URL, F(logo_url), NULL, NULL, NULL, SEC_SERVICE,
     "Logo shown on sign-in pages."},
    {"PDS_SUPPORT_URL", CFG_URL, F(support_url), NULL, NULL, NULL, SEC_SERVICE,
     "Support link on sign-in pages."},

    {"PDS_DATA_DIRECTORY", CFG_STR, F(data_dir), "./data", NULL, "path", SEC_STORAGE,
     "Base directory: private PostgreSQL cluster (when no database URL), blobs, generated dev secrets."},
    {"PDS_DATABASE_URL", CFG_SECRET, F(database_url), NULL, "private cluster", NULL, SEC_STORAGE,
     "PostgreSQL connection URL or conninfo (e.g. `postgresql://pds:pw@db/pds`). Unset: the server creates and runs its own cluster under `<data>/postgres`, reachable only through a Unix socket."},
    {"PDS_POSTGRES_BIN_DIR", CFG_STR, F(postgres_bin_dir), NULL, "newest `/usr/lib/postgresql/<ver>/bin`", "path", SEC_STORAGE,
     "Where `initdb` and `pg_ctl` are, for the private cluster."},
    {"PDS_BLOBSTORE_DISK_LOCATION", CFG_STR, F(blobstore_disk), NULL, "`<data>/blocks`", "path", SEC_STORAGE,
     "Directory holding blob bytes."},
    {"PDS_BLOBSTORE_DISK_TMP_LOCATION", CFG_STR, F(blobstore_disk_tmp), NULL, "`<data>/tmp`", "path", SEC_STORAGE,
     "Directory for uploads not yet referenced by a record (same filesystem as the blob store)."},
    {"PDS_BLOBSTORE_S3_BUCKET", CFG_STR, F(blobstore_s3_bucket), NULL, NULL, NULL, SEC_STORAGE,
     "Keep blob bytes in this S3 bucket (keys `blocks/<did>/<cid>`) instead of on disk; do not also set PDS_BLOBSTORE_DISK_LOCATION. Uploads are still staged in the temporary directory."},
    {"PDS_BLOBSTORE_S3_REGION", CFG_STR, F(blobstore_s3_region), NULL, "`us-east-1`", NULL, SEC_STORAGE,
     "Region of the S3 bucket (part of the SigV4 signature)."},
    {"PDS_BLOBSTORE_S3_ENDPOINT", CFG_URL, F(blobstore_s3_endpoint), NULL, "AWS for the region", NULL, SEC_STORAGE,
     "S3-compatible endpoint, e.g. `https://s3.example.com` or `http://127.0.0.1:9000`."},
    {"PDS_BLOBSTORE_S3_FORCE_PATH_STYLE", CFG_BOOL, F(blobstore_s3_force_path_style), "false", NULL, NULL, SEC_STORAGE,
     "Address objects as `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint host>/<key>`."},
    {"PDS_BLOBSTORE_S3_ACCESS_KEY_ID", CFG_STR, F(blobstore_s3_access_key_id), NULL, "`AWS_ACCESS_KEY_ID`", NULL, SEC_STORAGE,
     "S3 access key id; with PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY, or neither (then the AWS_* variables)."},
    {"PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY", CFG_SECRET, F(blobstore_s3_secret_access_key), NULL, "`AWS_SECRET_ACCESS_KEY`", NULL, SEC_STORAGE,
     "S3 secret access key."},
    {"PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS", CFG_I64, F(blobstore_s3_upload_timeout_ms), "20000", NULL, "ms", SEC_STORAGE,
     "Time one blob upload to S3 may take."},
    {"PDS_BLOBSTORE_S3_REQUEST_TIMEOUT_MS", CFG_I64, F(blobstore_s3_request_timeout_ms), "30000", NULL, "ms", SEC_STORAGE,
     "Time other S3 requests may wait for an answer, and for each next part of a download."},
    {"PDS_ACCOUNT_STORAGE_QUOTA", CFG_I64, F(account_storage_quota), "0", NULL, "bytes", SEC_STORAGE,
     "Per-account storage quota: repository blocks plus permanent and pending blobs. Uploads and record writes past it fail with 400 `StorageQuotaExceeded`; deletes always work. 0 means no quota."},
    {"PDS_BLOB_TEMP_GRACE", CFG_I64, F(blob_temp_grace_ms), "3600000", NULL, "ms", SEC_STORAGE,
     "How long an uploaded blob may stay unreferenced by any record before the sweeper deletes it."},
    {"PDS_BLOB_SWEEP_INTERVAL", CFG_I64, F(blob_sweep_interval_ms), "60000", NULL, "ms", SEC_STORAGE,
     "Period of the blob sweeper (expired uploads, bytes of blobs no record references any more)."},

    {"PDS_DID_PLC_URL", CFG_URL, F(did_plc_url), "https://plc.directory", NULL, NULL, SEC_IDENTITY,
     "PLC directory used to create and update did:plc identities."},
    {"PDS_SERVICE_HANDLE_DOMAINS", CFG_LIST, F(handle_domains), NULL, "`.<hostname>` (`.test` on localhost)", NULL, SEC_IDENTITY,
     "Comma list of handle suffixes offered to new accounts; each starts with `.`. `.localhost` handles are disallowed, hence `.test` for a local server."},
    {"PDS_RECOVERY_DID_KEY", CFG_STR, F(recovery_did_key), NULL, NULL, NULL, SEC_IDENTITY,
     "A did:key added first to every new account's PLC rotation keys."},
    {"PDS_ID_RESOLVER_TIMEOUT", CFG_I64, F(id_resolver_timeout_ms), "3000", NULL, "ms", SEC_IDENTITY,
     "Timeout for DID and handle resolution."},
    {"PDS_DID_CACHE_STALE_TTL", CFG_I64, F(did_cache_stale_ttl_ms), "3600000", NULL, "ms", SEC_IDENTITY,
     "Age after which a cached DID document is refreshed in the background."},
    {"PDS_DID_CACHE_MAX_TTL", CFG_I64, F(did_cache_max_ttl_ms), "86400000", NULL, "ms", SEC_IDENTITY,
     "Age after which a cached DID document is no longer used."},
    {"PDS_ENABLE_DID_DOC_WITH_SESSION", CFG_BOOL, F(enable_did_doc_with_session), "false", NULL, NULL, SEC_IDENTITY,
     "Include the DID document in session responses."},
    {"PDS_HANDLE_DNS_SERVER", CFG_STR, F(handle_dns_server), NULL, NULL, NULL, SEC_IDENTITY,
     "Ours: one DNS server `a.b.c.d:port` (IPv4) asked for handles' `_atproto` TXT records instead of the system's resolvers (a private resolver, or tests). The reference's PDS_HANDLE_BACKUP_NAMESERVERS differs: a fallback list."},
    {"PDS_DEV_HANDLE_HTTP_PORT", CFG_INT, F(dev_handle_http_port), NULL, "PDS_PORT", "port", SEC_IDENTITY,
     "Ours, dev mode only: port of the plain-HTTP `/.well-known/atproto-did` fetched for handles under `.localhost`."},

    {"PDS_INVITE_REQUIRED", CFG_BOOL, F(invite_required), "true", NULL, NULL, SEC_INVITES,
     "Whether sign-up needs an invite code (as in the reference: required unless set to false)."},
    {"PDS_INVITE_INTERVAL", CFG_I64, F(invite_interval_ms), "0", NULL, "ms", SEC_INVITES,
     "Interval at which accounts earn invite codes; 0 means never."},
    {"PDS_INVITE_EPOCH", CFG_I64, F(invite_epoch_ms), "0", NULL, "ms", SEC_INVITES,
     "Start of the invite interval count (Unix time)."},

    {"PDS_EMAIL_SMTP_URL", CFG_SECRET, F(email_smtp_url), NULL, NULL, NULL, SEC_EMAIL,
     "SMTP server for account email, `smtps://user:pass@host:465/`; with PDS_EMAIL_FROM_ADDRESS, or neither."},
    {"PDS_EMAIL_FROM_ADDRESS", CFG_STR, F(email_from_address), NULL, NULL, NULL, SEC_EMAIL,
     "Sender address of account email."},
    {"PDS_EMAIL_DISABLE_CONFIRMATION_LINK", CFG_BOOL, F(email_disable_confirmation_link), "false", NULL, NULL, SEC_EMAIL,
     "Send only a code in confirmation emails, no link."},
    {"PDS_MODERATION_EMAIL_SMTP_URL", CFG_SECRET, F(moderation_email_smtp_url), NULL, NULL, NULL, SEC_EMAIL,
     "SMTP server for `com.atproto.admin.sendEmail`; with PDS_MODERATION_EMAIL_ADDRESS, or neither."},
    {"PDS_MODERATION_EMAIL_ADDRESS", CFG_STR, F(moderation_email_address), NULL, NULL, NULL, SEC_EMAIL,
     "Sender address of moderation email."},

    {"PDS_MAX_SUBSCRIPTION_BUFFER", CFG_I64, F(max_subscription_buffer), "500", NULL, "events", SEC_FIREHOSE,
     "Events queued for one subscribeRepos client before it is dropped as too slow."},
    {"PDS_REPO_BACKFILL_LIMIT_MS", CFG_I64, F(repo_backfill_limit_ms), "86400000", NULL, "ms", SEC_FIREHOSE,
     "How far back a subscribeRepos cursor may replay; older events are pruned."},
    {"PDS_CRAWLERS", CFG_LIST, F(crawlers), NULL, NULL, NULL, SEC_FIREHOSE,
     "Comma list of relay URLs asked to crawl this PDS (`com.atproto.sync.requestCrawl`), e.g. `https://bsky.network`."},

    {"PDS_BSKY_APP_VIEW_URL", CFG_URL, F(bsky_app_view_url), NULL, NULL, NULL, SEC_UPSTREAM,
     "AppView for `app.bsky.*` proxying, e.g. `https://api.bsky.app`; with PDS_BSKY_APP_VIEW_DID."},
    {"PDS_BSKY_APP_VIEW_DID", CFG_STR, F(bsky_app_view_did), NULL, NULL, NULL, SEC_UPSTREAM,
     "DID of the AppView, e.g. `did:web:api.bsky.app`."},
    {"PDS_BSKY_APP_VIEW_CDN_URL_PATTERN", CFG_STR, F(bsky_app_view_cdn_url_pattern), NULL, NULL, NULL, SEC_UPSTREAM,
     "Image CDN URL pattern of the AppView."},
    {"PDS_MOD_SERVICE_URL", CFG_URL, F(mod_service_url), NULL, NULL, NULL, SEC_UPSTREAM,
     "Moderation service URL; with PDS_MOD_SERVICE_DID."},
    {"PDS_MOD_SERVICE_DID", CFG_STR, F(mod_service_did), NULL, NULL, NULL, SEC_UPSTREAM,
     "Moderation service DID."},
    {"PDS_REPORT_SERVICE_URL", CFG_URL, F(report_service_url), NULL, "the moderation service", NULL, SEC_UPSTREAM,
     "Where `com.atproto.moderation.createReport` is proxied, e.g. `https://mod.bsky.app`."},
    {"PDS_REPORT_SERVICE_DID", CFG_STR, F(report_service_did), NULL, "the moderation service", NULL, SEC_UPSTREAM,
     "DID of the report service, e.g. `did:plc:ar7c4by46qjdydhdevvrndac`."},

    {"PDS_RATE_LIMITS_ENABLED", CFG_BOOL, F(rate_limits_enabled), "false", NULL, NULL, SEC_RATE,
     "Apply the reference PDS's rate limits."},
    {"PDS_RATE_LIMIT_BYPASS_KEY", CFG_SECRET, F(rate_limit_bypass_key), NULL, NULL, NULL, SEC_RATE,
     "Value of an `x-ratelimit-bypass` header that skips rate limits."},
    {"PDS_RATE_LIMIT_BYPASS_IPS", CFG_LIST, F(rate_limit_bypass_ips), NULL, NULL, NULL, SEC_RATE,
     "Comma list of client IPs that skip rate limits (a CIDR suffix is ignored)."},

    {"PDS_DISABLE_SSRF_PROTECTION", CFG_BOOL, F(disable_ssrf_protection), NULL, "PDS_DEV_MODE", NULL, SEC_FETCH,
     "Allow outbound fetches (client metadata, proxying) to private addresses."},
    {"PDS_FETCH_MAX_RESPONSE_SIZE", CFG_I64, F(fetch_max_response_size), "524288", NULL, "bytes", SEC_FETCH,
     "Largest response read by outbound metadata fetches."},
    {"PDS_PROXY_HEADERS_TIMEOUT", CFG_I64, F(proxy_headers_timeout_ms), "10000", NULL, "ms", SEC_FETCH,
     "Time an upstream has to send response headers to a proxied call."},
    {"PDS_PROXY_BODY_TIMEOUT", CFG_I64, F(proxy_body_timeout_ms), "30000", NULL, "ms", SEC_FETCH,
     "Time an upstream has to send the body of a proxied response."},
    {"PDS_PROXY_MAX_RESPONSE_SIZE", CFG_I64, F(proxy_max_response_size), "10485760", NULL, "bytes", SEC_FETCH,
     "Largest proxied response."},
    {"PDS_OAUTH_TRUSTED_CLIENTS", CFG_LIST, F(oauth_trusted_clients), NULL, NULL, NULL, SEC_FETCH,
     "Comma list of OAuth client_ids shown as trusted on the consent page."},

    {"PDS_JWT_SECRET", CFG_SECRET, F(jwt_secret), NULL, "required (dev: generated)", NULL, SEC_SECRETS,
     "HMAC secret of session JWTs, e.g. `openssl rand --hex 16`."},
    {"PDS_ADMIN_PASSWORD", CFG_SECRET, F(admin_password), NULL, "required (dev: generated)", NULL, SEC_SECRETS,
     "Password of HTTP Basic `admin:<password>` for admin XRPC methods."},
    {"PDS_DPOP_SECRET", CFG_SECRET, F(dpop_secret), NULL, NULL, NULL, SEC_SECRETS,
     "Secret from which DPoP nonces are derived; unset: a random one per process."},
    {"PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX", CFG_SECRET, F(plc_rotation_key_hex), NULL, "required (dev: generated)", NULL, SEC_SECRETS,
     "The PDS's PLC rotation key: hex of a raw 32-byte secp256k1 private key (`pds keygen`)."},

    {"LOG_LEVEL", CFG_STR, F(log_level), "info", NULL, NULL, SEC_LOG,
     "`error`, `warn`, `info` (one line per request) or `debug`. Lines go to stderr."},
};
/* clang-format on */

#undef F

#define WORKER_THREADS_MAX 1024 /* far past any sensible count; catches typos */
#define SECRET_HEX_BYTES   16   /* random bytes in a generated JWT secret or admin password */

/* secp256k1 group order n: a private key is an integer in [1, n-1]. */
static const uint8_t k256_order[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
};

static enum err fail(char *why, size_t why_len, const char *fmt, ...) PRINTF_LIKE(3, 4);

static enum err fail(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return ERR_INVALID;
}

static char *trimmed_dup(const char *s, size_t n)
{
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1])) {
        n--;
    }
    return xstrndup(s, n);
}

static void list_parse(struct config_list *l, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char *item = trimmed_dup(p, n);
        if (*item) {
            l->items = xrealloc(l->items, (l->len + 1) * sizeof *l->items);
            l->items[l->len++] = item;
        } else {
            free(item);
        }
        p += n + (comma ? 1 : 0);
    }
}

static void list_clear(struct config_list *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i]);
    }
    free(l->items);
    l->items = NULL;
    l->len = 0;
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* Stores one value (from the environment or the default) into its field. */
static enum err set_field(struct config *cfg, const struct cfg_row *row, const char *value,
                          char *why, size_t why_len)
{
    void *field = (char *)cfg + row->offset;
    switch (row->kind) {
    case CFG_STR:
    case CFG_SECRET:
        *(char **)field = xstrndup(value, strlen(value));
        return ERR_OK;
    case CFG_URL: {
        size_t n = strlen(value);
        while (n && value[n - 1] == '/') {
            n--;
        }
        *(char **)field = xstrndup(value, n);
        return ERR_OK;
    }
    case CFG_INT:
    case CFG_I64: {
        int64_t v;
        if (!parse_i64(value, &v) || v < 0 || (row->kind == CFG_INT && v > INT_MAX)) {
            return fail(why, why_len, "%s must be a non-negative integer, not \"%s\"", row->env,
                        value);
        }
        if (row->kind == CFG_INT) {
            *(int *)field = (int)v;
        } else {
            *(int64_t *)field = v;
        }
        return ERR_OK;
    }
    case CFG_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "1") == 0) {
            *(bool *)field = true;
        } else if (strcmp(value, "false") == 0 || strcmp(value, "0") == 0) {
            *(bool *)field = false;
        } else {
            return fail(why, why_len, "%s must be true or false, not \"%s\"", row->env, value);
        }
        return ERR_OK;
    case CFG_LIST:
        list_parse((struct config_list *)field, value);
        return ERR_OK;
    }
    return ERR_INTERNAL;
}

/* An empty variable counts as unset, as in the reference. */
static bool env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

/* Defaults that depend on other settings. */
static enum err derive_defaults(struct config *cfg, char *why, size_t why_len)
{
    for (char *p = cfg->hostname; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    if (!*cfg->hostname || strpbrk(cfg->hostname, "/:@ ")) {
        return fail(why, why_len, "PDS_HOSTNAME must be a bare host name, not \"%s\"",
                    cfg->hostname);
    }
    if (cfg->port < 1 || cfg->port > 65535) {
        return fail(why, why_len, "PDS_PORT must be between 1 and 65535");
    }
    cfg->is_localhost = strcmp(cfg->hostname, "localhost") == 0;
    cfg->public_url = cfg->is_localhost ? xprintf("http://localhost:%d", cfg->port)
                                        : xprintf("https://%s", cfg->hostname);
    if (!cfg->service_did) {
        cfg->service_did = xprintf("did:web:%s", cfg->hostname);
    }
    if (!cfg->service_name) {
        cfg->service_name = xprintf("%s PDS", cfg->hostname);
    }
    if (!env_set("PDS_WORKER_THREADS")) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->worker_threads = n > 0 ? (int)n : 1;
    }
    if (cfg->worker_threads < 1 || cfg->worker_threads > WORKER_THREADS_MAX) {
        return fail(why, why_len, "PDS_WORKER_THREADS must be between 1 and %d",
                    WORKER_THREADS_MAX);
    }
    if (!cfg->blobstore_disk) {
        cfg->blobstore_disk = xprintf("%s/blocks", cfg->data_dir);
    }
    if (env_set("PDS_BLOBSTORE_S3_BUCKET") && env_set("PDS_BLOBSTORE_DISK_LOCATION")) {
        return fail(why, why_len,
                    "set PDS_BLOBSTORE_S3_BUCKET or PDS_BLOBSTORE_DISK_LOCATION, not both");
    }
    if (!cfg->blobstore_s3_access_key_id != !cfg->blobstore_s3_secret_access_key) {
        return fail(why, why_len,
                    "PDS_BLOBSTORE_S3_ACCESS_KEY_ID and PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY must "
                    "be set together");
    }
    if (cfg->blob_sweep_interval_ms < 1) {
        return fail(why, why_len, "PDS_BLOB_SWEEP_INTERVAL must be at least 1 ms");
    }
    if (!cfg->blobstore_disk_tmp) {
        cfg->blobstore_disk_tmp = xprintf("%s/tmp", cfg->data_dir);
    }
    if (cfg->handle_domains.len == 0) {
        /* .localhost handles are disallowed by the handle spec, so a local server uses .test */
        list_parse(&cfg->handle_domains, cfg->is_localhost ? ".test" : "");
        if (!cfg->is_localhost) {
            char *d = xprintf(".%s", cfg->hostname);
            list_parse(&cfg->handle_domains, d);
            free(d);
        }
    }
    for (size_t i = 0; i < cfg->handle_domains.len; i++) {
        char *d = cfg->handle_domains.items[i];
        if (d[0] != '.' || d[1] == '\0') {
            return fail(why, why_len,
                        "PDS_SERVICE_HANDLE_DOMAINS entries must start with \".\", not \"%s\"", d);
        }
        for (char *p = d; *p; p++) {
            *p = (char)tolower((unsigned char)*p);
        }
    }
    if (!env_set("PDS_DISABLE_SSRF_PROTECTION")) {
        cfg->disable_ssrf_protection = cfg->dev_mode;
    }
    if (!cfg->report_service_url && cfg->mod_service_url) {
        cfg->report_service_url = xstrndup(cfg->mod_service_url, strlen(cfg->mod_service_url));
    }
    if (!cfg->report_service_did && cfg->mod_service_did) {
        cfg->report_service_did = xstrndup(cfg->mod_service_did, strlen(cfg->mod_service_did));
    }
    if (!cfg->email_smtp_url != !cfg->email_from_address) {
        return fail(why, why_len,
                    "PDS_EMAIL_SMTP_URL and PDS_EMAIL_FROM_ADDRESS must be set together");
    }
    if (!cfg->bsky_app_view_url != !cfg->bsky_app_view_did) {
        return fail(why, why_len,
                    "PDS_BSKY_APP_VIEW_URL and PDS_BSKY_APP_VIEW_DID must be set together");
    }
    enum log_level lvl;
    if (!log_parse_level(cfg->log_level, &lvl)) {
        return fail(why, why_len, "LOG_LEVEL must be error, warn, info or debug, not \"%s\"",
                    cfg->log_level);
    }
    return ERR_OK;
}

/* True for 64 hex digits encoding an integer in [1, n-1]; lower-cases the text. */
static bool rotation_key_valid(char *hex)
{
    uint8_t k[32];
    if (strlen(hex) != CONFIG_ROTATION_KEY_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_digit((uint8_t)hex[2 * i]), lo = hex_digit((uint8_t)hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        k[i] = (uint8_t)(hi << 4 | lo);
        hex[2 * i] = (char)tolower((unsigned char)hex[2 * i]);
        hex[2 * i + 1] = (char)tolower((unsigned char)hex[2 * i + 1]);
    }
    bool zero = true;
    for (size_t i = 0; i < 32; i++) {
        zero = zero && k[i] == 0;
    }
    bool below = memcmp(k, k256_order, 32) < 0;
    explicit_bzero(k, sizeof k);
    return !zero && below;
}

/* Fills out with 2*nbytes hex digits of kernel randomness and a NUL. */
static void random_hex(char *out, size_t nbytes)
{
    uint8_t r[64];
    if (nbytes > sizeof r) {
        abort();
    }
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(r + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            abort(); /* no kernel randomness: nothing safe to do */
        }
        got += (size_t)n;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = digits[r[i] >> 4];
        out[2 * i + 1] = digits[r[i] & 15];
    }
    out[2 * nbytes] = '\0';
    explicit_bzero(r, sizeof r);
}

struct secret_slot {
    const char *env;
    size_t offset;
};

static const struct secret_slot secret_slots[] = {
    {"PDS_JWT_SECRET", offsetof(struct config, jwt_secret)},
    {"PDS_ADMIN_PASSWORD", offsetof(struct config, admin_password)},
    {"PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX", offsetof(struct config, plc_rotation_key_hex)},
};

static char **slot_field(struct config *cfg, const struct secret_slot *s)
{
    return (char **)((char *)cfg + s->offset);
}

static enum err make_dir(const char *path, mode_t mode, char *why, size_t why_len)
{
    char tmp[PATH_MAX];
    if (strlen(path) >= sizeof tmp) {
        return fail(why, why_len, "path too long: \"%s\"", path);
    }
    memcpy(tmp, path, strlen(path) + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
                return fail(why, why_len, "could not create directory \"%s\": %s", tmp,
                            strerror(errno));
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
        return fail(why, why_len, "could not create directory \"%s\": %s", tmp, strerror(errno));
    }
    return ERR_OK;
}

/* Reads KEY=VALUE lines of the secrets file into unset secret fields. */
static void secrets_read(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq) {
            continue;
        }
        *eq = '\0';
        char *value = eq + 1;
        value[strcspn(value, "\r\n")] = '\0';
        for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
            char **field = slot_field(cfg, &secret_slots[i]);
            if (strcmp(line, secret_slots[i].env) == 0 && !*field && *value) {
                *field = xstrndup(value, strlen(value));
                cfg->secrets_from_file = true;
            }
        }
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
}

/* Writes all three secrets to path atomically (temporary file, then rename), mode 0600. */
static enum err secrets_write(struct config *cfg, const char *path, char *why, size_t why_len)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        return fail(why, why_len, "path too long: \"%s\"", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return fail(why, why_len, "could not create \"%s\": %s", tmp, strerror(errno));
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return fail(why, why_len, "could not write \"%s\"", tmp);
    }
    fprintf(f, "# Secrets generated by `pds serve` for development (PDS_DEV_MODE or localhost).\n"
               "# Keep this file: the PLC rotation key and JWT secret keep accounts usable.\n"
               "# In production set these variables yourself.\n");
    for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
        fprintf(f, "%s=%s\n", secret_slots[i].env, *slot_field(cfg, &secret_slots[i]));
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return fail(why, why_len, "could not write \"%s\": %s", path, strerror(errno));
    }
    return ERR_OK;
}

static enum err secrets_resolve(struct config *cfg, char *why, size_t why_len)
{
    bool missing = false;
    for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
        missing = missing || !*slot_field(cfg, &secret_slots[i]);
    }
    if (missing && !cfg->dev_mode && !cfg->is_localhost) {
        for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
            if (!*slot_field(cfg, &secret_slots[i])) {
                return fail(why, why_len,
                            "%s is not set (required unless PDS_DEV_MODE=true or "
                            "PDS_HOSTNAME=localhost)",
                            secret_slots[i].env);
            }
        }
    }
    if (missing) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg->data_dir, CONFIG_SECRETS_FILE) >=
            sizeof path) {
            return fail(why, why_len, "PDS_DATA_DIRECTORY is too long");
        }
        enum err e = make_dir(cfg->data_dir, 0755, why, why_len);
        if (e) {
            return e;
        }
        secrets_read(cfg, path);
        bool generate = false;
        for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
            char **field = slot_field(cfg, &secret_slots[i]);
            if (*field) {
                continue;
            }
            bool is_key = secret_slots[i].offset == offsetof(struct config, plc_rotation_key_hex);
            char hex[CONFIG_ROTATION_KEY_HEX_LEN + 1];
            do {
                random_hex(hex, is_key ? CONFIG_ROTATION_KEY_HEX_LEN / 2 : SECRET_HEX_BYTES);
            } while (is_key && !rotation_key_valid(hex));
            *field = xstrndup(hex, strlen(hex));
            explicit_bzero(hex, sizeof hex);
            generate = true;
        }
        if (generate) {
            e = secrets_write(cfg, path, why, why_len);
            if (e) {
                return e;
            }
            cfg->secrets_created = true;
        }
    }
    if (!rotation_key_valid(cfg->plc_rotation_key_hex)) {
        return fail(why, why_len,
                    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX must be 64 hex digits of a valid "
                    "secp256k1 private key");
    }
    return ERR_OK;
}

enum err config_load(struct config *cfg, char *why, size_t why_len)
{
    memset(cfg, 0, sizeof *cfg);
    why[0] = '\0';
    for (size_t i = 0; i < ARRAY_LEN(cfg_table); i++) {
        const struct cfg_row *row = &cfg_table[i];
        const char *value = env_set(row->env) ? getenv(row->env) : row->dflt;
        if (!value) {
            continue;
        }
        enum err e = set_field(cfg, row, value, why, why_len);
        if (e) {
            return e;
        }
    }
    enum err e = derive_defaults(cfg, why, why_len);
    if (e) {
        return e;
    }
    return secrets_resolve(cfg, why, why_len);
}

static void free_secret(char **s)
{
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

void config_clear(struct config *cfg)
{
    for (size_t i = 0; i < ARRAY_LEN(cfg_table); i++) {
        const struct cfg_row *row = &cfg_table[i];
        void *field = (char *)cfg + row->offset;
        if (row->kind == CFG_LIST) {
            list_clear(field);
        } else if (row->kind == CFG_SECRET) {
            free_secret(field);
        } else if (row->kind == CFG_STR || row->kind == CFG_URL) {
            free(*(char **)field);
            *(char **)field = NULL;
        }
    }
    free(cfg->public_url);
    cfg->public_url = NULL;
}

/* Every variable the reference PDS reads (bluesky-social/atproto packages/pds/src/config/env.ts
 * at d6296a1, plus LOG_* of its logger): the doc marks our variables that share a name, and
 * lists the reference's that this server ignores. */
static const char *const reference_env[] = {
    "PDS_ACCEPTING_REPO_IMPORTS",
    "PDS_ACCOUNT_DB_LOCATION",
    "PDS_ACTOR_STORE_CACHE_SIZE",
    "PDS_ACTOR_STORE_DIRECTORY",
    "PDS_ADMIN_PASSWORD",
    "PDS_BACKGROUND_DARK_URL",
    "PDS_BACKGROUND_LIGHT_URL",
    "PDS_BLOBSTORE_DISK_LOCATION",
    "PDS_BLOBSTORE_DISK_TMP_LOCATION",
    "PDS_BLOBSTORE_S3_ACCESS_KEY_ID",
    "PDS_BLOBSTORE_S3_BUCKET",
    "PDS_BLOBSTORE_S3_ENDPOINT",
    "PDS_BLOBSTORE_S3_FORCE_PATH_STYLE",
    "PDS_BLOBSTORE_S3_REGION",
    "PDS_BLOBSTORE_S3_REQUEST_TIMEOUT_MS",
    "PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY",
    "PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS",
    "PDS_BLOB_UPLOAD_LIMIT",
    "PDS_BSKY_APP_VIEW_CDN_URL_PATTERN",
    "PDS_BSKY_APP_VIEW_DID",
    "PDS_BSKY_APP_VIEW_URL",
    "PDS_CONTACT_EMAIL_ADDRESS",
    "PDS_CRAWLERS",
    "PDS_DATA_DIRECTORY",
    "PDS_DEV_MODE",
    "PDS_DID_CACHE_DB_LOCATION",
    "PDS_DID_CACHE_MAX_TTL",
    "PDS_DID_CACHE_STALE_TTL",
    "PDS_DID_PLC_URL",
    "PDS_DISABLE_SSRF_PROTECTION",
    "PDS_DPOP_SECRET",
    "PDS_EMAIL_DISABLE_CONFIRMATION_LINK",
    "PDS_EMAIL_FROM_ADDRESS",
    "PDS_EMAIL_SMTP_URL",
    "PDS_ENABLE_DID_DOC_WITH_SESSION",
    "PDS_ENTRYWAY_ADMIN_TOKEN",
    "PDS_ENTRYWAY_DID",
    "PDS_ENTRYWAY_JWT_VERIFY_KEY_K256_PUBLIC_KEY_HEX",
    "PDS_ENTRYWAY_PLC_ROTATION_KEY",
    "PDS_ENTRYWAY_URL",
    "PDS_ERROR_COLOR",
    "PDS_FETCH_MAX_RESPONSE_SIZE",
    "PDS_HANDLE_BACKUP_NAMESERVERS",
    "PDS_HCAPTCHA_SECRET_KEY",
    "PDS_HCAPTCHA_SITE_KEY",
    "PDS_HCAPTCHA_TOKEN_SALT",
    "PDS_HOME_URL",
    "PDS_HOSTNAME",
    "PDS_ID_RESOLVER_TIMEOUT",
    "PDS_INFO_COLOR",
    "PDS_INVITE_EPOCH",
    "PDS_INVITE_INTERVAL",
    "PDS_INVITE_REQUIRED",
    "PDS_JWT_SECRET",
    "PDS_LEXICON_AUTHORITY_DID",
    "PDS_LOGO_URL",
    "PDS_MAX_REPO_IMPORT_SIZE",
    "PDS_MAX_SUBSCRIPTION_BUFFER",
    "PDS_MODERATION_EMAIL_ADDRESS",
    "PDS_MODERATION_EMAIL_SMTP_URL",
    "PDS_MOD_SERVICE_DID",
    "PDS_MOD_SERVICE_URL",
    "PDS_OAUTH_TRUSTED_CLIENTS",
    "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX",
    "PDS_PLC_ROTATION_KEY_KMS_KEY_ID",
    "PDS_PORT",
    "PDS_PRIMARY_COLOR",
    "PDS_PRIVACY_POLICY_URL",
    "PDS_PROXY_ALLOW_HTTP2",
    "PDS_PROXY_BODY_TIMEOUT",
    "PDS_PROXY_HEADERS_TIMEOUT",
    "PDS_PROXY_MAX_RESPONSE_SIZE",
    "PDS_PROXY_MAX_RETRIES",
    "PDS_PROXY_PREFER_COMPRESSED",
    "PDS_RATE_LIMITS_ENABLED",
    "PDS_RATE_LIMIT_BYPASS_IPS",
    "PDS_RATE_LIMIT_BYPASS_KEY",
    "PDS_RECOVERY_DID_KEY",
    "PDS_REDIS_SCRATCH_ADDRESS",
    "PDS_REDIS_SCRATCH_PASSWORD",
    "PDS_REPORT_SERVICE_DID",
    "PDS_REPORT_SERVICE_URL",
    "PDS_REPO_BACKFILL_LIMIT_MS",
    "PDS_SEQUENCER_DB_LOCATION",
    "PDS_SERVICE_DID",
    "PDS_SERVICE_HANDLE_DOMAINS",
    "PDS_SERVICE_NAME",
    "PDS_SQLITE_DISABLE_WAL_AUTO_CHECKPOINT",
    "PDS_SUCCESS_COLOR",
    "PDS_SUPPORT_URL",
    "PDS_TERMS_OF_SERVICE_URL",
    "PDS_VERSION",
    "PDS_WARNING_COLOR",
    "LOG_ENABLED",
    "LOG_LEVEL",
    "LOG_DESTINATION",
};

static bool in_reference(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(reference_env); i++) {
        if (strcmp(reference_env[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static bool in_table(const char *name)
{
    for (size_t i = 0; i < ARRAY_LEN(cfg_table); i++) {
        if (strcmp(cfg_table[i].env, name) == 0) {
            return true;
        }
    }
    return false;
}

void config_write_doc(FILE *out)
{
    fprintf(out,
            "<!-- Generated by `pds config-doc` from the table in server/main/config.c; do not "
            "edit by hand. -->\n"
            "# Configuration\n\n"
            "`pds serve` reads its settings from environment variables. Names follow the "
            "reference PDS where the meaning is the same. An empty variable counts as unset. "
            "Booleans are `true`/`1` or `false`/`0`.\n\n"
            "With `PDS_HOSTNAME=localhost` (the default) or `PDS_DEV_MODE=true`, missing "
            "secrets are generated once and kept in `<PDS_DATA_DIRECTORY>/%s` (mode 0600); "
            "in production a missing secret stops the server at start-up.\n\n"
            "The column *Reference PDS* says whether the reference implementation "
            "(bluesky-social/atproto `packages/pds`) reads a variable of the same name "
            "(*same name*; defaults may differ, as the meaning says) or the variable is ours.\n",
            CONFIG_SECRETS_FILE);
    for (size_t s = 0; s < ARRAY_LEN(section_titles); s++) {
        fprintf(out,
                "\n## %s\n\n| Variable | Default | Unit | Reference PDS | Meaning |\n"
                "|---|---|---|---|---|\n",
                section_titles[s]);
        for (size_t i = 0; i < ARRAY_LEN(cfg_table); i++) {
            const struct cfg_row *row = &cfg_table[i];
            if (row->section != s) {
                continue;
            }
            char dflt[256];
            if (row->dflt_doc) {
                snprintf(dflt, sizeof dflt, "%s", row->dflt_doc);
            } else if (row->dflt) {
                snprintf(dflt, sizeof dflt, "`%s`", row->dflt);
            } else {
                snprintf(dflt, sizeof dflt, "unset");
            }
            fprintf(out, "| `%s` | %s | %s | %s | %s |\n", row->env, dflt,
                    row->unit ? row->unit : "", in_reference(row->env) ? "same name" : "ours",
                    row->meaning);
        }
    }
    fprintf(out, "\n## Reference PDS variables not read here\n\n"
                 "A `pds.env` written for the reference PDS may hold these; this server ignores "
                 "them (SQLite and actor-store paths, Redis, entryway, KMS, hCaptcha, theme "
                 "colours and the like have no counterpart here, or not yet):\n\n");
    const char *sep = "";
    for (size_t i = 0; i < ARRAY_LEN(reference_env); i++) {
        if (!in_table(reference_env[i])) {
            fprintf(out, "%s`%s`", sep, reference_env[i]);
            sep = ", ";
        }
    }
    fprintf(out, "\n");
}

int cmd_config_doc(int argc, char **argv)
{
    config_write_doc(stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
