/* cli_config.c - pdsadmin's settings: the server's env file (KEY=VALUE lines, as systemd's
 * EnvironmentFile and docker's env_file read them), the environment, flags, and the
 * development secrets pds serve generates into its data directory. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ENV_LINE_MAX 4096 /* longer lines are skipped */

/* Settings pdsadmin reads from the file when the environment lacks them. */
static const char *const file_keys[] = {
    "PDS_HOSTNAME",  "PDS_PORT",           "PDS_ADMIN_PASSWORD", "PDS_CRAWLERS",
    "PDS_ADMIN_URL", "PDS_DATA_DIRECTORY", "PDS_LISTEN_ADDRESS",
};

struct file_values {
    char *v[sizeof(file_keys) / sizeof(file_keys[0])];
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) {
        s[--n] = '\0';
    }
    return s;
}

/* One line: "KEY=VALUE", "export KEY=VALUE", value optionally in matching quotes. */
static void parse_line(char *line, struct file_values *fv)
{
    char *s = trim(line);
    if (*s == '#' || *s == '\0') {
        return;
    }
    if (strncmp(s, "export ", 7) == 0) {
        s = trim(s + 7);
    }
    char *eq = strchr(s, '=');
    if (!eq) {
        return;
    }
    *eq = '\0';
    char *key = trim(s), *val = trim(eq + 1);
    size_t n = strlen(val);
    if (n >= 2 && (val[0] == '"' || val[0] == '\'') && val[n - 1] == val[0]) {
        val[n - 1] = '\0';
        val++;
    }
    for (size_t i = 0; i < ARRAY_LEN(file_keys); i++) {
        if (strcmp(key, file_keys[i]) == 0) {
            free(fv->v[i]);
            fv->v[i] = xstrndup(val, strlen(val));
        }
    }
}

/* Reads path into fv. ERR_NOT_FOUND when it does not exist; ERR_INTERNAL (printed) when it
 * cannot be read, e.g. without permission. */
static enum err read_env_file(const char *path, struct file_values *fv)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) {
            return ERR_NOT_FOUND;
        }
        cli_error("could not read \"%s\": %s", path, strerror(errno));
        return ERR_INTERNAL;
    }
    char line[ENV_LINE_MAX];
    while (fgets(line, sizeof(line), f)) {
        if (!strchr(line, '\n') && !feof(f)) {
            int ch; /* too long: skip the rest of it */
            while ((ch = fgetc(f)) != EOF && ch != '\n') {
            }
            continue;
        }
        parse_line(line, fv);
    }
    explicit_bzero(line, sizeof(line));
    fclose(f);
    return ERR_OK;
}

/* The file's value of key; NULL when absent or empty. */
static const char *file_value(const struct file_values *fv, const char *key)
{
    for (size_t i = 0; i < ARRAY_LEN(file_keys); i++) {
        if (strcmp(key, file_keys[i]) == 0 && fv->v[i] && *fv->v[i]) {
            return fv->v[i];
        }
    }
    return NULL;
}

/* The environment's value, else the file's; NULL when neither (empty counts as unset). */
static const char *setting(const struct file_values *fv, const char *key)
{
    const char *v = getenv(key);
    return v && *v ? v : file_value(fv, key);
}

static void file_values_clear(struct file_values *fv)
{
    for (size_t i = 0; i < ARRAY_LEN(file_keys); i++) {
        if (fv->v[i]) {
            explicit_bzero(fv->v[i], strlen(fv->v[i]));
            free(fv->v[i]);
            fv->v[i] = NULL;
        }
    }
}

static const char *keep(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

/* The admin password of a development server (hostname localhost or PDS_DEV_MODE), which
 * pds serve generates into <data directory>/secrets.env: the data directory found as the
 * server finds it (the environment, the env file, else the server's default, relative to the
 * working directory). A missing file is no error; c->secrets_file names it either way. */
static enum err read_dev_secrets(struct cli *c, const struct file_values *fv)
{
    const char *data = setting(fv, "PDS_DATA_DIRECTORY");
    c->secrets_file = xprintf("%s/%s", data ? data : CLI_DATA_DIR_DEFAULT, CLI_SECRETS_FILE);
    struct file_values secrets = {0};
    enum err e = read_env_file(c->secrets_file, &secrets);
    if (e == ERR_OK) {
        c->admin_password = keep(file_value(&secrets, "PDS_ADMIN_PASSWORD"));
    }
    file_values_clear(&secrets);
    return e == ERR_NOT_FOUND ? ERR_OK : e;
}

/* The server's URL when PDS_ADMIN_URL is not given: http://<host>:<PDS_PORT>, the host being
 * PDS_LISTEN_ADDRESS when that names one address, else localhost (the server's defaults,
 * loopback or every interface, both answer there). NULL (printed) on a bad setting. */
static char *default_url(const struct file_values *fv)
{
    const char *port = setting(fv, "PDS_PORT");
    char *end = NULL;
    long p = port ? strtol(port, &end, 10) : CLI_PORT_DEFAULT;
    if (port && (*end != '\0' || p < 1 || p > 65535)) {
        cli_error("PDS_PORT must be a port number, not \"%s\"", port);
        return NULL;
    }
    const char *listen = setting(fv, "PDS_LISTEN_ADDRESS");
    if (!listen) {
        return xprintf("http://localhost:%ld", p);
    }
    char addr[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(listen);
    if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']') { /* the server allows "[v6]" */
        listen++;
        n -= 2;
    }
    struct in_addr a4;
    struct in6_addr a6;
    snprintf(addr, sizeof addr, "%.*s", (int)n, listen);
    if (n < sizeof addr && inet_pton(AF_INET, addr, &a4) == 1) {
        return a4.s_addr != INADDR_ANY ? xprintf("http://%s:%ld", addr, p)
                                       : xprintf("http://localhost:%ld", p);
    }
    if (n < sizeof addr && inet_pton(AF_INET6, addr, &a6) == 1) {
        return !IN6_IS_ADDR_UNSPECIFIED(&a6) ? xprintf("http://[%s]:%ld", addr, p)
                                             : xprintf("http://localhost:%ld", p);
    }
    cli_error("PDS_LISTEN_ADDRESS must be an IP address, not \"%s\"", listen);
    return NULL;
}

int cli_config_resolve(struct cli *c, const char *env_file_flag)
{
    struct file_values fv = {0};
    int rc = CLI_FAIL;
    const char *named = env_file_flag ? env_file_flag : getenv("PDS_ENV_FILE");
    if (named && *named) {
        enum err e = read_env_file(named, &fv);
        if (e == ERR_NOT_FOUND) {
            cli_error("env file \"%s\" does not exist", named);
        }
        if (e) {
            goto out;
        }
        c->env_file = keep(named);
    } else {
        const char *candidates[] = {CLI_ENV_FILE_DEFAULT, CLI_ENV_FILE_FALLBACK};
        for (size_t i = 0; i < ARRAY_LEN(candidates) && !c->env_file; i++) {
            enum err e = read_env_file(candidates[i], &fv);
            if (e == ERR_OK) {
                c->env_file = keep(candidates[i]);
            } else if (e != ERR_NOT_FOUND) {
                goto out;
            }
        }
    }
    if (!c->admin_password) {
        c->admin_password = keep(setting(&fv, "PDS_ADMIN_PASSWORD"));
    }
    if (!c->admin_password && read_dev_secrets(c, &fv) != ERR_OK) {
        goto out;
    }
    c->hostname = keep(setting(&fv, "PDS_HOSTNAME"));
    c->crawlers = keep(setting(&fv, "PDS_CRAWLERS"));
    if (!c->url) {
        const char *u = setting(&fv, "PDS_ADMIN_URL");
        c->url = u ? keep(u) : default_url(&fv);
        if (!c->url) {
            goto out;
        }
    }
    /* a trailing "/" would double up in "<url>/xrpc/..." */
    char *u = (char *)c->url;
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/') {
        u[--n] = '\0';
    }
    rc = CLI_OK;
out:
    file_values_clear(&fv);
    return rc;
}

void cli_clear(struct cli *c)
{
    if (c->admin_password) {
        explicit_bzero((char *)c->admin_password, strlen(c->admin_password));
    }
    free((char *)c->url);
    free((char *)c->admin_password);
    free((char *)c->hostname);
    free((char *)c->crawlers);
    free((char *)c->env_file);
    free((char *)c->secrets_file);
    memset(c, 0, sizeof(*c));
}
