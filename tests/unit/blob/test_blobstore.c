/* test_blobstore.c - the disk blob store: sharded paths, put by rename, ranged reads,
 * exists, delete; uploads hashed to raw CIDs while written; and the SSRF address filter
 * of outgoing requests. */
#include "unit/test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/blobstore.h"
#include "blob/httppull.h"
#include "blob/upload.h"

static char root[256];

static void rm_rf(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static struct blobstore *open_store(void)
{
    char disk[300], tmp[300];
    snprintf(disk, sizeof disk, "%s/blocks", root);
    snprintf(tmp, sizeof tmp, "%s/tmp", root);
    struct blobstore_config cfg = {.disk_root = disk, .tmp_dir = tmp};
    struct blobstore *s = NULL;
    char why[256];
    CHECK(blobstore_new(&cfg, &s, why, sizeof why) == ERR_OK);
    return s;
}

/* Uploads data through blob_upload and the store; fills cid. */
static void put(struct blobstore *s, const char *did, const char *data, size_t n, struct cid *cid)
{
    struct blob_upload u;
    CHECK(blob_upload_begin(&u, s) == ERR_OK);
    CHECK(blob_upload_write(&u, (const uint8_t *)data, n / 2) == ERR_OK);
    CHECK(blob_upload_write(&u, (const uint8_t *)data + n / 2, n - n / 2) == ERR_OK);
    CHECK(blob_upload_finish(&u) == ERR_OK);
    CHECK_EQ(u.size, n);
    *cid = u.cid;
    CHECK(blobstore_put(s, did, &u.cid, u.path, u.size) == ERR_OK);
    CHECK(access(u.path, F_OK) != 0); /* the temporary file is gone */
    u.path[0] = '\0';
    blob_upload_clear(&u);
}

static size_t read_all(struct blobstore *s, const char *did, const struct cid *cid, uint64_t off,
                       uint64_t len, char *out, size_t cap)
{
    struct blobstore_reader *r;
    if (blobstore_reader_open(s, did, cid, off, len, &r) != ERR_OK) {
        return (size_t)-1;
    }
    size_t got = 0;
    for (;;) {
        ssize_t n = blobstore_reader_read(r, (uint8_t *)out + got, cap - got < 3 ? cap - got : 3);
        if (n <= 0) {
            CHECK(n == 0);
            break;
        }
        got += (size_t)n;
    }
    blobstore_reader_free(r);
    return got;
}

static void test_blobstore_disk_roundtrip(void)
{
    struct blobstore *s = open_store();
    const char *did = "did:plc:abcdefghijklmnopqrstuvwx";
    const char *text = "hello, blob store";
    struct cid cid;
    put(s, did, text, strlen(text), &cid);
    char cs[CID_STR_MAX];
    cid_format(&cid, cs);
    /* raw codec, sha2-256 of the bytes: sha256("hello, blob store") */
    CHECK(strncmp(cs, "bafkrei", 7) == 0);
    struct cid want;
    cid_compute(CID_CODEC_RAW, bytes_str(text), &want);
    CHECK(cid_equal(&cid, &want));

    char path[BLOBSTORE_PATH_MAX], disk[300];
    snprintf(disk, sizeof disk, "%s/blocks", root);
    CHECK(blobstore_disk_path(disk, did, &cid, path));
    struct stat st;
    CHECK(stat(path, &st) == 0 && (size_t)st.st_size == strlen(text));
    /* <root>/<2 hex>/<did>/<2 chars>/<cid> */
    char shard[3] = {cs[strlen(cs) - 8], cs[strlen(cs) - 7], 0};
    char tail[512];
    snprintf(tail, sizeof tail, "/%s/%s/%s", did, shard, cs);
    CHECK(strstr(path, tail) != NULL);
    CHECK(path[strlen(disk)] == '/' && path[strlen(disk) + 3] == '/');

    bool exists = false;
    CHECK(blobstore_exists(s, did, &cid, &exists) == ERR_OK && exists);
    char out[64];
    size_t n = read_all(s, did, &cid, 0, strlen(text), out, sizeof out);
    CHECK(n == strlen(text) && memcmp(out, text, n) == 0);
    n = read_all(s, did, &cid, 7, 4, out, sizeof out);
    CHECK(n == 4 && memcmp(out, "blob", 4) == 0);
    /* a range past the file's end fails rather than serving a short blob */
    struct blobstore_reader *r;
    CHECK(blobstore_reader_open(s, did, &cid, 10, 100, &r) == ERR_OK);
    ssize_t k;
    while ((k = blobstore_reader_read(r, (uint8_t *)out, sizeof out)) > 0) {
    }
    CHECK(k == -1);
    blobstore_reader_free(r);

    CHECK(blobstore_delete(s, did, &cid) == ERR_OK);
    CHECK(blobstore_exists(s, did, &cid, &exists) == ERR_OK && !exists);
    CHECK(blobstore_delete(s, did, &cid) == ERR_OK); /* absent is fine */
    CHECK(blobstore_reader_open(s, did, &cid, 0, 1, &r) == ERR_NOT_FOUND);
    CHECK_STR(blobstore_kind(s), "disk");
    blobstore_free(s);
}

static void test_blobstore_refuses_path_tricks(void)
{
    struct cid cid;
    cid_compute(CID_CODEC_RAW, BYTES_LIT("x"), &cid);
    char path[BLOBSTORE_PATH_MAX];
    CHECK(!blobstore_disk_path("/r", "../etc", &cid, path));
    CHECK(!blobstore_disk_path("/r", "did:web:a/b", &cid, path));
    CHECK(!blobstore_disk_path("/r", "..", &cid, path));
    CHECK(!blobstore_disk_path("/r", "", &cid, path));
    CHECK(blobstore_disk_path("/r", "did:web:localhost%3A2583", &cid, path));
    CHECK(blobstore_s3_key("did:plc:x", &cid, path) && strncmp(path, "blocks/did:plc:x/", 17) == 0);
    CHECK(!blobstore_s3_key("did:web:a/b", &cid, path));
}

static void test_blobstore_upload_clear_removes_temp_file(void)
{
    struct blobstore *s = open_store();
    struct blob_upload u;
    CHECK(blob_upload_begin(&u, s) == ERR_OK);
    CHECK(blob_upload_write(&u, (const uint8_t *)"abc", 3) == ERR_OK);
    char path[BLOBSTORE_PATH_MAX];
    snprintf(path, sizeof path, "%s", u.path);
    CHECK(access(path, F_OK) == 0);
    blob_upload_clear(&u); /* abandoned mid-way (client went away) */
    CHECK(access(path, F_OK) != 0);
    blobstore_free(s);
}

static void test_blobstore_s3_needs_credentials(void)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/tmp", root);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    struct blobstore_config cfg = {.tmp_dir = tmp, .s3_bucket = "b"};
    struct blobstore *s = NULL;
    char why[256];
    CHECK(blobstore_new(&cfg, &s, why, sizeof why) == ERR_INVALID);
    CHECK(strstr(why, "credentials") != NULL);
    cfg.s3_access_key_id = "AK";
    cfg.s3_secret_access_key = "SK";
    cfg.s3_endpoint = "ftp://x";
    CHECK(blobstore_new(&cfg, &s, why, sizeof why) == ERR_INVALID);
    cfg.s3_endpoint = "http://127.0.0.1:9000/base/";
    CHECK(blobstore_new(&cfg, &s, why, sizeof why) == ERR_OK);
    CHECK_STR(blobstore_kind(s), "s3");
    blobstore_free(s);
}

static bool private_v4(const char *ip)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return httppull_addr_is_private((struct sockaddr *)&a);
}

static bool private_v6(const char *ip)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return httppull_addr_is_private((struct sockaddr *)&a);
}

static void test_httppull_private_addresses(void)
{
    const char *priv4[] = {"127.0.0.1",   "10.1.2.3",        "172.16.0.1", "172.31.255.255",
                           "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                           "224.0.0.1",   "255.255.255.255", "192.0.0.8"};
    const char *pub4[] = {"8.8.8.8", "172.32.0.1", "100.128.0.1", "1.1.1.1", "192.0.2.1"};
    for (size_t i = 0; i < ARRAY_LEN(priv4); i++) {
        CHECK(private_v4(priv4[i]));
    }
    for (size_t i = 0; i < ARRAY_LEN(pub4); i++) {
        CHECK(!private_v4(pub4[i]));
    }
    CHECK(private_v6("::1"));
    CHECK(private_v6("::"));
    CHECK(private_v6("fe80::1"));
    CHECK(private_v6("fd00::1"));
    CHECK(private_v6("ff02::1"));
    CHECK(private_v6("::ffff:127.0.0.1"));
    CHECK(private_v6("::ffff:10.0.0.1"));
    CHECK(!private_v6("2606:4700::1111"));
    CHECK(!private_v6("::ffff:8.8.8.8"));
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/pds-test-blobstore-%d", (int)getpid());
    RUN(test_blobstore_disk_roundtrip);
    RUN(test_blobstore_refuses_path_tricks);
    RUN(test_blobstore_upload_clear_removes_temp_file);
    RUN(test_blobstore_s3_needs_credentials);
    RUN(test_httppull_private_addresses);
    rm_rf(root);
    return test_report();
}
