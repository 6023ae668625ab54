/* test_log.c - log lines as text and JSON: one object per line, escaping, request lines,
 * and secrets and JWTs redacted wherever they appear. Lines are read back from stderr,
 * redirected into a pipe. */
#include "unit/test.h"

#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "db/log.h"

static int pipe_fds[2];
static int saved_stderr;

static void capture(void)
{
    CHECK(pipe(pipe_fds) == 0);
    saved_stderr = dup(STDERR_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
}

/* What was written since capture(), as a string (static). */
static const char *captured(void)
{
    static char out[1 << 16];
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    close(pipe_fds[1]);
    ssize_t n = read(pipe_fds[0], out, sizeof out - 1);
    close(pipe_fds[0]);
    out[n > 0 ? n : 0] = '\0';
    return out;
}

#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJkaWQ6cGxjOmFiYyJ9.c2lnbmF0dXJlLWJ5dGVz"

static void test_log_text_redacts_secrets_and_jwts(void)
{
    log_set_format(LOG_FORMAT_TEXT);
    log_redact_add("hunter2-admin-password");
    struct log_ctx ctx = {.request_id = "r1", .nsid = "com.example.x"};
    capture();
    log_info(&ctx, "auth header Basic hunter2-admin-password and Bearer " JWT " and a\nnew line");
    const char *s = captured();
    CHECK(!strstr(s, "hunter2-admin-password"));
    CHECK(!strstr(s, "eyJhbGci"));
    CHECK(strstr(
        s, "Basic [redacted] and Bearer [redacted] and a?new line (req=r1 nsid=com.example.x)\n"));
    log_redact_clear();
}

static void test_log_json_is_one_object_per_line(void)
{
    log_set_format(LOG_FORMAT_JSON);
    log_redact_add("s3cret-value");
    struct log_ctx ctx = {.did = "did:plc:abc", .action = "applying \"writes\""};
    capture();
    log_warn(&ctx, "tab\there, quote \" and s3cret-value");
    struct log_request r = {.request_id = "r2",
                            .method = "POST",
                            .path = "/xrpc/" JWT,
                            .nsid = "com.atproto.repo.createRecord",
                            .did = "did:plc:abc",
                            .client_ip = "127.0.0.1",
                            .status = 200,
                            .duration_ms = 1.25};
    log_request(&r);
    const char *s = captured();
    const char *nl = strchr(s, '\n');
    CHECK(nl != NULL);
    json_error_t e;
    json_t *a = json_loadb(s, nl ? (size_t)(nl - s) : 0, 0, &e);
    json_t *b = nl ? json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, &e) : NULL;
    CHECK(a && b);
    CHECK_STR(json_string_value(json_object_get(a, "level")), "warn");
    CHECK_STR(json_string_value(json_object_get(a, "msg")), "tab\there, quote \" and [redacted]");
    CHECK_STR(json_string_value(json_object_get(a, "did")), "did:plc:abc");
    CHECK_STR(json_string_value(json_object_get(a, "action")), "applying \"writes\"");
    CHECK_STR(json_string_value(json_object_get(b, "msg")), "request");
    CHECK_STR(json_string_value(json_object_get(b, "method")), "POST");
    CHECK_STR(json_string_value(json_object_get(b, "path")), "/xrpc/[redacted]");
    CHECK_EQ(json_integer_value(json_object_get(b, "status")), 200);
    CHECK(json_real_value(json_object_get(b, "duration_ms")) > 1.1); /* printed to 0.1 ms */
    CHECK(!strstr(s, "s3cret-value"));
    json_decref(a);
    json_decref(b);
    log_redact_clear();
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_log_format_names(void)
{
    enum log_format f;
    CHECK(log_parse_format("json", &f) && f == LOG_FORMAT_JSON);
    CHECK(log_parse_format("TEXT", &f) && f == LOG_FORMAT_TEXT);
    CHECK(!log_parse_format("xml", &f));
}

int main(void)
{
    RUN(test_log_text_redacts_secrets_and_jwts);
    RUN(test_log_json_is_one_object_per_line);
    RUN(test_log_format_names);
    return test_report();
}
