/* cli.h - pdsadmin, the operator's command line: its settings (flags, environment, the
 * server's env file), an HTTP client for the server's XRPC methods, and the commands.
 * Single-threaded; everything lives until the process exits. */
#ifndef PDS_CLI_CLI_H
#define PDS_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/bytes.h"
#include "core/err.h"

/* Exit codes. */
enum cli_exit {
    CLI_OK = 0,
    CLI_FAIL = 1,    /* the server said no, could not be reached, or a check failed */
    CLI_USAGE = 2,   /* a malformed command line */
    CLI_MISSING = 3, /* internal: a file that does not exist (never an exit code) */
};

#define CLI_ENV_FILE_DEFAULT   "/pds/pds.env"     /* the reference's */
#define CLI_ENV_FILE_FALLBACK  "/etc/pds/pds.env" /* deploy/install.sh's */
#define CLI_PORT_DEFAULT       2583               /* pds serve's PDS_PORT default */
#define CLI_DATA_DIR_DEFAULT   "./data"           /* pds serve's PDS_DATA_DIRECTORY default */
#define CLI_SECRETS_FILE       "secrets.env"      /* pds serve's generated dev secrets, in it */
#define CLI_PASSWORD_CHARS     24                 /* generated passwords, as the reference */
#define CLI_HTTP_TIMEOUT_MS    30000              /* one request, start to end */
#define CLI_CONNECT_TIMEOUT_MS 5000
#define CLI_RESPONSE_MAX_BYTES (16u << 20) /* largest JSON answer read */

/* Where and how to reach the server; every string is a heap copy (cli_clear frees). */
struct cli {
    const char *url;            /* base URL without a trailing "/", e.g. http://localhost:2583 */
    const char *admin_password; /* NULL when nowhere to be found */
    const char *hostname;       /* PDS_HOSTNAME, or NULL */
    const char *crawlers;       /* PDS_CRAWLERS (comma list), or NULL */
    const char *env_file;       /* the file read, or NULL */
    const char *secrets_file;   /* the data directory's secrets file looked in, or NULL */
    bool json;                  /* --json: machine-readable output */
    bool yes;                   /* --yes: skip confirmations */
};

/* Frees every string of c (all are heap copies). */
void cli_clear(struct cli *c);

/* cli_config.c: resolves the settings. Order: flags (already in c), then environment
 * variables, then the env file (PDS_ENV_FILE, else CLI_ENV_FILE_DEFAULT, else
 * CLI_ENV_FILE_FALLBACK; a file named explicitly must exist). The admin password last from
 * the development secrets pds serve generates (<PDS_DATA_DIRECTORY, else ./data>/secrets.env).
 * The URL: --url, PDS_ADMIN_URL, else http://<PDS_LISTEN_ADDRESS when one address, else
 * localhost>:<PDS_PORT, else 2583>. Returns CLI_OK or prints why and returns CLI_FAIL. */
int cli_config_resolve(struct cli *c, const char *env_file_flag);

/* cli_http.c: one XRPC call. nsid is the method; query a preformatted query string (may be
 * NULL, its values already escaped); body a JSON object for POST (NULL: GET). admin adds
 * HTTP Basic admin auth. On 2xx returns CLI_OK and *out gets the parsed JSON (an empty
 * object for an empty body; caller decrefs; out may be NULL). Otherwise prints a one-line
 * error naming the method (server down, wrong password, the server's error and message) and
 * returns CLI_FAIL. */
int cli_xrpc(const struct cli *c, const char *nsid, const char *query, json_t *body, bool admin,
             json_t **out);
/* Any URL (request-crawl to a relay, /xrpc/_health): as cli_xrpc but with a full URL;
 * *status gets the HTTP status (0 if none); errors are printed only when quiet is false. */
int cli_http(const struct cli *c, const char *url, json_t *body, bool admin, bool quiet,
             long *status, json_t **out);
/* Checks the admin password against the server (GET /xrpc/_status) before a command that
 * would otherwise only find out late; CLI_OK or CLI_FAIL (printed). */
int cli_check_admin(const struct cli *c);
/* value percent-encoded for a query string; malloc'd. */
char *cli_escape(const char *value);

/* cli_account.c */
int cli_account(struct cli *c, int argc, char **argv);
/* cli_migrate.c: account migrate-in, migrate-token, migrations; the status lines */
int cli_migrate_in(struct cli *c, int argc, char **argv);
int cli_migrate_token(struct cli *c, int argc, char **argv);
int cli_migrations(struct cli *c, int argc, char **argv);
/* The admin API's job list and counts (caller decrefs), NULL when it cannot be read. */
json_t *cli_migrations_status(struct cli *c);
/* Prints the counts and the open jobs of what cli_migrations_status returned. */
void cli_migrations_print(json_t *m);
/* cli_host.c */
int cli_status(struct cli *c, int argc, char **argv);
int cli_create_invite_code(struct cli *c, int argc, char **argv);
int cli_request_crawl(struct cli *c, int argc, char **argv);

/* cli_settings.c: the server's settings as the server reads them: the environment, then
 * the env file pdsadmin found; dflt (may be NULL) when neither has key. malloc'd. */
char *cli_server_setting(const struct cli *c, const char *key, const char *dflt);

/* Where the server keeps its state (every string malloc'd; cli_storage_clear frees). */
struct cli_storage {
    char *database_url;   /* PDS_DATABASE_URL, or the private cluster's conninfo */
    char *data_dir;       /* PDS_DATA_DIRECTORY (default ./data) */
    char *blob_dir;       /* PDS_BLOBSTORE_DISK_LOCATION (default <data>/blocks) */
    char *s3_bucket;      /* PDS_BLOBSTORE_S3_BUCKET, or NULL: blobs on disk */
    char *pg_bin_dir;     /* PDS_POSTGRES_BIN_DIR, or NULL */
    bool private_cluster; /* no PDS_DATABASE_URL: the cluster under <data>/postgres */
};
int cli_storage_resolve(const struct cli *c, struct cli_storage *out);
void cli_storage_clear(struct cli_storage *s);

/* cli_pgtool.c: the path of a PostgreSQL program (malloc'd); running one with args
 * (argv-style, NULL-terminated) and the connection conninfo (may be NULL) given in PG*
 * environment variables. quiet: its standard output is discarded. CLI_OK when it exited 0. */
char *cli_pg_program(const struct cli_storage *s, const char *name);
int cli_pg_run(const char *program, char *const *args, const char *conninfo, bool quiet);
/* The database name of a connection URL or conninfo (malloc'd; "pds" when it names none). */
char *cli_pg_dbname(const char *conninfo);

/* cli_files.c. Each returns CLI_OK, CLI_MISSING (source absent, not printed) or CLI_FAIL
 * (printed). cli_copy_file creates dst (never replacing one) and its directories. */
int cli_mkdirs(const char *path, unsigned mode);
int cli_copy_file(const char *src, const char *dst, unsigned mode, uint8_t sha[32], uint64_t *size);
int cli_hash_file(const char *path, uint8_t sha[32], uint64_t *size);
int cli_write_file(const char *path, const char *text, unsigned mode);
void cli_hex(const uint8_t *p, size_t n, char *out); /* out: 2n + 1 bytes */
/* Hex text to bytes (at most max); false when malformed or too long. */
bool cli_unhex(const char *s, uint8_t *out, size_t max, size_t *n);
/* The SHA-256 digest a CID names (blobs: the hash of their bytes), NULL for another hash. */
struct cid;
const uint8_t *cli_cid_sha256(const struct cid *cid);

/* cli_backup.c, cli_restore.c, cli_doctor.c */
int cli_backup(struct cli *c, int argc, char **argv);
int cli_restore(struct cli *c, int argc, char **argv);
int cli_verify_backup(struct cli *c, int argc, char **argv);
int cli_doctor(struct cli *c, int argc, char **argv);

/* cli_limits.c: the rate-limit lines of `status` (from /xrpc/_status's rateLimits), and
 * `pdsadmin rate-limits`. */
void cli_print_limits_summary(json_t *rate_limits);
int cli_rate_limits(struct cli *c, int argc, char **argv);

/* cli_common.c: the helpers every command uses. */
/* Prints "pdsadmin: <message>" to stderr. */
void cli_error(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* A new random password of CLI_PASSWORD_CHARS letters and digits (kernel randomness). */
void cli_random_password(char out[CLI_PASSWORD_CHARS + 1]);
/* Asks question on stderr and reads a line from stdin; true for "y" or "yes". */
bool cli_confirm(const char *question);
/* Reads a line from stdin after prompting on stderr; malloc'd, NULL at end of input. */
char *cli_prompt(const char *prompt);
/* Removes argv[i] for the boolean flag name (anywhere after the command); true if found. */
bool cli_take_flag(int *argc, char **argv, const char *name);
/* Removes "--name value" or "--name=value"; *value gets it (NULL if absent). CLI_USAGE
 * (printed) when the value is missing. */
int cli_take_option(int *argc, char **argv, const char *name, const char **value);

#endif
