/* test_cidr.c - IP ranges: parsing (with a bad-input table), membership for IPv4, IPv6 and
 * IPv4-mapped addresses, the keywords, and the list ceiling. */
#include "core/cidr.h"

#include "unit/test.h"

static bool in(const char *const *items, const char *addr)
{
    struct cidr_list l = {.len = 0};
    for (size_t i = 0; items[i]; i++) {
        if (cidr_list_add(&l, items[i]) != ERR_OK) {
            return false;
        }
    }
    return cidr_list_contains(&l, addr);
}

static void test_cidr_ranges_match_their_addresses(void)
{
    static const char *const v4[] = {"203.0.113.0/24", NULL};
    CHECK(in(v4, "203.0.113.7"));
    CHECK(in(v4, "203.0.113.255"));
    CHECK(!in(v4, "203.0.114.1"));
    static const char *const odd[] = {"10.1.2.3/12", NULL}; /* host bits are dropped */
    CHECK(in(odd, "10.15.255.255"));
    CHECK(!in(odd, "10.16.0.0"));
    static const char *const one[] = {"198.51.100.9", NULL};
    CHECK(in(one, "198.51.100.9"));
    CHECK(!in(one, "198.51.100.10"));
    static const char *const v6[] = {"2001:db8::/32", NULL};
    CHECK(in(v6, "2001:db8:1234::1"));
    CHECK(!in(v6, "2001:db9::1"));
    static const char *const all[] = {"0.0.0.0/0", NULL};
    CHECK(in(all, "8.8.8.8"));
    CHECK(!in(all, "::1")); /* families never mix */
}

static void test_cidr_mapped_addresses_are_ipv4(void)
{
    static const char *const v4[] = {"192.0.2.0/24", NULL};
    CHECK(in(v4, "::ffff:192.0.2.44"));
    static const char *const mapped[] = {"::ffff:192.0.2.0/120", NULL};
    CHECK(in(mapped, "192.0.2.44"));
    CHECK(!in(mapped, "192.0.3.1"));
    struct cidr c;
    CHECK(cidr_addr_parse("::ffff:10.0.0.1", &c));
    CHECK_EQ(c.family, 4);
}

static void test_cidr_keywords_are_the_references_trust_proxy_sets(void)
{
    static const char *const lo[] = {"loopback", NULL};
    CHECK(in(lo, "127.0.0.1"));
    CHECK(in(lo, "127.9.9.9"));
    CHECK(in(lo, "::1"));
    CHECK(!in(lo, "10.0.0.1"));
    static const char *const uniq[] = {"uniquelocal", NULL};
    CHECK(in(uniq, "10.2.3.4"));
    CHECK(in(uniq, "172.31.0.1"));
    CHECK(!in(uniq, "172.32.0.1"));
    CHECK(in(uniq, "192.168.1.1"));
    CHECK(in(uniq, "fd00::1"));
    CHECK(!in(uniq, "203.0.113.1"));
    static const char *const link[] = {"linklocal", NULL};
    CHECK(in(link, "169.254.1.1"));
    CHECK(in(link, "fe80::1"));
    static const char *const none[] = {"none", NULL};
    CHECK(!in(none, "127.0.0.1"));
}

static void test_cidr_refuses_bad_input(void)
{
    static const char *const bad[] = {
        "",           "10.0.0.0/33",   "10.0.0.0/-1",
        "10.0.0.0/",  "10.0.0.0/8/8",  "10.0.0/8",
        "::/129",     "not-an-ip",     "1.2.3.4 /8",
        "1.2.3.4/8x", "2001:db8::/+8", "::ffff:1.2.3.4/95",
        "256.1.1.1",  "1.2.3.4/0008",
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        struct cidr c;
        if (cidr_parse(bad[i], &c) == ERR_OK) {
            fprintf(stderr, "accepted \"%s\"\n", bad[i]);
            CHECK(false);
        }
    }
    struct cidr_list l = {.len = 0};
    CHECK_EQ(cidr_list_add(&l, "10.0.0.0/33"), ERR_INVALID);
    CHECK_EQ(l.len, 0);
    CHECK(!cidr_list_contains(&l, "garbage"));
    CHECK(!cidr_list_contains(NULL, "127.0.0.1"));
}

static void test_cidr_list_has_a_ceiling(void)
{
    struct cidr_list *l = calloc(1, sizeof *l);
    for (int i = 0; i < CIDR_LIST_MAX; i++) {
        CHECK_EQ(cidr_list_add(l, "10.0.0.1"), ERR_OK);
    }
    CHECK_EQ(cidr_list_add(l, "10.0.0.2"), ERR_TOO_LARGE);
    CHECK_EQ(cidr_list_add(l, "loopback"), ERR_TOO_LARGE);
    CHECK_EQ(l->len, CIDR_LIST_MAX);
    free(l);
}

static void test_cidr_formats_networks(void)
{
    struct cidr c;
    CHECK_EQ(cidr_parse("2001:db8:aaaa:bbbb:1:2:3:4/64", &c), ERR_OK);
    char out[CIDR_ADDR_STR_MAX];
    cidr_format_addr(&c, out);
    CHECK_STR(out, "2001:db8:aaaa:bbbb::");
    CHECK_EQ(cidr_parse("192.0.2.77/24", &c), ERR_OK);
    cidr_format_addr(&c, out);
    CHECK_STR(out, "192.0.2.0");
}

int main(void)
{
    RUN(test_cidr_ranges_match_their_addresses);
    RUN(test_cidr_mapped_addresses_are_ipv4);
    RUN(test_cidr_keywords_are_the_references_trust_proxy_sets);
    RUN(test_cidr_refuses_bad_input);
    RUN(test_cidr_list_has_a_ceiling);
    RUN(test_cidr_formats_networks);
    return test_report();
}
