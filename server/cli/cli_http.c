/* cli_http.c - pdsadmin's HTTP client (libcurl): JSON in, JSON out, HTTP Basic admin auth,
 * bounded time and size, and errors an operator can act on. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/bytes.h"

struct sink {
    struct buf b;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    if (buf_append(&s->b, ptr, size * n) != ERR_OK) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    return size * n;
}

char *cli_escape(const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(value);
    char *out = xmalloc(3 * n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)value[i];
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == ':') {
            *o++ = (char)ch;
        } else {
            *o++ = '%';
            *o++ = hex[ch >> 4];
            *o++ = hex[ch & 15];
        }
    }
    *o = '\0';
    return out;
}

/* "Name: message" of an XRPC error body, or the start of a non-JSON body. */
static void describe_error(const struct sink *s, char *out, size_t cap)
{
    json_error_t jerr;
    json_t *j = s->b.len ? json_loadb((const char *)s->b.ptr, s->b.len, 0, &jerr) : NULL;
    const char *name = json_string_value(json_object_get(j, "error"));
    const char *msg = json_string_value(json_object_get(j, "message"));
    if (name || msg) {
        snprintf(out, cap, "%s%s%s", name ? name : "", name && msg ? ": " : "", msg ? msg : "");
    } else if (s->b.len) {
        snprintf(out, cap, "%.*s", (int)(s->b.len < 200 ? s->b.len : 200), (const char *)s->b.ptr);
        out[strcspn(out, "\r\n")] = '\0';
    } else {
        snprintf(out, cap, "no details");
    }
    json_decref(j);
}

int cli_http(const struct cli *c, const char *url, json_t *body, bool admin, bool quiet,
             long *status, json_t **out)
{
    static bool inited;
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    *status = 0;
    if (out) {
        *out = NULL;
    }
    if (admin && !c->admin_password) {
        cli_error("no admin password: set PDS_ADMIN_PASSWORD, use --admin-password, point "
                  "PDS_ENV_FILE at the server's env file, or PDS_DATA_DIRECTORY at a development "
                  "server's data directory (found none in %s)",
                  c->secrets_file ? c->secrets_file : CLI_DATA_DIR_DEFAULT "/" CLI_SECRETS_FILE);
        return CLI_FAIL;
    }
    CURL *h = curl_easy_init();
    if (!h) {
        cli_error("could not start an HTTP client");
        return CLI_FAIL;
    }
    struct sink s = {.too_big = false};
    buf_init(&s.b, CLI_RESPONSE_MAX_BYTES);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Accept: application/json");
    char *payload = NULL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CLI_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)CLI_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "pdsadmin/" PDS_VERSION);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (admin) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, "admin");
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->admin_password);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    free(payload);

    int result = CLI_FAIL;
    char why[512];
    if (rc != CURLE_OK) {
        if (!quiet) {
            cli_error("could not reach %s: %s%s", url,
                      s.too_big ? "answer too large" : curl_easy_strerror(rc),
                      rc == CURLE_COULDNT_CONNECT ? " (is the server running?)" : "");
        }
    } else if (*status == 401 && admin) {
        if (!quiet) {
            describe_error(&s, why, sizeof(why));
            cli_error("the server refused the admin password (%s); check PDS_ADMIN_PASSWORD", why);
        }
    } else if (*status < 200 || *status > 299) {
        if (!quiet) {
            describe_error(&s, why, sizeof(why));
            cli_error("%s answered %ld: %s", url, *status, why);
        }
    } else {
        json_error_t jerr;
        json_t *j = s.b.len ? json_loadb((const char *)s.b.ptr, s.b.len, 0, &jerr) : json_object();
        if (!j) {
            if (!quiet) {
                cli_error("%s answered with something that is not JSON", url);
            }
        } else {
            result = CLI_OK;
            if (out) {
                *out = j;
            } else {
                json_decref(j);
            }
        }
    }
    buf_clear(&s.b);
    return result;
}

int cli_xrpc(const struct cli *c, const char *nsid, const char *query, json_t *body, bool admin,
             json_t **out)
{
    size_t n = strlen(c->url) + strlen("/xrpc/") + strlen(nsid) + (query ? strlen(query) : 0) + 2;
    char *url = xmalloc(n);
    snprintf(url, n, "%s/xrpc/%s%s%s", c->url, nsid, query ? "?" : "", query ? query : "");
    long status;
    int rc = cli_http(c, url, body, admin, false, &status, out);
    free(url);
    return rc;
}

int cli_check_admin(const struct cli *c)
{
    return cli_xrpc(c, "_status", NULL, NULL, true, NULL);
}
