/* pdsadmin.c - the pdsadmin command: global options, help and dispatch to the commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"

static const char usage_text[] =
    "usage: pdsadmin [--url URL] [--admin-password PW] [--env-file FILE] <command> [args]\n"
    "\n"
    "Commands:\n"
    "  account list [--json]                 every account: handle, email, DID, status\n"
    "  account create [EMAIL] [HANDLE]       a new account (one-use invite made if needed);\n"
    "                                        prints its password once\n"
    "  account delete <DID> [--yes]          delete an account and all its data\n"
    "  account takedown <DID> [--ref REF]    take an account down\n"
    "  account untakedown <DID>              lift a takedown\n"
    "  account reset-password <DID>          set and print a new random password\n"
    "  account info <DID|HANDLE> [--json]    details, status and storage of one account\n"
    "  account migrate-in --handle H [--from URL] [--new-handle H] [--invite-code C]\n"
    "                                        move an account here (the user's password on\n"
    "                                        stdin); runs until the emailed code is needed\n"
    "  account migrate-token <ID> <CODE>     give that code; runs the move to its end\n"
    "  account migrations [--json]           migration jobs, newest first\n"
    "  create-invite-code [--uses N]         a new invite code (default 1 use)\n"
    "  request-crawl [RELAY[,RELAY...]]      ask relays to crawl this PDS (default PDS_CRAWLERS)\n"
    "  status [--json]                       health, version, accounts, storage, firehose,\n"
    "                                        rate limits, event budget, relays\n"
    "  rate-limits [--json]                  every limit and its refusals, the event budget,\n"
    "                                        slowed accounts, overload, each relay's view\n"
    "  doctor [--mail-to ADDR] [--json]      check DNS, TLS, PLC, relays, email, clock, disk;\n"
    "         [--https-port N] [--ca-file F] each failure says what is wrong and how to fix it\n"
    "  backup DIR                            a consistent snapshot while the server runs:\n"
    "                                        database, blobs, secrets, manifest\n"
    "  verify-backup DIR                     check a backup's checksums without restoring it\n"
    "  restore DIR                           restore into a fresh PDS_DATA_DIRECTORY and an\n"
    "                                        empty PDS_DATABASE_URL (or a new private cluster)\n"
    "  version                               this program's version\n"
    "  help                                  this text\n"
    "\n"
    "Settings come from the same place as the server's: the environment, else the env file\n"
    "(PDS_ENV_FILE, else " CLI_ENV_FILE_DEFAULT ", else " CLI_ENV_FILE_FALLBACK
    "). PDS_ADMIN_PASSWORD is the admin\n"
    "password, else the one a development server generated into "
    "<PDS_DATA_DIRECTORY>/" CLI_SECRETS_FILE
    "\n(the data directory defaults to " CLI_DATA_DIR_DEFAULT
    ", as the server's). The server is PDS_ADMIN_URL, else\n"
    "http://localhost:<PDS_PORT> (or PDS_LISTEN_ADDRESS when that names one address).\n"
    "Exit status: 0 done, 1 failed, 2 bad command line.\n";

/* Global options before the command: --url, --admin-password, --env-file. Consumes them;
 * returns the index of the command, or -1 (printed) on a bad option. */
static int global_options(int argc, char **argv, struct cli *c, const char **env_file)
{
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        const char *opt = argv[i], *eq = strchr(opt, '=');
        size_t name_len = eq ? (size_t)(eq - opt) : strlen(opt);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        const char **slot = NULL;
        if (name_len == 5 && strncmp(opt, "--url", 5) == 0) {
            slot = &c->url;
        } else if (name_len == 16 && strncmp(opt, "--admin-password", 16) == 0) {
            slot = &c->admin_password;
        } else if (name_len == 10 && strncmp(opt, "--env-file", 10) == 0) {
            slot = env_file;
        } else if (strcmp(opt, "--help") == 0) {
            return argc; /* help */
        } else if (strcmp(opt, "--version") == 0) {
            return -2;
        } else {
            cli_error("unknown option \"%s\"", opt);
            return -1;
        }
        if (!val) {
            cli_error("%.*s needs a value", (int)name_len, opt);
            return -1;
        }
        *slot = xstrndup(val, strlen(val));
        i += eq ? 1 : 2;
    }
    return i;
}

/* The command's function, NULL when unknown. */
static int (*command_of(const char *cmd))(struct cli *, int, char **)
{
    if (strcmp(cmd, "account") == 0) {
        return cli_account;
    }
    if (strcmp(cmd, "status") == 0) {
        return cli_status;
    }
    if (strcmp(cmd, "create-invite-code") == 0) {
        return cli_create_invite_code;
    }
    if (strcmp(cmd, "request-crawl") == 0) {
        return cli_request_crawl;
    }
    if (strcmp(cmd, "backup") == 0) {
        return cli_backup;
    }
    if (strcmp(cmd, "restore") == 0) {
        return cli_restore;
    }
    if (strcmp(cmd, "verify-backup") == 0) {
        return cli_verify_backup;
    }
    if (strcmp(cmd, "doctor") == 0) {
        return cli_doctor;
    }
    if (strcmp(cmd, "rate-limits") == 0) {
        return cli_rate_limits;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    const char *env_file = NULL;
    int rc = CLI_OK;
    int i = global_options(argc, argv, &c, &env_file);
    if (i == -1) {
        fputs(usage_text, stderr);
        rc = CLI_USAGE;
    } else if (i == -2 || (i < argc && strcmp(argv[i], "version") == 0)) {
        printf("pdsadmin %s\n", PDS_VERSION);
    } else if (i >= argc || strcmp(argv[i], "help") == 0 || strcmp(argv[i], "-h") == 0) {
        fputs(usage_text, stdout);
    } else if (!command_of(argv[i])) {
        cli_error("unknown command \"%s\" (see pdsadmin help)", argv[i]);
        rc = CLI_USAGE;
    } else {
        int sub_argc = argc - i;
        char **sub_argv = argv + i;
        c.json = cli_take_flag(&sub_argc, sub_argv, "--json");
        c.yes =
            cli_take_flag(&sub_argc, sub_argv, "--yes") || cli_take_flag(&sub_argc, sub_argv, "-y");
        rc = cli_config_resolve(&c, env_file);
        if (rc == CLI_OK) {
            rc = command_of(argv[i])(&c, sub_argc, sub_argv);
        }
    }
    cli_clear(&c);
    free((char *)env_file);
    curl_global_cleanup();
    return rc;
}
