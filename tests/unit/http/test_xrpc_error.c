/* test_xrpc_error.c - every enum err has a row mapping it to an HTTP status and a default
 * XRPC error name, and statuses map to the reference's names and messages. */
#include "http/xrpc_error.h"

#include <string.h>

#include "unit/test.h"

/* err_str's switch covers every code (-Wswitch -Werror), so walking up to its "unknown"
 * answer visits every code err.h defines, including ones appended later. */
static int err_count(void)
{
    int n = 0;
    while (strcmp(err_str((enum err)n), "unknown error") != 0) {
        n++;
    }
    return n;
}

static void test_xrpc_error_every_code_has_a_row(void)
{
    int n = err_count();
    CHECK(n >= ERR_UNSUPPORTED + 1);
    for (int e = 0; e < n; e++) {
        const struct xrpc_error_row *row = xrpc_error_row((enum err)e);
        if (!row) {
            fprintf(stderr, "no row for %s\n", err_str((enum err)e));
        }
        CHECK(row != NULL);
        if (row) {
            CHECK_EQ(row->code, e);
            CHECK(e == ERR_OK ? row->status == 200 : row->status >= 400 && row->status <= 599);
            /* only "not found" leaves the name to the handler (RecordNotFound...) */
            CHECK(row->name != NULL || e == ERR_OK || e == ERR_NOT_FOUND);
        }
    }
}

static void test_xrpc_error_codes_map_to_reference_statuses(void)
{
    CHECK_EQ(xrpc_error_status(ERR_INVALID), 400);
    CHECK_STR(xrpc_error_name(ERR_INVALID), "InvalidRequest");
    CHECK_EQ(xrpc_error_status(ERR_TOO_LARGE), 413);
    CHECK_STR(xrpc_error_name(ERR_TOO_LARGE), "PayloadTooLarge");
    CHECK_EQ(xrpc_error_status(ERR_AUTH), 401);
    CHECK_STR(xrpc_error_name(ERR_AUTH), "AuthenticationRequired");
    CHECK_EQ(xrpc_error_status(ERR_FORBIDDEN), 403);
    CHECK_EQ(xrpc_error_status(ERR_RATE_LIMITED), 429);
    CHECK_STR(xrpc_error_name(ERR_RATE_LIMITED), "RateLimitExceeded");
    CHECK_EQ(xrpc_error_status(ERR_UPSTREAM), 502);
    CHECK_STR(xrpc_error_name(ERR_UPSTREAM), "UpstreamFailure");
    CHECK_EQ(xrpc_error_status(ERR_DB), 500);
    CHECK_STR(xrpc_error_name(ERR_INTERNAL), "InternalServerError");
    CHECK(xrpc_error_name(ERR_NOT_FOUND) == NULL);
    CHECK_EQ(xrpc_error_status((enum err)9999), 500);
}

static void test_xrpc_error_status_names_and_messages(void)
{
    static const struct {
        int status;
        const char *name, *message;
    } want[] = {
        {400, "InvalidRequest", "Invalid Request"},
        {401, "AuthenticationRequired", "Authentication Required"},
        {403, "Forbidden", "Forbidden"},
        {404, "XRPCNotSupported", "XRPC Not Supported"},
        {413, "PayloadTooLarge", "Payload Too Large"},
        {429, "RateLimitExceeded", "Rate Limit Exceeded"},
        {500, "InternalServerError", "Internal Server Error"},
        {501, "MethodNotImplemented", "Method Not Implemented"},
        {502, "UpstreamFailure", "Upstream Failure"},
        {503, "NotEnoughResources", "Not Enough Resources"},
        {504, "UpstreamTimeout", "Upstream Timeout"},
        {418, "InvalidRequest", "Invalid Request"},            /* unlisted 4xx */
        {599, "InternalServerError", "Internal Server Error"}, /* unlisted 5xx */
        {200, "InternalServerError", "Internal Server Error"}, /* not an error status */
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        CHECK_STR(xrpc_status_name(want[i].status), want[i].name);
        CHECK_STR(xrpc_status_message(want[i].status), want[i].message);
    }
}

int main(void)
{
    RUN(test_xrpc_error_every_code_has_a_row);
    RUN(test_xrpc_error_codes_map_to_reference_statuses);
    RUN(test_xrpc_error_status_names_and_messages);
    return test_report();
}
