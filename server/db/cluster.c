/* cluster.c - initdb / pg_ctl management of the private cluster, as the postgres user when we
 * are root. Commands run in their own session so a terminal's Ctrl-C reaches only us. */
#include "db/cluster.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/bytes.h"
#include "db/db.h"
#include "db/log.h"

#define CLUSTER_OS_USER    "postgres" /* owner of the cluster when the server runs as root */
#define CLUSTER_CONF       "pds.conf" /* our settings, rewritten at every start */
#define CLUSTER_LOG        "postgres.log"
#define CLUSTER_CMD_LOG    "commands.log" /* output of initdb and pg_ctl */
#define CLUSTER_DB_WAIT_MS 30000

/* Settings for a small PDS. fsync and synchronous_commit stay on: an acknowledged write must
 * survive a power cut. The socket directory is added at run time. */
static const char cluster_settings[] =
    "listen_addresses = ''\n"          /* no TCP at all: only the Unix socket */
    "unix_socket_permissions = 0700\n" /* only the cluster's owner (and root) may connect */
    "max_connections = 100\n"          /* worker threads of a few processes, plus tools */
    "shared_buffers = 128MB\n"
    "effective_cache_size = 512MB\n"
    "work_mem = 4MB\n"
    "maintenance_work_mem = 64MB\n"
    "fsync = on\n"
    "synchronous_commit = on\n"
    "full_page_writes = on\n"
    "wal_compression = lz4\n" /* full-page images: pglz ('on') cost 3% of all CPU under writes */
    "max_wal_size = 1GB\n"
    "timezone = 'UTC'\n"
    "log_timezone = 'UTC'\n"
    "log_min_messages = warning\n";

static bool is_executable(const char *path)
{
    return access(path, X_OK) == 0;
}

/* Newest /usr/lib/postgresql/<major>[.<minor>]/bin that has initdb and pg_ctl. */
static char *find_bin_dir(void)
{
    DIR *d = opendir(CLUSTER_PG_ROOT);
    if (!d) {
        return NULL;
    }
    long best_major = -1, best_minor = -1;
    char *best = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long major = strtol(e->d_name, &end, 10);
        long minor = 0;
        if (end == e->d_name) {
            continue;
        }
        if (*end == '.') {
            minor = strtol(end + 1, &end, 10);
        }
        if (*end != '\0') {
            continue;
        }
        char *bin = xprintf("%s/%s/bin", CLUSTER_PG_ROOT, e->d_name);
        char *initdb = xprintf("%s/initdb", bin);
        char *pg_ctl = xprintf("%s/pg_ctl", bin);
        bool ok = is_executable(initdb) && is_executable(pg_ctl);
        free(initdb);
        free(pg_ctl);
        if (ok && (major > best_major || (major == best_major && minor > best_minor))) {
            free(best);
            best = bin;
            best_major = major;
            best_minor = minor;
        } else {
            free(bin);
        }
    }
    closedir(d);
    return best;
}

/* Runs argv[0] (an absolute path) and waits; output goes to <root>/commands.log. As root the
 * child becomes the postgres user first. Returns the exit status, or -1 if it could not run. */
static int run_cmd(const struct cluster *c, char *const argv[])
{
    char *log_path = xprintf("%s/%s", c->root, CLUSTER_CMD_LOG);
    pid_t pid = fork();
    if (pid < 0) {
        log_error(NULL, "could not fork: %s", strerror(errno));
        free(log_path);
        return -1;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls until exec. The server blocks SIGINT/SIGTERM for its
         * signal thread; a postmaster started with them blocked could not be stopped. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        setsid();
        if (c->_switch_user) {
            if (setgroups(1, &c->_gid) != 0 || setgid(c->_gid) != 0 || setuid(c->_uid) != 0) {
                _exit(126);
            }
        }
        if (chdir(c->root) != 0) {
            _exit(126);
        }
        int devnull = open("/dev/null", O_RDONLY);
        int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (devnull >= 0) {
            dup2(devnull, STDIN_FILENO);
        }
        if (out >= 0) {
            dup2(out, STDOUT_FILENO);
            dup2(out, STDERR_FILENO);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    free(log_path);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return -1;
        }
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Whether the postgres user can enter dir: a cluster under /root (mode 0700) cannot work. */
static bool user_can_enter(const struct cluster *c, const char *dir)
{
    if (!c->_switch_user) {
        return access(dir, R_OK | W_OK | X_OK) == 0;
    }
    pid_t pid = fork();
    if (pid < 0) {
        return false;
    }
    if (pid == 0) {
        if (setgroups(1, &c->_gid) != 0 || setgid(c->_gid) != 0 || setuid(c->_uid) != 0) {
            _exit(1);
        }
        _exit(access(dir, R_OK | W_OK | X_OK) == 0 ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            return false;
        }
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static uid_t chown_uid;
static gid_t chown_gid;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, chown_uid, chown_gid) == 0 ? 0 : -1;
}

static enum err make_dir_owned(const struct cluster *c, const char *dir)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        log_error(NULL, "could not create directory \"%s\": %s", dir, strerror(errno));
        return ERR_INTERNAL;
    }
    if (c->_switch_user && chown(dir, c->_uid, c->_gid) != 0) {
        log_error(NULL, "could not give \"%s\" to the postgres user: %s", dir, strerror(errno));
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

static enum err make_parents(const char *path)
{
    char tmp[PATH_MAX];
    if (strlen(path) >= sizeof tmp) {
        return ERR_TOO_LARGE;
    }
    memcpy(tmp, path, strlen(path) + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
                return ERR_INTERNAL;
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

/* Settings file, rewritten at every start so new releases can change them. */
static enum err write_settings(const struct cluster *c)
{
    char *path = xprintf("%s/%s", c->pgdata, CLUSTER_CONF);
    enum err e = ERR_OK;
    FILE *f = fopen(path, "w");
    if (!f) {
        log_error(NULL, "could not write \"%s\": %s", path, strerror(errno));
        free(path);
        return ERR_INTERNAL;
    }
    fprintf(f, "# Written by pds at every start (server/db/cluster.c): edits are lost.\n"
               "# Put your own settings in postgresql.auto.conf (ALTER SYSTEM).\n");
    fputs(cluster_settings, f);
    fprintf(f, "port = %d\n", CLUSTER_PORT);
    fputs("unix_socket_directories = '", f);
    for (const char *p = c->socket_dir; *p; p++) {
        if (*p == '\'') {
            fputc('\'', f); /* quotes double inside a quoted setting */
        }
        fputc(*p, f);
    }
    fputs("'\n", f);
    if (fclose(f) != 0) {
        e = ERR_INTERNAL;
    }
    if (e == ERR_OK && c->_switch_user && chown(path, c->_uid, c->_gid) != 0) {
        e = ERR_INTERNAL;
    }
    free(path);
    return e;
}

static enum err init_cluster(const struct cluster *c)
{
    char *initdb = xprintf("%s/initdb", c->bin_dir);
    char *const argv[] = {initdb,
                          "-D",
                          c->pgdata,
                          "-U",
                          CLUSTER_SUPERUSER,
                          "-E",
                          "UTF8",
                          "--locale=C", /* bytewise collation: our keys sort as bytes */
                          "--data-checksums",
                          "--auth-local=trust", /* the socket directory's mode is the lock */
                          "--auth-host=reject",
                          NULL};
    log_info(NULL, "creating a private PostgreSQL cluster in %s", c->pgdata);
    int st = run_cmd(c, argv);
    free(initdb);
    if (st != 0) {
        log_error(NULL, "initdb failed (status %d): see %s/%s", st, c->root, CLUSTER_CMD_LOG);
        return ERR_INTERNAL;
    }
    char *conf = xprintf("%s/postgresql.conf", c->pgdata);
    FILE *f = fopen(conf, "a");
    bool ok = f && fprintf(f, "\ninclude_if_exists = '%s'\n", CLUSTER_CONF) > 0;
    ok = f && fclose(f) == 0 && ok;
    if (!ok) {
        log_error(NULL, "could not extend \"%s\"", conf);
    }
    free(conf);
    return ok ? ERR_OK : ERR_INTERNAL;
}

static int pg_ctl(const struct cluster *c, const char *action)
{
    char *bin = xprintf("%s/pg_ctl", c->bin_dir);
    char *logfile = xprintf("%s/%s", c->root, CLUSTER_LOG);
    char wait_s[16];
    snprintf(wait_s, sizeof wait_s, "%d", CLUSTER_START_WAIT_S);
    int st;
    if (strcmp(action, "status") == 0) {
        char *const argv[] = {bin, "status", "-D", c->pgdata, NULL};
        st = run_cmd(c, argv);
    } else if (strcmp(action, "start") == 0) {
        char *const argv[] = {bin,  "start", "-D",   c->pgdata, "-l", logfile,
                              "-w", "-t",    wait_s, "-s",      NULL};
        st = run_cmd(c, argv);
    } else {
        char *const argv[] = {bin,  "stop", "-D",   c->pgdata, "-m", "fast",
                              "-w", "-t",   wait_s, "-s",      NULL};
        st = run_cmd(c, argv);
    }
    free(bin);
    free(logfile);
    return st;
}

/* Percent-encodes a path for the host= parameter of a postgresql:// URL. */
static char *url_escape(const char *s)
{
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~", *p);
        enum err e = plain ? buf_append_byte(&b, *p) : buf_appendf(&b, "%%%02X", *p);
        if (e) {
            abort(); /* a path never passes 64 MiB */
        }
    }
    size_t n;
    char *out = (char *)buf_take(&b, &n);
    return out ? out : xstrndup("", 0);
}

static enum err create_database(struct cluster *c)
{
    char *host = url_escape(c->socket_dir);
    char *admin_url = xprintf("postgresql:///postgres?host=%s&port=%d&user=%s", host, CLUSTER_PORT,
                              CLUSTER_SUPERUSER);
    c->url = xprintf("postgresql:///%s?host=%s&port=%d&user=%s", CLUSTER_DB_NAME, host,
                     CLUSTER_PORT, CLUSTER_SUPERUSER);
    free(host);
    struct db db;
    db_init(&db, admin_url);
    free(admin_url);
    enum err e = db_connect_wait(&db, CLUSTER_DB_WAIT_MS);
    PGresult *r = NULL;
    if (e == ERR_OK) {
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, CLUSTER_DB_NAME);
        e = db_query(&db, "SELECT 1 FROM pg_database WHERE datname = $1", &p, &r);
    }
    if (e == ERR_OK && PQntuples(r) == 0) {
        log_info(NULL, "creating database \"%s\"", CLUSTER_DB_NAME);
        e = db_exec(&db, "CREATE DATABASE " CLUSTER_DB_NAME, NULL, NULL);
        if (e != ERR_OK && strcmp(db_sqlstate(&db), "42P04") == 0) {
            e = ERR_OK; /* another process created it meanwhile */
        }
    }
    PQclear(r);
    db_clear(&db);
    return e;
}

static enum err prepare(struct cluster *c, const char *data_dir, const char *bin_dir)
{
    c->bin_dir = bin_dir ? xstrndup(bin_dir, strlen(bin_dir)) : find_bin_dir();
    if (!c->bin_dir) {
        log_error(NULL,
                  "no PostgreSQL found under %s: install postgresql (apt install "
                  "postgresql) or set PDS_DATABASE_URL",
                  CLUSTER_PG_ROOT);
        return ERR_NOT_FOUND;
    }
    if (make_parents(data_dir) != ERR_OK) {
        log_error(NULL, "could not create data directory \"%s\": %s", data_dir, strerror(errno));
        return ERR_INTERNAL;
    }
    char abs[PATH_MAX];
    if (!realpath(data_dir, abs)) {
        log_error(NULL, "could not resolve data directory \"%s\": %s", data_dir, strerror(errno));
        return ERR_INTERNAL;
    }
    c->root = xprintf("%s/postgres", abs);
    c->pgdata = xprintf("%s/data", c->root);
    c->socket_dir = xprintf("%s/run", c->root);

    /* sun_path holds 108 bytes with its NUL; PostgreSQL appends "/.s.PGSQL.<port>". */
    char sock[PATH_MAX];
    int n = snprintf(sock, sizeof sock, "%s/.s.PGSQL.%d", c->socket_dir, CLUSTER_PORT);
    if (n < 0 || (size_t)n >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        log_error(NULL,
                  "socket path \"%s\" is too long for a Unix socket (%d bytes, at most %zu): "
                  "use a shorter PDS_DATA_DIRECTORY or set PDS_DATABASE_URL",
                  sock, n, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return ERR_TOO_LARGE;
    }

    if (geteuid() == 0) {
        struct passwd *pw = getpwnam(CLUSTER_OS_USER);
        if (!pw) {
            log_error(NULL,
                      "PostgreSQL refuses to run as root and there is no \"%s\" user: "
                      "install postgresql, run pds as another user, or set "
                      "PDS_DATABASE_URL",
                      CLUSTER_OS_USER);
            return ERR_NOT_FOUND;
        }
        c->_switch_user = true;
        c->_uid = pw->pw_uid;
        c->_gid = pw->pw_gid;
    } else {
        c->_uid = geteuid();
        c->_gid = getegid();
    }
    enum err e = make_dir_owned(c, c->root);
    if (e == ERR_OK) {
        e = make_dir_owned(c, c->socket_dir);
    }
    if (e != ERR_OK) {
        return e;
    }
    if (!user_can_enter(c, c->root)) {
        log_error(NULL,
                  "the %s user cannot reach \"%s\": make its parent directories searchable "
                  "(chmod o+x) or set PDS_DATABASE_URL",
                  c->_switch_user ? CLUSTER_OS_USER : "current", c->root);
        return ERR_FORBIDDEN;
    }
    return ERR_OK;
}

/* A cluster copied from elsewhere or made by another user must change hands to start. */
static enum err fix_owner(const struct cluster *c)
{
    struct stat st;
    if (!c->_switch_user || stat(c->pgdata, &st) != 0 || st.st_uid == c->_uid) {
        return ERR_OK;
    }
    log_warn(NULL, "giving %s to the %s user", c->pgdata, CLUSTER_OS_USER);
    chown_uid = c->_uid;
    chown_gid = c->_gid;
    if (nftw(c->pgdata, chown_one, 32, FTW_PHYS) != 0) {
        log_error(NULL, "could not change the owner of \"%s\": %s", c->pgdata, strerror(errno));
        return ERR_INTERNAL;
    }
    return ERR_OK;
}

enum err cluster_start(struct cluster *c, const char *data_dir, const char *bin_dir)
{
    memset(c, 0, sizeof *c);
    enum err e = prepare(c, data_dir, bin_dir);
    if (e != ERR_OK) {
        return e;
    }
    char *version_file = xprintf("%s/PG_VERSION", c->pgdata);
    bool exists = access(version_file, F_OK) == 0;
    free(version_file);
    if (!exists) {
        e = init_cluster(c);
    } else {
        e = fix_owner(c);
    }
    if (e == ERR_OK) {
        e = write_settings(c);
    }
    if (e != ERR_OK) {
        return e;
    }
    if (pg_ctl(c, "status") == 0) {
        log_warn(NULL, "the private PostgreSQL cluster was already running; using it");
    } else {
        log_info(NULL, "starting the private PostgreSQL cluster (%s)", c->bin_dir);
        int st = pg_ctl(c, "start");
        if (st != 0) {
            log_error(NULL, "could not start the private PostgreSQL cluster: see %s/%s and %s/%s",
                      c->root, CLUSTER_LOG, c->root, CLUSTER_CMD_LOG);
            return ERR_INTERNAL;
        }
    }
    c->_running = true;
    return create_database(c);
}

void cluster_stop(struct cluster *c)
{
    if (c->_running) {
        log_info(NULL, "stopping the private PostgreSQL cluster");
        int st = pg_ctl(c, "stop");
        if (st != 0) {
            log_error(NULL, "pg_ctl stop failed (status %d): see %s/%s", st, c->root, CLUSTER_LOG);
        }
    }
    free(c->bin_dir);
    free(c->root);
    free(c->pgdata);
    free(c->socket_dir);
    free(c->url);
    memset(c, 0, sizeof *c);
}
