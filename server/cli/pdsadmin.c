/* pdsadmin.c - the pdsadmin command: global options, help, dispatch, and the small helpers
 * every command uses (errors, prompts, random passwords, option parsing). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <curl/curl.h>

#include "cli/cli.h"

#define PROMPT_LINE_MAX 1024

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
    "  create-invite-code [--uses N]         a new invite code (default 1 use)\n"
    "  request-crawl [RELAY[,RELAY...]]      ask relays to crawl this PDS (default PDS_CRAWLERS)\n"
    "  status [--json]                       health, version, accounts, storage, firehose,\n"
    "                                        rate limits, event budget, relays\n"
    "  rate-limits [--json]                  every limit and its refusals, the event budget,\n"
    "                                        slowed accounts, overload, each relay's view\n"
    "  version                               this program's version\n"
    "  help                                  this text\n"
    "\n"
    "Settings come from the same place as the server's: the environment, else the env file\n"
    "(PDS_ENV_FILE, else " CLI_ENV_FILE_DEFAULT ", else " CLI_ENV_FILE_FALLBACK
    "). PDS_ADMIN_PASSWORD is the admin\n"
    "password; the server is PDS_ADMIN_URL, else http://localhost:<PDS_PORT>.\n"
    "Exit status: 0 done, 1 failed, 2 bad command line.\n";

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pdsadmin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_random_password(char out[CLI_PASSWORD_CHARS + 1])
{
    /* 62 symbols; bytes at or above 248 (= 4 * 62) are redrawn so every symbol is equally
     * likely: about 143 bits for 24 characters */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t filled = 0;
    while (filled < CLI_PASSWORD_CHARS) {
        unsigned char r[64];
        ssize_t n = getrandom(r, sizeof(r), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            abort(); /* no kernel randomness: nothing safe to do */
        }
        for (ssize_t i = 0; i < n && filled < CLI_PASSWORD_CHARS; i++) {
            if (r[i] < 248) {
                out[filled++] = alphabet[r[i] % 62];
            }
        }
        explicit_bzero(r, sizeof(r));
    }
    out[CLI_PASSWORD_CHARS] = '\0';
}

char *cli_prompt(const char *prompt)
{
    fputs(prompt, stderr);
    fflush(stderr);
    char line[PROMPT_LINE_MAX];
    if (!fgets(line, sizeof(line), stdin)) {
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return xstrndup(line, strlen(line));
}

bool cli_confirm(const char *question)
{
    char *answer = cli_prompt(question);
    bool yes = answer &&
               (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0);
    free(answer);
    return yes;
}

static void remove_arg(int *argc, char **argv, int i, int count)
{
    for (int k = i; k + count <= *argc; k++) {
        argv[k] = argv[k + count];
    }
    *argc -= count;
}

bool cli_take_flag(int *argc, char **argv, const char *name)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            remove_arg(argc, argv, i, 1);
            return true;
        }
    }
    return false;
}

int cli_take_option(int *argc, char **argv, const char *name, const char **value)
{
    *value = NULL;
    size_t n = strlen(name);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            if (i + 1 >= *argc) {
                cli_error("%s needs a value", name);
                return CLI_USAGE;
            }
            *value = argv[i + 1];
            remove_arg(argc, argv, i, 2);
            return CLI_OK;
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            *value = argv[i] + n + 1;
            remove_arg(argc, argv, i, 1);
            return CLI_OK;
        }
    }
    return CLI_OK;
}

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
