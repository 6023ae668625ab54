/* test_head.c - request-head checks: NUL bytes found in request lines laid out as
 * libmicrohttpd 0.9.75 splits them in place, and the refusal table (sizes, transfer codings). */
#include "http/head.h"

#include "core/err.h"
#include "unit/test.h"

/* A request line split as the library leaves it: "<method>\0<spaces><target>\0<version>\0".
 * raw is the line with '|' for every byte the library turned into NUL; target_at is the
 * index of the target; the facts point into buf. */
static struct head_facts split_line(char *buf, const char *raw, size_t target_at)
{
    size_t n = strlen(raw);
    memcpy(buf, raw, n + 1);
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '|') {
            buf[i] = '\0';
        }
    }
    const char *version = strstr(raw, "|HTTP/1.1");
    return (struct head_facts){
        .method = buf,
        .target = buf + target_at,
        .target_len = strlen(buf + target_at),
        .version = version ? buf + (version - raw) + 1 : NULL,
        .line_buffer_max = 1 << 16,
    };
}

static void test_head_finds_nul_bytes_in_the_request_line(void)
{
    static const struct {
        const char *raw; /* '|': a NUL, the library's or the client's */
        size_t target_at;
        bool has_nul;
    } cases[] = {
        {"GET|/xrpc/x?repo=did:plc:a|HTTP/1.1", 4, false},
        {"GET|  /x|HTTP/1.1", 6, false},            /* spaces before the target are skipped */
        {"GET|/a b|HTTP/1.1", 4, false},            /* a space inside the target is kept */
        {"GET|/x?repo=did|junk|HTTP/1.1", 4, true}, /* a NUL inside the target */
        {"G|ET|/x|HTTP/1.1", 5, true},              /* a NUL inside the method */
        {"GET|/x||HTTP/1.1", 4, true},              /* a NUL at the target's end */
    };
    char buf[128];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct head_facts f = split_line(buf, cases[i].raw, cases[i].target_at);
        if (head_request_line_has_nul(&f) != cases[i].has_nul) {
            CHECK(!"NUL detection");
            fprintf(stderr, "  %s\n", cases[i].raw);
        }
    }
    /* pointers in other buffers (another library layout) cannot be judged */
    struct head_facts f = split_line(buf, "GET|/x|junk|HTTP/1.1", 4);
    f.target = "/x";
    CHECK(!head_request_line_has_nul(&f));
    f = split_line(buf, "GET|/x|junk|HTTP/1.1", 4);
    f.version = NULL;
    CHECK(!head_request_line_has_nul(&f));
    f = split_line(buf, "GET|/x|junk|HTTP/1.1", 4);
    f.line_buffer_max = 4; /* farther apart than any line can be */
    CHECK(!head_request_line_has_nul(&f));
}

static void test_head_refusal_table(void)
{
    static const struct {
        size_t target_len, head_bytes;
        const char *te;
        unsigned n_te;
        int status;
    } cases[] = {
        {100, 500, NULL, 0, 0},
        {HTTP_HEAD_MAX_BYTES, HTTP_HEAD_MAX_BYTES, NULL, 0, 0}, /* at the limit: fine */
        {HTTP_HEAD_MAX_BYTES + 1, HTTP_HEAD_MAX_BYTES + 100, NULL, 0, 414},
        {100, HTTP_HEAD_MAX_BYTES + 1, NULL, 0, 431},
        {100, 0, NULL, 0, 0}, /* size unknown */
        {100, 500, "chunked", 1, 0},
        {100, 500, "Chunked", 1, 0},
        {100, 500, "gzip, chunked", 1, 501},
        {100, 500, "gzip", 1, 501},
        {100, 500, "chunked, chunked", 1, 501},
        {100, 500, "chunked", 2, 501}, /* a second header the library would not look at */
        {100, 500, "identity", 1, 501},
        {100, 500, "", 1, 501},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct head_facts f = {
            .target_len = cases[i].target_len,
            .head_bytes = cases[i].head_bytes,
            .transfer_encoding = cases[i].te,
            .n_transfer_encodings = cases[i].n_te,
        };
        const char *why;
        int st = head_refusal(&f, &why);
        CHECK_EQ(st, cases[i].status);
        CHECK(st ? why != NULL : why == NULL);
    }
    char buf[64];
    struct head_facts nul = split_line(buf, "GET|/x|y|HTTP/1.1", 4);
    const char *why;
    CHECK_EQ(head_refusal(&nul, &why), 400);
    CHECK_STR(why, "the request line contains a NUL byte");
}

int main(void)
{
    RUN(test_head_finds_nul_bytes_in_the_request_line);
    RUN(test_head_refusal_table);
    return test_report();
}
