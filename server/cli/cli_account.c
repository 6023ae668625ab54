/* cli_account.c - `pdsadmin account ...`: list (every account, paged), create, delete,
 * takedown, untakedown, reset-password, info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

#define LIST_PAGE   1000 /* sync.listRepos page (its maximum) */
#define INFOS_CHUNK 100  /* DIDs per admin.getAccountInfos call (URL length) */
#define QUERY_MAX   (INFOS_CHUNK * 3 * 2048)

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- account list ---- */

/* Adds {did, handle, email, status, ...} for each repo of page to rows, joining the admin
 * view of each account. */
static int list_page(struct cli *c, json_t *repos, json_t *rows)
{
    size_t n = json_array_size(repos);
    for (size_t start = 0; start < n; start += INFOS_CHUNK) {
        size_t end = start + INFOS_CHUNK < n ? start + INFOS_CHUNK : n;
        char *query = xmalloc(QUERY_MAX);
        size_t used = 0;
        query[0] = '\0';
        for (size_t i = start; i < end; i++) {
            char *e = cli_escape(jstr(json_array_get(repos, i), "did"));
            used +=
                (size_t)snprintf(query + used, QUERY_MAX - used, "%sdids=%s", used ? "&" : "", e);
            free(e);
        }
        json_t *infos;
        int rc = cli_xrpc(c, "com.atproto.admin.getAccountInfos", query, NULL, true, &infos);
        free(query);
        if (rc != CLI_OK) {
            return rc;
        }
        json_t *list = json_object_get(infos, "infos");
        for (size_t i = start; i < end; i++) {
            json_t *repo = json_array_get(repos, i), *info = NULL;
            const char *did = jstr(repo, "did");
            for (size_t k = 0; k < json_array_size(list); k++) {
                if (strcmp(jstr(json_array_get(list, k), "did"), did) == 0) {
                    info = json_array_get(list, k);
                }
            }
            json_t *active = json_object_get(repo, "active");
            const char *status = json_is_false(active) ? jstr(repo, "status") : "active";
            json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s}", "did", did, "handle",
                                    info ? jstr(info, "handle") : "", "email",
                                    info ? jstr(info, "email") : "", "status",
                                    *status ? status : "inactive", "rev", jstr(repo, "rev"));
            if (info) {
                json_object_set_new(row, "createdAt", json_string(jstr(info, "indexedAt")));
                json_object_set(row, "repoBytes", json_object_get(info, "repoBytes"));
                json_object_set(row, "blobBytes", json_object_get(info, "blobBytes"));
            }
            json_array_append_new(rows, row);
        }
        json_decref(infos);
    }
    return CLI_OK;
}

static void print_table(json_t *rows)
{
    static const char *const cols[] = {"handle", "email", "did", "status"};
    static const char *const titles[] = {"Handle", "Email", "DID", "Status"};
    int w[4];
    for (size_t k = 0; k < 4; k++) {
        w[k] = (int)strlen(titles[k]);
        for (size_t i = 0; i < json_array_size(rows); i++) {
            int len = (int)strlen(jstr(json_array_get(rows, i), cols[k]));
            w[k] = len > w[k] ? len : w[k];
        }
    }
    printf("%-*s  %-*s  %-*s  %s\n", w[0], titles[0], w[1], titles[1], w[2], titles[2], titles[3]);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *r = json_array_get(rows, i);
        printf("%-*s  %-*s  %-*s  %s\n", w[0], jstr(r, "handle"), w[1], jstr(r, "email"), w[2],
               jstr(r, "did"), jstr(r, "status"));
    }
    printf("(%zu account%s)\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
}

static int account_list(struct cli *c, int argc, char **argv)
{
    if (argc != 2) {
        cli_error("usage: pdsadmin account list [--json]");
        return CLI_USAGE;
    }
    /* an empty server would never ask an admin method: check the password first */
    int rc = cli_check_admin(c);
    if (rc != CLI_OK) {
        return rc;
    }
    json_t *rows = json_array();
    char *cursor = NULL;
    do {
        char query[4096];
        char *e = cursor ? cli_escape(cursor) : NULL;
        snprintf(query, sizeof(query), "limit=%d%s%s", LIST_PAGE, e ? "&cursor=" : "", e ? e : "");
        free(e);
        json_t *page;
        rc = cli_xrpc(c, "com.atproto.sync.listRepos", query, NULL, false, &page);
        if (rc == CLI_OK) {
            rc = list_page(c, json_object_get(page, "repos"), rows);
            free(cursor);
            const char *next = json_string_value(json_object_get(page, "cursor"));
            /* a cursor with an empty page would loop forever on a broken server */
            cursor = next && json_array_size(json_object_get(page, "repos")) > 0
                         ? xstrndup(next, strlen(next))
                         : NULL;
            json_decref(page);
        }
    } while (rc == CLI_OK && cursor);
    free(cursor);
    if (rc == CLI_OK) {
        if (c->json) {
            json_dumpf(rows, stdout, JSON_INDENT(2));
            putchar('\n');
        } else {
            print_table(rows);
        }
    }
    json_decref(rows);
    return rc;
}

/* ---- account create ---- */

/* The positional argument i, or a line read from a terminal. NULL: missing. */
static char *arg_or_prompt(int argc, char **argv, int i, const char *prompt)
{
    if (i < argc) {
        return xstrndup(argv[i], strlen(argv[i]));
    }
    if (!isatty(STDIN_FILENO)) {
        return NULL;
    }
    char *line = cli_prompt(prompt);
    if (line && !*line) {
        free(line);
        return NULL;
    }
    return line;
}

static int account_create(struct cli *c, int argc, char **argv)
{
    if (argc > 4) {
        cli_error("usage: pdsadmin account create [EMAIL] [HANDLE]");
        return CLI_USAGE;
    }
    char *email = arg_or_prompt(argc, argv, 2, "Enter an email address (e.g. alice@example.com): ");
    char *handle =
        email ? arg_or_prompt(argc, argv, 3, "Enter a handle (e.g. alice.example.com): ") : NULL;
    if (!email || !handle) {
        free(email);
        cli_error("usage: pdsadmin account create EMAIL HANDLE");
        return CLI_USAGE;
    }
    json_t *desc = NULL, *invite = NULL, *made = NULL;
    int rc = cli_xrpc(c, "com.atproto.server.describeServer", NULL, NULL, false, &desc);
    /* a bare name gets the server's first handle domain: "alice" -> "alice.example.com" */
    const char *domain =
        json_string_value(json_array_get(json_object_get(desc, "availableUserDomains"), 0));
    if (rc == CLI_OK && !strchr(handle, '.') && domain) {
        size_t n = strlen(handle) + strlen(domain) + 1;
        char *full = xmalloc(n);
        snprintf(full, n, "%s%s", handle, domain);
        free(handle);
        handle = full;
    }
    const char *code = NULL;
    if (rc == CLI_OK && json_is_true(json_object_get(desc, "inviteCodeRequired"))) {
        json_t *req = json_pack("{s:i}", "useCount", 1);
        rc = cli_xrpc(c, "com.atproto.server.createInviteCode", NULL, req, true, &invite);
        json_decref(req);
        code = json_string_value(json_object_get(invite, "code"));
    }
    char password[CLI_PASSWORD_CHARS + 1];
    cli_random_password(password);
    if (rc == CLI_OK) {
        json_t *req =
            json_pack("{s:s,s:s,s:s}", "email", email, "handle", handle, "password", password);
        if (code) {
            json_object_set_new(req, "inviteCode", json_string(code));
        }
        rc = cli_xrpc(c, "com.atproto.server.createAccount", NULL, req, false, &made);
        json_decref(req);
    }
    if (rc == CLI_OK) {
        if (c->json) {
            json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "did", jstr(made, "did"), "handle",
                                  jstr(made, "handle"), "email", email, "password", password);
            json_dumpf(o, stdout, JSON_INDENT(2));
            putchar('\n');
            json_decref(o);
        } else {
            printf("Account created.\n"
                   "  Handle:   %s\n  DID:      %s\n  Password: %s\n"
                   "Save this password now: it will not be shown again.\n",
                   jstr(made, "handle"), jstr(made, "did"), password);
        }
    }
    explicit_bzero(password, sizeof(password));
    json_decref(desc);
    json_decref(invite);
    json_decref(made);
    free(email);
    free(handle);
    return rc;
}

/* ---- commands on one account ---- */

/* argv[2] must be a DID and the only argument. */
static int one_did(int argc, char **argv, const char *usage, const char **did)
{
    if (argc != 3) {
        cli_error("usage: pdsadmin account %s", usage);
        return CLI_USAGE;
    }
    if (strncmp(argv[2], "did:", 4) != 0) {
        cli_error("\"%s\" is not a DID (did:plc:... or did:web:...)", argv[2]);
        return CLI_USAGE;
    }
    *did = argv[2];
    return CLI_OK;
}

static int account_delete(struct cli *c, int argc, char **argv)
{
    const char *did;
    int rc = one_did(argc, argv, "delete <DID> [--yes]", &did);
    if (rc != CLI_OK) {
        return rc;
    }
    if (!c->yes) {
        fprintf(stderr, "This deletes %s and all its data: repository, blobs, sessions.\n", did);
        if (!cli_confirm("Are you sure? [y/N] ")) {
            cli_error("not deleted");
            return CLI_FAIL;
        }
    }
    json_t *req = json_pack("{s:s}", "did", did);
    rc = cli_xrpc(c, "com.atproto.admin.deleteAccount", NULL, req, true, NULL);
    json_decref(req);
    if (rc == CLI_OK) {
        printf("Deleted %s\n", did);
    }
    return rc;
}

static int set_takedown(struct cli *c, int argc, char **argv, bool applied)
{
    const char *ref = NULL, *did;
    int rc = applied ? cli_take_option(&argc, argv, "--ref", &ref) : CLI_OK;
    if (rc != CLI_OK ||
        (rc = one_did(argc, argv, applied ? "takedown <DID> [--ref REF]" : "untakedown <DID>",
                      &did)) != CLI_OK) {
        return rc;
    }
    char now[32];
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL)); /* the reference's ref */
    json_t *req =
        json_pack("{s:{s:s,s:s},s:{s:b}}", "subject", "$type", "com.atproto.admin.defs#repoRef",
                  "did", did, "takedown", "applied", applied);
    if (applied) {
        json_object_set_new(json_object_get(req, "takedown"), "ref", json_string(ref ? ref : now));
    }
    rc = cli_xrpc(c, "com.atproto.admin.updateSubjectStatus", NULL, req, true, NULL);
    json_decref(req);
    if (rc == CLI_OK) {
        printf("%s %s\n", applied ? "Took down" : "Restored", did);
    }
    return rc;
}

static int account_reset_password(struct cli *c, int argc, char **argv)
{
    const char *did;
    int rc = one_did(argc, argv, "reset-password <DID>", &did);
    if (rc != CLI_OK) {
        return rc;
    }
    char password[CLI_PASSWORD_CHARS + 1];
    cli_random_password(password);
    json_t *req = json_pack("{s:s,s:s}", "did", did, "password", password);
    rc = cli_xrpc(c, "com.atproto.admin.updateAccountPassword", NULL, req, true, NULL);
    json_decref(req);
    if (rc == CLI_OK) {
        printf("Password reset for %s (its sessions were signed out).\n"
               "  New password: %s\n",
               did, password);
    }
    explicit_bzero(password, sizeof(password));
    return rc;
}

/* The DID of a handle, asking the server (resolveHandle, else describeRepo as the admin). */
static char *did_of(struct cli *c, const char *ident)
{
    if (strncmp(ident, "did:", 4) == 0) {
        return xstrndup(ident, strlen(ident));
    }
    static const char *const methods[] = {"com.atproto.identity.resolveHandle?handle=",
                                          "com.atproto.repo.describeRepo?repo="};
    char *e = cli_escape(ident), *did = NULL;
    for (size_t i = 0; i < 2 && !did; i++) {
        size_t n = strlen(c->url) + strlen(methods[i]) + strlen(e) + 8;
        char *url = xmalloc(n);
        snprintf(url, n, "%s/xrpc/%s%s", c->url, methods[i], e);
        long status;
        json_t *out = NULL;
        if (cli_http(c, url, NULL, i == 1, true, &status, &out) == CLI_OK &&
            json_string_value(json_object_get(out, "did"))) {
            did = xstrndup(jstr(out, "did"), strlen(jstr(out, "did")));
        }
        json_decref(out);
        free(url);
    }
    free(e);
    if (!did) {
        cli_error("no account found for \"%s\"", ident);
    }
    return did;
}

static void print_info(json_t *info, json_t *subject, json_t *repo)
{
    json_t *td = json_object_get(subject, "takedown");
    const char *status =
        json_is_false(json_object_get(repo, "active")) ? jstr(repo, "status") : "active";
    printf("DID:              %s\n", jstr(info, "did"));
    printf("Handle:           %s\n", jstr(info, "handle"));
    printf("Email:            %s%s\n", jstr(info, "email"),
           json_object_get(info, "emailConfirmedAt") ? " (confirmed)" : "");
    printf("Created:          %s\n", jstr(info, "indexedAt"));
    printf("Status:           %s\n", *status ? status : "inactive");
    if (json_is_true(json_object_get(td, "applied"))) {
        printf("Takedown ref:     %s\n", jstr(td, "ref"));
    }
    if (json_object_get(info, "deactivatedAt")) {
        printf("Deactivated:      %s\n", jstr(info, "deactivatedAt"));
    }
    printf("Repo rev:         %s\n", jstr(repo, "rev"));
    printf("Repo bytes:       %lld\n",
           (long long)json_integer_value(json_object_get(info, "repoBytes")));
    printf("Blob bytes:       %lld\n",
           (long long)json_integer_value(json_object_get(info, "blobBytes")));
    printf("Invites disabled: %s\n",
           json_is_true(json_object_get(info, "invitesDisabled")) ? "yes" : "no");
    printf("Invite codes:     %zu\n", json_array_size(json_object_get(info, "invites")));
    json_t *by = json_object_get(info, "invitedBy");
    if (by) {
        printf("Invited with:     %s (from %s)\n", jstr(by, "code"), jstr(by, "forAccount"));
    }
}

static int account_info(struct cli *c, int argc, char **argv)
{
    if (argc != 3) {
        cli_error("usage: pdsadmin account info <DID|HANDLE> [--json]");
        return CLI_USAGE;
    }
    char *did = did_of(c, argv[2]);
    if (!did) {
        return CLI_FAIL;
    }
    char *e = cli_escape(did);
    size_t n = strlen(e) + 8;
    char *query = xmalloc(n);
    snprintf(query, n, "did=%s", e);
    json_t *info = NULL, *subject = NULL, *repo = NULL;
    int rc = cli_xrpc(c, "com.atproto.admin.getAccountInfo", query, NULL, true, &info);
    if (rc == CLI_OK) {
        rc = cli_xrpc(c, "com.atproto.admin.getSubjectStatus", query, NULL, true, &subject);
    }
    if (rc == CLI_OK) {
        rc = cli_xrpc(c, "com.atproto.sync.getRepoStatus", query, NULL, false, &repo);
    }
    if (rc == CLI_OK && c->json) {
        json_t *o = json_pack("{s:O,s:O,s:O}", "account", info, "subjectStatus", subject,
                              "repoStatus", repo);
        json_dumpf(o, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(o);
    } else if (rc == CLI_OK) {
        print_info(info, subject, repo);
    }
    json_decref(info);
    json_decref(subject);
    json_decref(repo);
    free(query);
    free(e);
    free(did);
    return rc;
}

int cli_account(struct cli *c, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0) {
        return account_list(c, argc, argv);
    }
    if (strcmp(sub, "create") == 0) {
        return account_create(c, argc, argv);
    }
    if (strcmp(sub, "delete") == 0) {
        return account_delete(c, argc, argv);
    }
    if (strcmp(sub, "takedown") == 0) {
        return set_takedown(c, argc, argv, true);
    }
    if (strcmp(sub, "untakedown") == 0) {
        return set_takedown(c, argc, argv, false);
    }
    if (strcmp(sub, "reset-password") == 0) {
        return account_reset_password(c, argc, argv);
    }
    if (strcmp(sub, "info") == 0) {
        return account_info(c, argc, argv);
    }
    if (strcmp(sub, "migrate-in") == 0) {
        return cli_migrate_in(c, argc, argv);
    }
    if (strcmp(sub, "migrate-token") == 0) {
        return cli_migrate_token(c, argc, argv);
    }
    if (strcmp(sub, "migrations") == 0) {
        return cli_migrations(c, argc, argv);
    }
    cli_error("usage: pdsadmin account list|create|delete|takedown|untakedown|reset-password|info|"
              "migrate-in|migrate-token|migrations");
    return CLI_USAGE;
}
