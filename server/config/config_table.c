/* config_table.c - the settings table: one row per environment variable (name, kind, field,
 * default, unit, section, meaning), from which config.c loads and config_doc.c writes
 * docs/configuration.md. Names follow the reference PDS (packages/pds/src/config/env.ts)
 * where the meaning is the same. */
#include "config/config_table.h"

#include <stdarg.h>
#include <stdio.h>

const char *const config_section_titles[] = {
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
const size_t config_section_count = ARRAY_LEN(config_section_titles);

#define F(field) offsetof(struct config, field)

/* clang-format off */
const struct cfg_row config_table[] = {
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
    {"PDS_PRIMARY_COLOR", CFG_STR, F(primary_color), NULL, "blue (`#1185fe`)", NULL, SEC_SERVICE,
     "Main colour of the web pages (buttons, links): a CSS colour such as `#0a7aff` or `rgb(10, 122, 255)`."},
    {"PDS_ERROR_COLOR", CFG_STR, F(error_color), NULL, "red", NULL, SEC_SERVICE,
     "Colour of error messages on the web pages (CSS colour)."},
    {"PDS_WARNING_COLOR", CFG_STR, F(warning_color), NULL, "amber", NULL, SEC_SERVICE,
     "Colour of warnings on the web pages (CSS colour)."},
    {"PDS_INFO_COLOR", CFG_STR, F(info_color), NULL, "grey-blue", NULL, SEC_SERVICE,
     "Colour of notes on the web pages (CSS colour)."},
    {"PDS_SUCCESS_COLOR", CFG_STR, F(success_color), NULL, "green", NULL, SEC_SERVICE,
     "Colour of confirmations on the web pages (CSS colour)."},

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
    /* OAuth (issue 11) */
    {"PDS_OAUTH_CLIENT_CA_FILE", CFG_STR, F(oauth_client_ca_file), NULL, NULL, NULL, SEC_FETCH,
     "Ours: a PEM file of certificate authorities trusted, besides the system's, when fetching OAuth client metadata and keys (a private CA; tests)."},

    {"PDS_JWT_SECRET", CFG_SECRET, F(jwt_secret), NULL, "required (dev: generated)", NULL, SEC_SECRETS,
     "HMAC secret of session JWTs, e.g. `openssl rand --hex 16`."},
    {"PDS_ADMIN_PASSWORD", CFG_SECRET, F(admin_password), NULL, "required (dev: generated)", NULL, SEC_SECRETS,
     "Password of HTTP Basic `admin:<password>` for admin XRPC methods."},
    {"PDS_DPOP_SECRET", CFG_SECRET, F(dpop_secret), NULL, NULL, NULL, SEC_SECRETS,
     "Secret from which DPoP nonces are derived (every process of a host must agree); unset: derived from `PDS_JWT_SECRET`."},
    {"PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX", CFG_SECRET, F(plc_rotation_key_hex), NULL, "required (dev: generated)", NULL, SEC_SECRETS,
     "The PDS's PLC rotation key: hex of a raw 32-byte secp256k1 private key (`pds keygen`)."},

    {"LOG_LEVEL", CFG_STR, F(log_level), "info", NULL, NULL, SEC_LOG,
     "`error`, `warn`, `info` (one line per request) or `debug`. Lines go to stderr."},
};
/* clang-format on */

#undef F

const size_t config_table_len = ARRAY_LEN(config_table);

enum err config_fail(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return ERR_INVALID;
}
