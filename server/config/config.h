/* config.h - the server's settings, read once from PDS_* environment variables at start-up.
 * One table (config_table.c: env name, default, unit, meaning) drives loading and the
 * generated docs/configuration.md. After config_load the struct is read-only and shared by
 * all threads. The layer below http: every layer above reads the struct; main loads it. */
#ifndef PDS_CONFIG_CONFIG_H
#define PDS_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"

#define CONFIG_ROTATION_KEY_HEX_LEN 64 /* hex of a raw 32-byte secp256k1 private key */
#define CONFIG_SECRETS_FILE         "secrets.env"

/* A comma-separated setting, split and trimmed; empty items dropped. */
struct config_list {
    char **items;
    size_t len;
};

struct config {
    /* Service */
    char *hostname;               /* PDS_HOSTNAME, lower-case, no port */
    int port;                     /* PDS_PORT */
    char *public_url;             /* http://localhost:<port> or https://<hostname>, no trailing / */
    char *service_did;            /* PDS_SERVICE_DID */
    char *service_name;           /* PDS_SERVICE_NAME */
    char *version;                /* PDS_VERSION: reported by /xrpc/_health */
    bool dev_mode;                /* PDS_DEV_MODE */
    bool is_localhost;            /* hostname is "localhost" */
    int worker_threads;           /* PDS_WORKER_THREADS: HTTP threads, one DB connection each */
    int64_t blob_upload_limit;    /* PDS_BLOB_UPLOAD_LIMIT, bytes */
    bool accepting_repo_imports;  /* PDS_ACCEPTING_REPO_IMPORTS */
    int64_t max_repo_import_size; /* PDS_MAX_REPO_IMPORT_SIZE, bytes; 0 = no cap */
    char *privacy_policy_url;     /* PDS_PRIVACY_POLICY_URL, or NULL */
    char *terms_of_service_url;   /* PDS_TERMS_OF_SERVICE_URL, or NULL */
    char *contact_email_address;  /* PDS_CONTACT_EMAIL_ADDRESS, or NULL */
    char *home_url;               /* PDS_HOME_URL, or NULL */
    char *logo_url;               /* PDS_LOGO_URL, or NULL */
    char *support_url;            /* PDS_SUPPORT_URL, or NULL */
    char *primary_color;          /* PDS_PRIMARY_COLOR (a CSS colour, checked), or NULL */
    char *error_color;            /* PDS_ERROR_COLOR, or NULL */
    char *warning_color;          /* PDS_WARNING_COLOR, or NULL */
    char *info_color;             /* PDS_INFO_COLOR, or NULL */
    char *success_color;          /* PDS_SUCCESS_COLOR, or NULL */
    /* records and lexicons (reads helper) */
    char *lexicon_dir; /* PDS_LEXICON_DIR: more schemas beside the shipped ones, or NULL */

    /* Listening (set-up) */
    char *listen_address; /* PDS_LISTEN_ADDRESS: an IPv4 or IPv6 literal, validated; default
                           * 127.0.0.1 with hostname localhost, else :: (all interfaces) */

    /* HTTP edge: connection limits and request deadlines */
    int http_max_connections;              /* PDS_HTTP_MAX_CONNECTIONS; 0 = from the file limit */
    int http_max_connections_per_ip;       /* PDS_HTTP_MAX_CONNECTIONS_PER_IP; 0 = no cap */
    int http_max_connections_per_local_ip; /* PDS_HTTP_MAX_CONNECTIONS_PER_LOCAL_IP; 0 = no cap */
    int64_t http_headers_timeout_ms;       /* PDS_HTTP_HEADERS_TIMEOUT; 0 = none */
    int64_t http_request_timeout_ms;       /* PDS_HTTP_REQUEST_TIMEOUT; 0 = none */

    /* Storage */
    char *data_dir;                       /* PDS_DATA_DIRECTORY */
    char *database_url;                   /* PDS_DATABASE_URL; NULL = private cluster in data_dir */
    char *database_replica_urls;          /* PDS_DATABASE_REPLICA_URLS; NULL = none */
    int64_t database_replica_max_lag_ms;  /* PDS_DATABASE_REPLICA_MAX_LAG */
    char *blobstore_disk;                 /* PDS_BLOBSTORE_DISK_LOCATION */
    char *blobstore_disk_tmp;             /* PDS_BLOBSTORE_DISK_TMP_LOCATION */
    char *blobstore_s3_bucket;            /* PDS_BLOBSTORE_S3_BUCKET, or NULL (disk store) */
    char *blobstore_s3_region;            /* PDS_BLOBSTORE_S3_REGION, or NULL */
    char *blobstore_s3_endpoint;          /* PDS_BLOBSTORE_S3_ENDPOINT, or NULL (AWS) */
    bool blobstore_s3_force_path_style;   /* PDS_BLOBSTORE_S3_FORCE_PATH_STYLE */
    char *blobstore_s3_access_key_id;     /* PDS_BLOBSTORE_S3_ACCESS_KEY_ID, or NULL */
    char *blobstore_s3_secret_access_key; /* PDS_BLOBSTORE_S3_SECRET_ACCESS_KEY (secret) */
    int64_t blobstore_s3_upload_timeout_ms;  /* PDS_BLOBSTORE_S3_UPLOAD_TIMEOUT_MS */
    int64_t blobstore_s3_request_timeout_ms; /* PDS_BLOBSTORE_S3_REQUEST_TIMEOUT_MS */
    int64_t account_storage_quota;           /* PDS_ACCOUNT_STORAGE_QUOTA, bytes; 0 = none */
    int64_t blob_temp_grace_ms;     /* PDS_BLOB_TEMP_GRACE: unreferenced uploads live this long */
    int64_t blob_sweep_interval_ms; /* PDS_BLOB_SWEEP_INTERVAL: blob sweeper period */
    char *postgres_bin_dir;         /* PDS_POSTGRES_BIN_DIR; NULL = newest Debian install */

    /* Identity */
    char *did_plc_url;                 /* PDS_DID_PLC_URL, no trailing / */
    struct config_list handle_domains; /* PDS_SERVICE_HANDLE_DOMAINS, each starts with "." */
    char *recovery_did_key;            /* PDS_RECOVERY_DID_KEY, or NULL */
    char *lexicon_authority_did;       /* PDS_LEXICON_AUTHORITY_DID, or NULL: DNS */
    int64_t lexicon_cache_ttl_ms;      /* PDS_LEXICON_CACHE_TTL */
    int64_t id_resolver_timeout_ms;    /* PDS_ID_RESOLVER_TIMEOUT */
    int64_t did_cache_stale_ttl_ms;    /* PDS_DID_CACHE_STALE_TTL */
    int64_t did_cache_max_ttl_ms;      /* PDS_DID_CACHE_MAX_TTL */
    bool enable_did_doc_with_session;  /* PDS_ENABLE_DID_DOC_WITH_SESSION */
    char *handle_dns_server;           /* PDS_HANDLE_DNS_SERVER "a.b.c.d:port", or NULL */
    int dev_handle_http_port;          /* PDS_DEV_HANDLE_HTTP_PORT; 0 = PDS_PORT */

    /* Invites */
    bool invite_required;       /* PDS_INVITE_REQUIRED: true unless set to "false" */
    int64_t invite_interval_ms; /* PDS_INVITE_INTERVAL; 0 = none */
    int64_t invite_epoch_ms;    /* PDS_INVITE_EPOCH */

    /* Email */
    char *email_smtp_url;                 /* PDS_EMAIL_SMTP_URL, or NULL */
    char *email_from_address;             /* PDS_EMAIL_FROM_ADDRESS, or NULL */
    bool email_disable_confirmation_link; /* PDS_EMAIL_DISABLE_CONFIRMATION_LINK */
    char *moderation_email_smtp_url;      /* PDS_MODERATION_EMAIL_SMTP_URL, or NULL */
    char *moderation_email_address;       /* PDS_MODERATION_EMAIL_ADDRESS, or NULL */

    /* Event stream */
    int64_t max_subscription_buffer; /* PDS_MAX_SUBSCRIPTION_BUFFER, events */
    int64_t repo_backfill_limit_ms;  /* PDS_REPO_BACKFILL_LIMIT_MS */
    struct config_list crawlers;     /* PDS_CRAWLERS: relay base URLs */

    /* Upstream services */
    char *bsky_app_view_url;             /* PDS_BSKY_APP_VIEW_URL, or NULL */
    char *bsky_app_view_did;             /* PDS_BSKY_APP_VIEW_DID, or NULL */
    char *bsky_app_view_cdn_url_pattern; /* PDS_BSKY_APP_VIEW_CDN_URL_PATTERN, or NULL */
    char *mod_service_url;               /* PDS_MOD_SERVICE_URL, or NULL */
    char *mod_service_did;               /* PDS_MOD_SERVICE_DID, or NULL */
    char *report_service_url;            /* PDS_REPORT_SERVICE_URL (falls back to mod service) */
    char *report_service_did;            /* PDS_REPORT_SERVICE_DID (falls back to mod service) */

    /* Rate limits, the host's event budget, relay standing, overload protection */
    bool rate_limits_enabled;                 /* PDS_RATE_LIMITS_ENABLED */
    char *rate_limit_bypass_key;              /* PDS_RATE_LIMIT_BYPASS_KEY (secret), or NULL */
    struct config_list rate_limit_bypass_ips; /* PDS_RATE_LIMIT_BYPASS_IPS: addresses, CIDRs */
    struct config_list trusted_proxies;       /* PDS_TRUSTED_PROXIES: addresses, CIDRs, keywords */
    struct config_list rate_limits;           /* PDS_RATE_LIMITS: name=points/window, name=off */
    char *host_budget;                        /* PDS_HOST_BUDGET: "auto", "on", "off" */
    int host_budget_percent;                  /* PDS_HOST_BUDGET_PERCENT, 1..100 */
    char *relay_account_limit;                /* PDS_RELAY_ACCOUNT_LIMIT: "auto", "trusted", N */
    int64_t relay_check_interval_ms;          /* PDS_RELAY_CHECK_INTERVAL */
    int64_t relay_repo_check_interval_ms;     /* PDS_RELAY_REPO_CHECK_INTERVAL */
    bool overload_protection;                 /* PDS_OVERLOAD_PROTECTION */
    int handler_threads;                      /* PDS_HANDLER_THREADS */
    bool host_budget_on;           /* derived: PDS_HOST_BUDGET on, or auto with PDS_CRAWLERS */
    int64_t relay_account_limit_n; /* derived: the number given, 0 for auto or trusted */
    bool relay_trusted;            /* derived: PDS_RELAY_ACCOUNT_LIMIT=trusted */

    /* Outbound fetches and proxying */
    bool disable_ssrf_protection;             /* PDS_DISABLE_SSRF_PROTECTION (default: dev mode) */
    int64_t fetch_max_response_size;          /* PDS_FETCH_MAX_RESPONSE_SIZE, bytes */
    int64_t proxy_headers_timeout_ms;         /* PDS_PROXY_HEADERS_TIMEOUT */
    int64_t proxy_body_timeout_ms;            /* PDS_PROXY_BODY_TIMEOUT */
    int64_t proxy_max_response_size;          /* PDS_PROXY_MAX_RESPONSE_SIZE, bytes */
    struct config_list oauth_trusted_clients; /* PDS_OAUTH_TRUSTED_CLIENTS */
    /* OAuth (issue 11) */
    char *oauth_client_ca_file; /* PDS_OAUTH_CLIENT_CA_FILE, or NULL */

    /* Account migration (server/api/migrate) */
    int migration_workers;                 /* PDS_MIGRATION_WORKERS: job threads per process */
    int migration_blob_concurrency;        /* PDS_MIGRATION_BLOB_CONCURRENCY: blobs at once */
    int64_t migration_requests_per_second; /* PDS_MIGRATION_REQUESTS_PER_SECOND; 0 = unpaced */
    int64_t migration_timeout_ms;          /* PDS_MIGRATION_TIMEOUT: one call to the other host */

    /* Secrets: never log these. Set after config_load (generated in dev, see below). */
    char *jwt_secret;           /* PDS_JWT_SECRET */
    char *admin_password;       /* PDS_ADMIN_PASSWORD */
    char *dpop_secret;          /* PDS_DPOP_SECRET, or NULL */
    char *plc_rotation_key_hex; /* PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX, 64 hex chars */
    bool secrets_from_file;     /* some secret was read from <data_dir>/secrets.env */
    bool secrets_created;       /* some secret was generated into it by this start */

    /* Logging */
    char *log_level; /* LOG_LEVEL: error, warn, info, debug */

    /* Operations: admin console, metrics, logs (issue 14) */
    char *log_format;                     /* LOG_FORMAT: text or json */
    int64_t admin_session_idle_ms;        /* PDS_ADMIN_SESSION_IDLE_TIMEOUT */
    int64_t admin_session_max_ms;         /* PDS_ADMIN_SESSION_MAX_AGE */
    struct config_list metrics_allow_ips; /* PDS_METRICS_ALLOW_IPS: scrape without auth */
    int64_t admin_signin_failures_max;    /* PDS_ADMIN_SIGNIN_FAILURES_MAX per 15 min */
};

/* Reads the environment into cfg (zeroed by this call). In production (not dev mode and not
 * localhost) a missing PDS_JWT_SECRET, PDS_ADMIN_PASSWORD or rotation key is an error. In dev
 * or on localhost, missing secrets are read from, or generated once into,
 * <data_dir>/secrets.env (mode 0600), creating data_dir if needed.
 * On failure returns ERR_INVALID (or ERR_INTERNAL for I/O) and writes a one-line reason
 * naming the variable into why; cfg is then safe to config_clear. */
enum err config_load(struct config *cfg, char *why, size_t why_len) MUST_CHECK;

/* Frees every string; wipes the secrets first. Safe on a zeroed or cleared struct. */
void config_clear(struct config *cfg);

/* Every setting as the admin console shows it: an array of {name, section, value (text, or
 * null when unset), secret, fromEnvironment, meaning}; a secret's value is "(set, hidden)"
 * or null, never the secret. Caller decrefs. */
struct json_t;
struct json_t *config_describe(const struct config *cfg);

/* Writes the configuration reference (Markdown) generated from the table:
 * `pds config-doc > docs/configuration.md`. */
void config_write_doc(FILE *out);

#endif
