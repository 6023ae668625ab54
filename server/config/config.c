/* config.c - loading the settings table from the environment: parsing each kind, the
 * defaults derived from other settings, and freeing. */
#include "config/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_table.h"
#include "core/bytes.h"
#include "core/cidr.h"
#include "core/syntax.h"
#include "db/log.h"

#define WORKER_THREADS_MAX          1024 /* far past any sensible count; catches typos */
#define HANDLER_THREADS_DEFAULT_MAX 32   /* PDS_HANDLER_THREADS' default never passes this */

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
            return config_fail(why, why_len, "%s must be a non-negative integer, not \"%s\"",
                               row->env, value);
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
            return config_fail(why, why_len, "%s must be true or false, not \"%s\"", row->env,
                               value);
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

/* True for an IPv4 or IPv6 literal; drops the brackets of "[v6]". */
static bool listen_address_valid(char *a)
{
    size_t n = strlen(a);
    if (n >= 2 && a[0] == '[' && a[n - 1] == ']') {
        memmove(a, a + 1, n - 2);
        a[n - 2] = '\0';
    }
    unsigned char bin[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, a, bin) == 1 || inet_pton(AF_INET6, a, bin) == 1;
}

#define COLOR_MAX_CHARS 64

/* The branding colours go into a stylesheet (web/page.c): a CSS colour value only, so that
 * nothing can end the declaration or open another rule. */
static enum err check_colors(const struct config *cfg, char *why, size_t why_len)
{
    const struct {
        const char *env, *value;
    } colors[] = {
        {"PDS_PRIMARY_COLOR", cfg->primary_color}, {"PDS_ERROR_COLOR", cfg->error_color},
        {"PDS_WARNING_COLOR", cfg->warning_color}, {"PDS_INFO_COLOR", cfg->info_color},
        {"PDS_SUCCESS_COLOR", cfg->success_color},
    };
    for (size_t i = 0; i < ARRAY_LEN(colors); i++) {
        const char *v = colors[i].value;
        if (v && (strlen(v) > COLOR_MAX_CHARS ||
                  strspn(v, "#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "(),.% ") != strlen(v))) {
            return config_fail(why, why_len,
                               "%s must be a CSS colour (such as #0a7aff or rgb(10, 122, 255))",
                               colors[i].env);
        }
    }
    return ERR_OK;
}

/* The rate-limit block: address lists parse, the budget settings are words we know. */
static enum err check_rate_limits(struct config *cfg, char *why, size_t why_len)
{
    const struct {
        const char *env;
        const struct config_list *list;
    } lists[] = {{"PDS_TRUSTED_PROXIES", &cfg->trusted_proxies},
                 {"PDS_RATE_LIMIT_BYPASS_IPS", &cfg->rate_limit_bypass_ips}};
    struct cidr_list *scratch = xcalloc(1, sizeof *scratch);
    enum err e = ERR_OK;
    for (size_t k = 0; k < ARRAY_LEN(lists) && !e; k++) {
        scratch->len = 0;
        for (size_t i = 0; i < lists[k].list->len && !e; i++) {
            if (cidr_list_add(scratch, lists[k].list->items[i])) {
                e = config_fail(why, why_len,
                                "%s: \"%s\" is not an address, a CIDR range or a keyword",
                                lists[k].env, lists[k].list->items[i]);
            }
        }
    }
    free(scratch);
    if (e) {
        return e;
    }
    for (size_t i = 0; i < cfg->rate_limits.len; i++) {
        if (!strchr(cfg->rate_limits.items[i], '=')) {
            return config_fail(why, why_len, "PDS_RATE_LIMITS: \"%s\" is not name=points/window",
                               cfg->rate_limits.items[i]);
        }
    }
    if (strcmp(cfg->host_budget, "on") == 0) {
        cfg->host_budget_on = true;
    } else if (strcmp(cfg->host_budget, "auto") == 0) {
        cfg->host_budget_on = cfg->crawlers.len > 0;
    } else if (strcmp(cfg->host_budget, "off") != 0) {
        return config_fail(why, why_len, "PDS_HOST_BUDGET must be auto, on or off, not \"%s\"",
                           cfg->host_budget);
    }
    if (cfg->host_budget_percent < 1 || cfg->host_budget_percent > 100) {
        return config_fail(why, why_len, "PDS_HOST_BUDGET_PERCENT must be between 1 and 100");
    }
    const char *lim = cfg->relay_account_limit;
    int64_t n = 0;
    if (strcmp(lim, "trusted") == 0) {
        cfg->relay_trusted = true;
    } else if (strcmp(lim, "auto") != 0 && (!parse_i64(lim, &n) || n < 1)) {
        return config_fail(why, why_len,
                           "PDS_RELAY_ACCOUNT_LIMIT must be auto, trusted or a positive number,"
                           " not \"%s\"",
                           lim);
    }
    cfg->relay_account_limit_n = n;
    if (!env_set("PDS_HANDLER_THREADS")) {
        /* handlers mostly wait on PostgreSQL: a few per CPU keep it busy; the cap keeps a
         * big machine's processes inside the database's connection limit */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->handler_threads = 4 * (cpus > 0 ? (int)cpus : 1);
        if (cfg->handler_threads > HANDLER_THREADS_DEFAULT_MAX) {
            cfg->handler_threads = HANDLER_THREADS_DEFAULT_MAX;
        }
    }
    if (cfg->handler_threads < 1 || cfg->handler_threads > WORKER_THREADS_MAX) {
        return config_fail(why, why_len, "PDS_HANDLER_THREADS must be between 1 and %d",
                           WORKER_THREADS_MAX);
    }
    if (cfg->relay_check_interval_ms < 1000 || cfg->relay_repo_check_interval_ms < 10) {
        return config_fail(why, why_len,
                           "PDS_RELAY_CHECK_INTERVAL must be at least 1000 ms and "
                           "PDS_RELAY_REPO_CHECK_INTERVAL at least 10 ms");
    }
    return ERR_OK;
}

/* Defaults that depend on other settings. */
static enum err derive_defaults(struct config *cfg, char *why, size_t why_len)
{
    for (char *p = cfg->hostname; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
    }
    if (!*cfg->hostname || strpbrk(cfg->hostname, "/:@ ")) {
        return config_fail(why, why_len, "PDS_HOSTNAME must be a bare host name, not \"%s\"",
                           cfg->hostname);
    }
    if (cfg->port < 1 || cfg->port > 65535) {
        return config_fail(why, why_len, "PDS_PORT must be between 1 and 65535");
    }
    cfg->is_localhost = strcmp(cfg->hostname, "localhost") == 0;
    if (!cfg->listen_address) {
        /* a development server's generated admin password is for this machine only */
        cfg->listen_address = xprintf("%s", cfg->is_localhost ? "127.0.0.1" : "::");
    }
    if (!listen_address_valid(cfg->listen_address)) {
        return config_fail(why, why_len,
                           "PDS_LISTEN_ADDRESS must be an IPv4 or IPv6 address (127.0.0.1, ::1, "
                           "0.0.0.0, ::), not \"%s\"",
                           cfg->listen_address);
    }
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
        return config_fail(why, why_len, "PDS_WORKER_THREADS must be between 1 and %d",
                           WORKER_THREADS_MAX);
    }
    if (!cfg->blobstore_disk) {
        cfg->blobstore_disk = xprintf("%s/blocks", cfg->data_dir);
    }
    if (env_set("PDS_BLOBSTORE_S3_BUCKET") && env_set("PDS_BLOBSTORE_DISK_LOCATION")) {
        return config_fail(why, why_len,
                           "set PDS_BLOBSTORE_S3_BUCKET or PDS_BLOBSTORE_DISK_LOCATION, not both");
    }
    if (!cfg->blobstore_s3_access_key_id != !cfg->blobstore_s3_secret_access_key) {
        return config_fail(
            why, why_len,
            "PDS_BLOBSTORE_S3_ACCESS_KEY_ID and PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY must "
            "be set together");
    }
    if (cfg->blob_sweep_interval_ms < 1) {
        return config_fail(why, why_len, "PDS_BLOB_SWEEP_INTERVAL must be at least 1 ms");
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
            return config_fail(
                why, why_len,
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
        return config_fail(why, why_len,
                           "PDS_EMAIL_SMTP_URL and PDS_EMAIL_FROM_ADDRESS must be set together");
    }
    if (!cfg->bsky_app_view_url != !cfg->bsky_app_view_did) {
        return config_fail(why, why_len,
                           "PDS_BSKY_APP_VIEW_URL and PDS_BSKY_APP_VIEW_DID must be set together");
    }
    enum log_level lvl;
    if (!log_parse_level(cfg->log_level, &lvl)) {
        return config_fail(why, why_len, "LOG_LEVEL must be error, warn, info or debug, not \"%s\"",
                           cfg->log_level);
    }
    enum log_format fmt;
    if (!log_parse_format(cfg->log_format, &fmt)) {
        return config_fail(why, why_len, "LOG_FORMAT must be text or json, not \"%s\"",
                           cfg->log_format);
    }
    if (cfg->admin_session_idle_ms <= 0 || cfg->admin_session_max_ms <= 0) {
        return config_fail(why, why_len,
                           "PDS_ADMIN_SESSION_IDLE_TIMEOUT and "
                           "PDS_ADMIN_SESSION_MAX_AGE must be positive");
    }
    return ERR_OK;
}

enum err config_load(struct config *cfg, char *why, size_t why_len)
{
    memset(cfg, 0, sizeof *cfg);
    why[0] = '\0';
    for (size_t i = 0; i < config_table_len; i++) {
        const struct cfg_row *row = &config_table[i];
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
    if (!e) {
        e = check_colors(cfg, why, why_len);
    }
    if (!e) {
        e = check_rate_limits(cfg, why, why_len);
    }
    if (!e && cfg->lexicon_authority_did &&
        !syntax_did_valid(bytes_str(cfg->lexicon_authority_did))) {
        e = config_fail(why, why_len, "PDS_LEXICON_AUTHORITY_DID must be a DID");
    }
    if (e) {
        return e;
    }
    return config_secrets_resolve(cfg, why, why_len);
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
    for (size_t i = 0; i < config_table_len; i++) {
        const struct cfg_row *row = &config_table[i];
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
