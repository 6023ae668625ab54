/* test_sigv4.c - AWS SigV4 against the worked examples of the S3 documentation ("Signature
 * Calculations for the Authorization Header: Transferring Payload in a Single Chunk"), whose
 * canonical request, string to sign and signature are published; and S3 path encoding. */
#include "unit/test.h"

#include "blob/sigv4.h"

#define EX_ACCESS_KEY "AKIAIOSFODNN7EXAMPLE"
#define EX_SECRET     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define EX_DATE       "20130524T000000Z"

/* Example "GET Object": the first 10 bytes of test.txt in examplebucket. */
static void test_sigv4_get_object_example(void)
{
    struct sigv4_header h[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-date", EX_DATE},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
    };
    struct sigv4_request rq = {
        .method = "GET",
        .path = "/test.txt",
        .query = "",
        .headers = h,
        .n_headers = 4,
        .payload_hash = SIGV4_EMPTY_SHA256,
        .amz_date = EX_DATE,
        .region = "us-east-1",
        .service = "s3",
        .access_key_id = EX_ACCESS_KEY,
        .secret_access_key = EX_SECRET,
    };
    struct sigv4_result r;
    CHECK(sigv4_sign(&rq, &r) == ERR_OK);
    CHECK_STR((const char *)r.canonical_request.ptr,
              "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
              "x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\nx-amz-date:20130524T000000Z\n\n"
              "host;range;x-amz-content-sha256;x-amz-date\n" SIGV4_EMPTY_SHA256);
    CHECK_STR((const char *)r.string_to_sign.ptr,
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    CHECK_STR(r.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    CHECK_STR((const char *)r.authorization.ptr,
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    sigv4_result_clear(&r);
}

/* Example "GET Bucket (List Objects)": a query string in the canonical request. */
static void test_sigv4_list_objects_example(void)
{
    struct sigv4_header h[] = {
        {"host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-content-sha256", SIGV4_EMPTY_SHA256},
        {"x-amz-date", EX_DATE},
    };
    struct sigv4_request rq = {
        .method = "GET",
        .path = "/",
        .query = "max-keys=2&prefix=J",
        .headers = h,
        .n_headers = 3,
        .payload_hash = SIGV4_EMPTY_SHA256,
        .amz_date = EX_DATE,
        .region = "us-east-1",
        .service = "s3",
        .access_key_id = EX_ACCESS_KEY,
        .secret_access_key = EX_SECRET,
    };
    struct sigv4_result r;
    CHECK(sigv4_sign(&rq, &r) == ERR_OK);
    CHECK_STR(r.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    sigv4_result_clear(&r);
}

static void test_sigv4_header_values_are_trimmed_and_folded(void)
{
    struct sigv4_header h[] = {
        {"Host", "  h.example  "},
        {"X-Amz-Date", EX_DATE},
        {"X-Amz-Meta-Note", "a   b\t c"},
    };
    struct sigv4_request rq = {"PUT",   "/k",        NULL, h,    3,   SIGV4_UNSIGNED,
                               EX_DATE, "eu-west-1", "s3", "AK", "SK"};
    struct sigv4_result r;
    CHECK(sigv4_sign(&rq, &r) == ERR_OK);
    CHECK(strstr((const char *)r.canonical_request.ptr,
                 "host:h.example\nx-amz-date:" EX_DATE "\nx-amz-meta-note:a b c\n\n"
                 "host;x-amz-date;x-amz-meta-note\nUNSIGNED-PAYLOAD") != NULL);
    CHECK(strstr((const char *)r.authorization.ptr, "/20130524/eu-west-1/s3/aws4_request") != NULL);
    sigv4_result_clear(&r);
}

static void test_sigv4_refuses_bad_input(void)
{
    struct sigv4_header h[] = {{"host", "x"}};
    struct sigv4_request rq = {"GET",        "/", "",   h,    1,   SIGV4_UNSIGNED,
                               "2013-05-24", "r", "s3", "AK", "SK"};
    struct sigv4_result r;
    CHECK(sigv4_sign(&rq, &r) == ERR_INVALID);
    sigv4_result_clear(&r);
    rq.amz_date = EX_DATE;
    rq.n_headers = 0;
    CHECK(sigv4_sign(&rq, &r) == ERR_INVALID);
    sigv4_result_clear(&r);
    rq.n_headers = 1;
    rq.secret_access_key = NULL;
    CHECK(sigv4_sign(&rq, &r) == ERR_INVALID);
    sigv4_result_clear(&r);
}

static void test_sigv4_uri_encode(void)
{
    struct buf b;
    buf_init(&b, 1024);
    CHECK(sigv4_uri_encode("blocks/did:plc:abc/bafkrei-x_y.z~", true, &b) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "blocks/did%3Aplc%3Aabc/bafkrei-x_y.z~");
    buf_reset(&b);
    CHECK(sigv4_uri_encode("a b/c+d=é", false, &b) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "a%20b%2Fc%2Bd%3D%C3%A9");
    buf_clear(&b);
    char d[SIGV4_AMZ_DATE_LEN + 1];
    sigv4_amz_date(1369353600, d); /* 2013-05-24T00:00:00Z */
    CHECK_STR(d, EX_DATE);
}

int main(void)
{
    RUN(test_sigv4_get_object_example);
    RUN(test_sigv4_list_objects_example);
    RUN(test_sigv4_header_values_are_trimmed_and_folded);
    RUN(test_sigv4_refuses_bad_input);
    RUN(test_sigv4_uri_encode);
    return test_report();
}
