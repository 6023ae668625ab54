/* test_password.c - argon2id hash and verify, app-password shape and randomness, tokens. */
#include "crypto/password.h"

#include "unit/test.h"

static void test_password_hash_then_verify(void)
{
    char hash[PASSWORD_HASH_MAX];
    CHECK_EQ(password_hash(BYTES_LIT("correct horse"), hash), ERR_OK);
    CHECK(strncmp(hash, "$argon2id$", 10) == 0);
    CHECK(strlen(hash) < PASSWORD_HASH_MAX);
    CHECK(password_verify(hash, BYTES_LIT("correct horse")));
    CHECK(!password_verify(hash, BYTES_LIT("correct horsE")));
    CHECK(!password_verify(hash, BYTES_LIT("correct horse ")));
    CHECK(!password_verify(hash, BYTES_LIT("")));
    CHECK(!password_needs_rehash(hash));
}

static void test_password_hash_is_salted(void)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    CHECK_EQ(password_hash(BYTES_LIT("same"), a), ERR_OK);
    CHECK_EQ(password_hash(BYTES_LIT("same"), b), ERR_OK);
    CHECK(strcmp(a, b) != 0);
    CHECK(password_verify(a, BYTES_LIT("same")));
    CHECK(password_verify(b, BYTES_LIT("same")));
}

static void test_password_binary_and_empty_passwords(void)
{
    char hash[PASSWORD_HASH_MAX];
    CHECK_EQ(password_hash(BYTES_LIT("a\0b"), hash), ERR_OK);
    CHECK(password_verify(hash, BYTES_LIT("a\0b")));
    CHECK(!password_verify(hash, BYTES_LIT("a\0c")));
    CHECK(!password_verify(hash, BYTES_LIT("a")));
    CHECK_EQ(password_hash(BYTES_LIT(""), hash), ERR_OK);
    CHECK(password_verify(hash, BYTES_LIT("")));
}

static void test_password_length_limit(void)
{
    static char big[PASSWORD_MAX_BYTES + 1];
    memset(big, 'p', sizeof(big));
    char hash[PASSWORD_HASH_MAX];
    CHECK_EQ(password_hash(bytes_of(big, PASSWORD_MAX_BYTES + 1), hash), ERR_TOO_LARGE);
    CHECK_EQ(password_hash(bytes_of(big, PASSWORD_MAX_BYTES), hash), ERR_OK);
    CHECK(password_verify(hash, bytes_of(big, PASSWORD_MAX_BYTES)));
    CHECK(!password_verify(hash, bytes_of(big, PASSWORD_MAX_BYTES + 1)));
}

static void test_password_verify_rejects_bad_hashes(void)
{
    char hash[PASSWORD_HASH_MAX];
    CHECK_EQ(password_hash(BYTES_LIT("pw"), hash), ERR_OK);
    static const char *bad[] = {
        "",
        "pw",
        "$argon2i$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$2b$10$abcdefghijklmnopqrstuu5Nw7G4oFu0Q9UXrAzc9Cm6p1Kj8rWW", /* bcrypt */
        "$argon2id$v=19$m=65536,t=2,p=1$",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK(!password_verify(bad[i], BYTES_LIT("pw")));
        CHECK(password_needs_rehash(bad[i]));
    }
    CHECK(!password_verify(NULL, BYTES_LIT("pw")));
    /* a tampered hash no longer verifies */
    size_t n = strlen(hash);
    hash[n - 2] = hash[n - 2] == 'A' ? 'B' : 'A';
    CHECK(!password_verify(hash, BYTES_LIT("pw")));
    /* longer than any argon2id string */
    char longer[300];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    CHECK(!password_verify(longer, BYTES_LIT("pw")));
}

static void test_password_app_password_shape(void)
{
    char seen[50][PASSWORD_APP_MAX];
    for (int i = 0; i < 50; i++) {
        char *p = seen[i];
        password_app_generate(p);
        CHECK_EQ(strlen(p), 19);
        CHECK(password_is_app_format(bytes_str(p)));
        for (int k = 0; k < 19; k++) {
            if (k % 5 == 4) {
                CHECK_EQ(p[k], '-');
            } else {
                CHECK((p[k] >= 'a' && p[k] <= 'z') || (p[k] >= '2' && p[k] <= '7'));
            }
        }
        for (int k = 0; k < i; k++) {
            CHECK(strcmp(seen[k], p) != 0); /* 80 random bits: no repeats */
        }
    }
}

static void test_password_app_format_table(void)
{
    static const struct {
        const char *text;
        bool ok;
    } table[] = {
        {"abcd-efgh-ijkl-mnop", true},
        {"2345-67ab-cdef-ghij", true},
        {"abcd-efgh-ijkl-mno", false},
        {"abcd-efgh-ijkl-mnopq", false},
        {"abcdefgh-ijkl-mnop-", false},
        {"abcd_efgh_ijkl_mnop", false},
        {"ABCD-EFGH-IJKL-MNOP", false},
        {"abc1-efgh-ijkl-mnop", false}, /* 1 is not in base32 */
        {"abc8-efgh-ijkl-mnop", false},
        {"", false},
        {"hunter2", false},
    };
    for (size_t i = 0; i < ARRAY_LEN(table); i++) {
        CHECK_EQ(password_is_app_format(bytes_str(table[i].text)), table[i].ok);
    }
    CHECK(!password_is_app_format(BYTES_LIT("abcd-efgh-ijkl-mno\0")));
}

static void test_password_tokens(void)
{
    char hex[41], b32[33], hex2[41];
    password_token_hex(hex, 40);
    password_token_hex(hex2, 40);
    password_token_base32(b32, 32);
    CHECK_EQ(strlen(hex), 40);
    CHECK_EQ(strlen(b32), 32);
    CHECK(strcmp(hex, hex2) != 0);
    CHECK_EQ(strspn(hex, "0123456789abcdef"), 40);
    CHECK_EQ(strspn(b32, "abcdefghijklmnopqrstuvwxyz234567"), 32);
    char empty[1] = {'x'};
    password_token_hex(empty, 0);
    CHECK_EQ(empty[0], '\0');
    /* longer than the internal random chunk */
    static char longtok[301];
    password_token_base32(longtok, 300);
    CHECK_EQ(strlen(longtok), 300);
    /* every symbol shows up over many draws (uniform alphabet use) */
    int counts[256] = {0};
    for (int i = 0; i < 300; i++) {
        counts[(uint8_t)longtok[i]]++;
    }
    int symbols = 0;
    for (int c = 0; c < 256; c++) {
        symbols += counts[c] > 0;
    }
    CHECK(symbols >= 28); /* 32 symbols, 300 draws: missing more than 4 is ~impossible */
}

int main(void)
{
    RUN(test_password_hash_then_verify);
    RUN(test_password_hash_is_salted);
    RUN(test_password_binary_and_empty_passwords);
    RUN(test_password_length_limit);
    RUN(test_password_verify_rejects_bad_hashes);
    RUN(test_password_app_password_shape);
    RUN(test_password_app_format_table);
    RUN(test_password_tokens);
    return test_report();
}
