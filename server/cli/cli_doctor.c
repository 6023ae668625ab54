/* cli_doctor.c - `pdsadmin doctor`: is this host set up right? Checks from outside the
 * server (DNS for the hostname and a wildcard handle, TLS on the public URL, the PLC
 * directory, each relay's view of this host, clock skew against the server and the PLC
 * directory) and the server's own view (GET /xrpc/_checks: database, blob store, disk
 * space, a test mail, the DID documents of recent accounts). Each check prints ok, warn,
 * skip or fail; a failure says what is wrong and how to fix it. Exit 1 when any failed. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#define DOCTOR_TIMEOUT_MS  8000
#define DOCTOR_ADDRS_MAX   16
#define DOCTOR_SKEW_MAX_S  30 /* tokens and service auth tolerate little more */
#define DOCTOR_CERT_WARN_S (14 * 86400)
#define DOCTOR_ANSWER_MAX  (1 << 16)
#define DOCTOR_BODY_MAX    (1 << 20)

struct doctor {
    const struct cli *c;
    json_t *checks;
    int failed;
    char *hostname, *dns_server, *plc_url, *domains, *crawlers, *ca_file;
    long https_port;
};

static void report(struct doctor *d, const char *name, const char *status, const char *message,
                   const char *fix)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "name", name, "status", status, "message", message);
    if (fix) {
        json_object_set_new(o, "fix", json_string(fix));
    }
    json_array_append_new(d->checks, o);
    d->failed += strcmp(status, "fail") == 0;
    if (!d->c->json) {
        const char *mark = strcmp(status, "ok") == 0     ? "ok  "
                           : strcmp(status, "warn") == 0 ? "warn"
                           : strcmp(status, "skip") == 0 ? "skip"
                                                         : "FAIL";
        printf("[%s] %-16s %s\n", mark, name, message);
        if (fix && strcmp(status, "ok") != 0) {
            printf("       %-16s fix: %s\n", "", fix);
        }
    }
}

/* ---- DNS ---- */

/* IPv4 and IPv6 addresses of name, as text: through dns_server ("a.b.c.d:port", the same
 * resolver the server uses for handles) when given, else the system's resolver. */
static int resolve(const char *name, const char *dns_server, char addrs[][INET6_ADDRSTRLEN])
{
    int n = 0;
    if (!dns_server) {
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(name, NULL, &hints, &res) != 0) {
            return 0;
        }
        for (struct addrinfo *a = res; a && n < DOCTOR_ADDRS_MAX; a = a->ai_next) {
            const void *p = a->ai_family == AF_INET
                                ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
                                : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
            if (inet_ntop(a->ai_family, p, addrs[n], INET6_ADDRSTRLEN)) {
                n++;
            }
        }
        freeaddrinfo(res);
        return n;
    }
    char host[INET_ADDRSTRLEN] = "";
    const char *colon = strrchr(dns_server, ':');
    struct sockaddr_in ns = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - dns_server) >= sizeof host) {
        return -1;
    }
    memcpy(host, dns_server, (size_t)(colon - dns_server));
    ns.sin_port = htons((uint16_t)strtol(colon + 1, NULL, 10));
    if (inet_pton(AF_INET, host, &ns.sin_addr) != 1) {
        return -1;
    }
    static const int types[] = {ns_t_a, ns_t_aaaa};
    for (size_t t = 0; t < 2; t++) {
        struct __res_state st;
        memset(&st, 0, sizeof st);
        if (res_ninit(&st) != 0) {
            return -1;
        }
        st.nsaddr_list[0] = ns;
        st.nscount = 1;
        st.retrans = 2;
        st.retry = 1;
        uint8_t ans[DOCTOR_ANSWER_MAX];
        int len = res_nquery(&st, name, ns_c_in, types[t], ans, sizeof ans);
        res_nclose(&st);
        ns_msg msg;
        if (len < 0 || len > (int)sizeof ans || ns_initparse(ans, len, &msg) != 0) {
            continue;
        }
        for (int i = 0; i < ns_msg_count(msg, ns_s_an) && n < DOCTOR_ADDRS_MAX; i++) {
            ns_rr rr;
            if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 && (int)ns_rr_type(rr) == types[t] &&
                inet_ntop(types[t] == ns_t_a ? AF_INET : AF_INET6, ns_rr_rdata(rr), addrs[n],
                          INET6_ADDRSTRLEN)) {
                n++;
            }
        }
    }
    return n;
}

static bool shares_address(char a[][INET6_ADDRSTRLEN], int na, char b[][INET6_ADDRSTRLEN], int nb)
{
    for (int i = 0; i < na; i++) {
        for (int k = 0; k < nb; k++) {
            if (strcmp(a[i], b[k]) == 0) {
                return true;
            }
        }
    }
    return false;
}

static void check_dns(struct doctor *d, char addrs[][INET6_ADDRSTRLEN], int *n_addrs)
{
    char msg[512], fix[512];
    *n_addrs = resolve(d->hostname, d->dns_server, addrs);
    if (*n_addrs < 0) {
        report(d, "dns", "fail", "PDS_HANDLE_DNS_SERVER is not an IPv4 address:port",
               "set it to a.b.c.d:53, or unset it to use the system's resolver");
        return;
    }
    if (*n_addrs == 0) {
        snprintf(msg, sizeof msg, "%s (PDS_HOSTNAME) does not resolve%s%s", d->hostname,
                 d->dns_server ? " at " : "", d->dns_server ? d->dns_server : "");
        snprintf(fix, sizeof fix, "add an A (and AAAA) record for %s pointing at this server",
                 d->hostname);
        report(d, "dns-hostname", "fail", msg, fix);
        return;
    }
    snprintf(msg, sizeof msg, "%s resolves to %s%s", d->hostname, addrs[0],
             *n_addrs > 1 ? " and more" : "");
    report(d, "dns-hostname", "ok", msg, NULL);
    char *list = xstrndup(d->domains, strlen(d->domains));
    for (char *save = NULL, *dom = strtok_r(list, ",", &save); dom;
         dom = strtok_r(NULL, ",", &save)) {
        while (*dom == ' ') {
            dom++;
        }
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != sizeof r) {
            r = (uint32_t)time(NULL);
        }
        char name[300];
        snprintf(name, sizeof name, "doctor-%08x%s%s", r, dom[0] == '.' ? "" : ".", dom);
        char got[DOCTOR_ADDRS_MAX][INET6_ADDRSTRLEN];
        int n = resolve(name, d->dns_server, got);
        if (n > 0 && shares_address(addrs, *n_addrs, got, n)) {
            snprintf(msg, sizeof msg, "handles under %s resolve here (%s -> %s)", dom, name,
                     got[0]);
            report(d, "dns-handles", "ok", msg, NULL);
        } else {
            snprintf(msg, sizeof msg,
                     n > 0 ? "handles under %s resolve elsewhere (%s -> %s, not %s's address)"
                           : "handles under %s do not resolve (%s has no address%s%s)",
                     dom, name, n > 0 ? got[0] : "", n > 0 ? d->hostname : "");
            snprintf(fix, sizeof fix,
                     "add a wildcard record *%s%s with the same address as %s, so every handle "
                     "reaches this server",
                     dom[0] == '.' ? "" : ".", dom, d->hostname);
            report(d, "dns-handles", "fail", msg, fix);
        }
    }
    free(list);
}

/* ---- HTTP ---- */

struct answer {
    struct buf body;
    time_t date; /* the Date header, 0 when absent */
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    return buf_append(&a->body, p, size * n) == ERR_OK ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    size_t len = size * n;
    if (len > 5 && strncasecmp(p, "date:", 5) == 0) {
        char v[128];
        snprintf(v, sizeof v, "%.*s", (int)(len - 5), p + 5);
        a->date = curl_getdate(v, NULL);
        if (a->date < 0) {
            a->date = 0;
        }
    }
    return len;
}

struct fetch {
    long status;
    json_t *json;
    time_t date;
    char error[CURL_ERROR_SIZE];
    time_t cert_expires; /* 0 when not https */
};

/* GET url. resolve_to (may be NULL): connect to this address for the URL's host and port
 * (doctor checks the address DNS gave, not whatever this machine would pick). */
static void fetch(const struct doctor *d, const char *url, const char *resolve_to, bool admin,
                  struct fetch *out)
{
    memset(out, 0, sizeof *out);
    CURL *h = curl_easy_init();
    struct answer a = {.date = 0};
    buf_init(&a.body, DOCTOR_BODY_MAX);
    struct curl_slist *res = NULL;
    if (resolve_to) {
        char *entry = xprintf("%s:%ld:%s", d->hostname, d->https_port, resolve_to);
        res = curl_slist_append(NULL, entry);
        free(entry);
        curl_easy_setopt(h, CURLOPT_RESOLVE, res);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)DOCTOR_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, out->error);
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    if (d->ca_file) {
        curl_easy_setopt(h, CURLOPT_CAINFO, d->ca_file);
    }
    if (admin && d->c->admin_password) {
        curl_easy_setopt(h, CURLOPT_USERNAME, "admin");
        curl_easy_setopt(h, CURLOPT_PASSWORD, d->c->admin_password);
    }
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        out->error[0] = '\0';
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
        json_error_t jerr;
        out->json = a.body.len ? json_loadb((const char *)a.body.ptr, a.body.len, 0, &jerr) : NULL;
        out->date = a.date;
        struct curl_certinfo *ci = NULL;
        if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
            ci->num_of_certs > 0) {
            for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
                if (strncmp(s->data, "Expire date:", 12) == 0) {
                    out->cert_expires = curl_getdate(s->data + 12, NULL);
                }
            }
        }
    } else if (!out->error[0]) {
        snprintf(out->error, sizeof out->error, "%s", curl_easy_strerror(rc));
    }
    curl_slist_free_all(res);
    curl_easy_cleanup(h);
    buf_clear(&a.body);
}

static void check_skew(struct doctor *d, const char *name, const char *who, time_t theirs)
{
    if (!theirs) {
        return;
    }
    long skew = (long)(theirs - time(NULL));
    char msg[256];
    snprintf(msg, sizeof msg, "this machine's clock is %ld s %s %s's", labs(skew),
             skew > 0 ? "behind" : "ahead of", who);
    bool bad = labs(skew) > DOCTOR_SKEW_MAX_S;
    report(d, name, bad ? "fail" : "ok", msg,
           bad ? "keep the clocks in sync with NTP (timedatectl set-ntp true, or chrony)" : NULL);
}

static void check_tls(struct doctor *d, char addrs[][INET6_ADDRSTRLEN], int n_addrs)
{
    char msg[600];
    if (strcmp(d->hostname, "localhost") == 0) {
        report(d, "tls", "skip", "localhost is a development server on plain http", NULL);
        return;
    }
    if (n_addrs <= 0) {
        report(d, "tls", "skip", "the hostname does not resolve, so there is nothing to reach",
               NULL);
        return;
    }
    char *url = xprintf("https://%s:%ld/xrpc/_health", d->hostname, d->https_port);
    struct fetch f;
    fetch(d, url, addrs[0], false, &f);
    if (f.error[0]) {
        snprintf(msg, sizeof msg, "https://%s%s did not answer over TLS at %s: %s", d->hostname,
                 d->https_port == 443 ? "" : " (port given)", addrs[0], f.error);
        report(d, "tls", "fail", msg,
               "run the TLS proxy (Caddy or nginx, see deploy/) on port 443 with a certificate "
               "for the hostname and the wildcard handle names, forwarding to PDS_PORT");
    } else if (f.status != 200 || !json_object_get(f.json, "version")) {
        snprintf(msg, sizeof msg, "https://%s answered %ld, not this server's health check",
                 d->hostname, f.status);
        report(d, "tls", "fail", msg, "point the TLS proxy at this server's PDS_PORT");
    } else {
        long left = f.cert_expires ? (long)(f.cert_expires - time(NULL)) : -1;
        snprintf(msg, sizeof msg, "https://%s has a valid certificate%s%ld%s", d->hostname,
                 left >= 0 ? ", expiring in " : "", left >= 0 ? left / 86400 : 0,
                 left >= 0 ? " days" : "");
        if (left < 0) {
            snprintf(msg, sizeof msg, "https://%s has a valid certificate", d->hostname);
        }
        bool soon = left >= 0 && left < DOCTOR_CERT_WARN_S;
        report(d, "tls", soon ? "warn" : "ok", msg,
               soon ? "renew the certificate (Caddy and certbot renew on their own: check them)"
                    : NULL);
    }
    json_decref(f.json);
    free(url);
}

static void check_plc(struct doctor *d)
{
    char msg[600];
    char *url = xprintf("%s/_health", d->plc_url);
    struct fetch f;
    fetch(d, url, NULL, false, &f);
    if (f.error[0] || f.status != 200) {
        snprintf(msg, sizeof msg, "the PLC directory %s (PDS_DID_PLC_URL) is unreachable: %s",
                 d->plc_url, f.error[0] ? f.error : "it did not answer 200");
        report(d, "plc", "fail", msg,
               "check PDS_DID_PLC_URL and that this host can reach it (firewall, DNS, proxy); "
               "sign-ups and handle changes fail until it answers");
    } else {
        snprintf(msg, sizeof msg, "the PLC directory %s answers", d->plc_url);
        report(d, "plc", "ok", msg, NULL);
        check_skew(d, "clock-plc", "the PLC directory", f.date);
    }
    json_decref(f.json);
    free(url);
}

static void check_relays(struct doctor *d)
{
    if (!d->crawlers || !*d->crawlers) {
        report(d, "relays", "warn", "no relays configured: the network will not hear of new posts",
               "set PDS_CRAWLERS (e.g. https://bsky.network) and restart the server");
        return;
    }
    char *list = xstrndup(d->crawlers, strlen(d->crawlers));
    char *host = curl_easy_escape(NULL, d->hostname, 0);
    for (char *save = NULL, *r = strtok_r(list, ",", &save); r; r = strtok_r(NULL, ",", &save)) {
        while (*r == ' ') {
            r++;
        }
        size_t n = strlen(r);
        while (n && r[n - 1] == '/') {
            r[--n] = '\0';
        }
        char *url = xprintf("%s/xrpc/com.atproto.sync.getHostStatus?hostname=%s", r, host);
        struct fetch f;
        fetch(d, url, NULL, false, &f);
        char msg[600];
        const char *status = json_string_value(json_object_get(f.json, "status"));
        const char *err = json_string_value(json_object_get(f.json, "error"));
        if (f.error[0]) {
            snprintf(msg, sizeof msg, "relay %s is unreachable: %s", r, f.error);
            report(d, "relay", "fail", msg, "check the URL in PDS_CRAWLERS and outbound network");
        } else if (f.status != 200) {
            snprintf(msg, sizeof msg, "relay %s does not know this host (%ld %s)", r, f.status,
                     err ? err : "");
            report(d, "relay", "fail", msg, "run: pdsadmin request-crawl");
        } else if (!status || strcmp(status, "active") != 0) {
            snprintf(msg, sizeof msg, "relay %s sees this host as %s", r,
                     status ? status : "unknown");
            report(d, "relay", "fail", msg,
                   status && strcmp(status, "banned") == 0
                       ? "ask the relay's operator why this host is banned"
                       : "run: pdsadmin request-crawl; a throttled host must stay within the "
                         "relay's account and event limits");
        } else {
            snprintf(msg, sizeof msg, "relay %s: active, at seq %lld, %lld accounts", r,
                     (long long)json_integer_value(json_object_get(f.json, "seq")),
                     (long long)json_integer_value(json_object_get(f.json, "accountCount")));
            report(d, "relay", "ok", msg, NULL);
        }
        json_decref(f.json);
        free(url);
    }
    curl_free(host);
    free(list);
}

/* The server's own checks (GET /xrpc/_checks) and the clock against it. */
static bool check_server(struct doctor *d, const char *mail_to)
{
    char msg[600];
    char *url = xprintf("%s/xrpc/_health", d->c->url);
    struct fetch f;
    fetch(d, url, NULL, false, &f);
    free(url);
    bool up = !f.error[0] && f.status == 200;
    if (!up) {
        snprintf(msg, sizeof msg, "the server at %s does not answer: %s", d->c->url,
                 f.error[0] ? f.error : "its health check failed (is PostgreSQL up?)");
        report(d, "server", "fail", msg,
               "start it (systemctl start pds; journalctl -u pds says why it stopped), or give "
               "its URL with --url");
        json_decref(f.json);
        return false;
    }
    snprintf(msg, sizeof msg, "the server at %s answers (version %s)", d->c->url,
             json_string_value(json_object_get(f.json, "version")));
    report(d, "server", "ok", msg, NULL);
    json_decref(f.json);
    char *esc = mail_to ? curl_easy_escape(NULL, mail_to, 0) : NULL;
    url = xprintf("%s/xrpc/_checks%s%s", d->c->url, esc ? "?mailTo=" : "", esc ? esc : "");
    curl_free(esc);
    fetch(d, url, NULL, true, &f);
    free(url);
    if (f.status == 401) {
        report(d, "admin", "fail", "the admin password was refused",
               "give PDS_ADMIN_PASSWORD (environment, env file or --admin-password)");
    } else if (f.status != 200) {
        report(d, "server-checks", "fail", "the server's own checks did not run",
               "see the server log");
    } else {
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(f.json, "checks"), i, c)
        {
            report(d, json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "status")),
                   json_string_value(json_object_get(c, "message")),
                   json_string_value(json_object_get(c, "fix")));
        }
        json_int_t ms = json_integer_value(json_object_get(f.json, "serverTimeMs"));
        check_skew(d, "clock-server", "the server", (time_t)(ms / 1000));
    }
    json_decref(f.json);
    return true;
}

int cli_doctor(struct cli *c, int argc, char **argv)
{
    const char *mail_to = NULL, *port = NULL, *ca = NULL;
    int rc;
    if ((rc = cli_take_option(&argc, argv, "--mail-to", &mail_to)) ||
        (rc = cli_take_option(&argc, argv, "--https-port", &port)) ||
        (rc = cli_take_option(&argc, argv, "--ca-file", &ca))) {
        return rc;
    }
    if (argc != 1) {
        cli_error("usage: pdsadmin doctor [--mail-to ADDRESS] [--https-port N] [--ca-file FILE]");
        return CLI_USAGE;
    }
    struct doctor d = {
        .c = c, .checks = json_array(), .https_port = port ? strtol(port, NULL, 10) : 443};
    d.hostname = cli_server_setting(c, "PDS_HOSTNAME", "localhost");
    d.dns_server = cli_server_setting(c, "PDS_HANDLE_DNS_SERVER", NULL);
    d.plc_url = cli_server_setting(c, "PDS_DID_PLC_URL", "https://plc.directory");
    char *dflt = xprintf(".%s", d.hostname);
    d.domains = cli_server_setting(c, "PDS_SERVICE_HANDLE_DOMAINS", dflt);
    free(dflt);
    d.crawlers = cli_server_setting(c, "PDS_CRAWLERS", NULL);
    d.ca_file = ca ? xstrndup(ca, strlen(ca)) : NULL;
    if (d.https_port <= 0 || d.https_port > 65535) {
        cli_error("--https-port must be a port number");
        rc = CLI_USAGE;
    } else {
        check_server(&d, mail_to);
        char addrs[DOCTOR_ADDRS_MAX][INET6_ADDRSTRLEN];
        int n_addrs = 0;
        if (strcmp(d.hostname, "localhost") == 0) {
            report(&d, "dns", "skip", "localhost is a development server: no DNS to check", NULL);
        } else {
            check_dns(&d, addrs, &n_addrs);
        }
        check_tls(&d, addrs, n_addrs);
        check_plc(&d);
        check_relays(&d);
        if (c->json) {
            char *text = json_dumps(d.checks, JSON_INDENT(2));
            printf("%s\n", text);
            free(text);
        } else {
            printf("%s\n", d.failed ? "Some checks failed: fix them in the order shown."
                                    : "All checks passed.");
        }
        rc = d.failed ? CLI_FAIL : CLI_OK;
    }
    json_decref(d.checks);
    free(d.hostname);
    free(d.dns_server);
    free(d.plc_url);
    free(d.domains);
    free(d.crawlers);
    free(d.ca_file);
    return rc;
}
