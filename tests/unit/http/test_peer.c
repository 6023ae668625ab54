/* test_peer.c - peer addresses: socket addresses and text folded alike (IPv4-mapped IPv6 is
 * IPv4), the local-address table, and the per-address count: caps, release, IPv6 per /64,
 * growth past many addresses. */
#include "http/peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "unit/test.h"

static struct peer_addr parsed(const char *text)
{
    struct peer_addr a;
    CHECK(peer_addr_parse(text, &a));
    return a;
}

static void test_peer_addr_folds_mapped_ipv6_and_matches_sockaddr(void)
{
    struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
    CHECK_EQ(inet_pton(AF_INET6, "::ffff:203.0.113.7", &s6.sin6_addr), 1);
    struct peer_addr from_sa;
    peer_addr_from_sockaddr((const struct sockaddr *)&s6, &from_sa);
    struct peer_addr v4 = parsed("203.0.113.7");
    CHECK_EQ(from_sa.family, 4);
    CHECK(memcmp(&from_sa, &v4, sizeof v4) == 0);

    struct sockaddr_in s4 = {.sin_family = AF_INET};
    CHECK_EQ(inet_pton(AF_INET, "203.0.113.7", &s4.sin_addr), 1);
    struct peer_addr from_s4;
    peer_addr_from_sockaddr((const struct sockaddr *)&s4, &from_s4);
    CHECK(memcmp(&from_s4, &v4, sizeof v4) == 0);

    struct sockaddr un = {.sa_family = AF_UNIX};
    struct peer_addr none;
    peer_addr_from_sockaddr(&un, &none);
    CHECK_EQ(none.family, 0);
    peer_addr_from_sockaddr(NULL, &none);
    CHECK_EQ(none.family, 0);

    struct peer_addr bad;
    CHECK(!peer_addr_parse("203.0.113", &bad));
    CHECK(!peer_addr_parse("localhost", &bad));
    CHECK(!peer_addr_parse("", &bad));
}

static void test_peer_addr_local_table(void)
{
    static const struct {
        const char *ip;
        bool local;
    } cases[] = {
        {"127.0.0.1", true},
        {"127.9.8.7", true},
        {"10.1.2.3", true},
        {"172.16.0.1", true},
        {"172.31.255.255", true},
        {"172.15.0.1", false},
        {"172.32.0.1", false},
        {"192.168.1.1", true},
        {"192.169.1.1", false},
        {"8.8.8.8", false},
        {"::1", true},
        {"fc00::1", true},
        {"fdff::1", true},
        {"fe80::1", true},
        {"febf::1", true},
        {"fec0::1", false},
        {"2001:db8::1", false},
        {"::ffff:10.0.0.1", true},
        {"::ffff:8.8.8.8", false},
        {"::", false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct peer_addr a = parsed(cases[i].ip);
        if (peer_addr_is_local(&a) != cases[i].local) {
            CHECK(!"local classification");
            fprintf(stderr, "  %s\n", cases[i].ip);
        }
    }
}

static void test_peer_count_caps_and_releases(void)
{
    struct peer_count pc;
    peer_count_init(&pc);
    struct peer_addr a = parsed("198.51.100.1"), b = parsed("198.51.100.2");
    CHECK(peer_count_add(&pc, &a, 2));
    CHECK(peer_count_add(&pc, &a, 2));
    CHECK(!peer_count_add(&pc, &a, 2)); /* at its cap */
    CHECK_EQ(peer_count_get(&pc, &a), 2);
    CHECK(peer_count_add(&pc, &b, 2)); /* others are not affected */
    CHECK_EQ(peer_count_addresses(&pc), 2);
    peer_count_del(&pc, &a);
    CHECK_EQ(peer_count_get(&pc, &a), 1);
    CHECK(peer_count_add(&pc, &a, 2)); /* the slot came back */
    peer_count_del(&pc, &a);
    peer_count_del(&pc, &a);
    CHECK_EQ(peer_count_get(&pc, &a), 0);
    CHECK_EQ(peer_count_addresses(&pc), 1); /* an address at zero leaves the table */
    for (int i = 0; i < 1000; i++) {
        CHECK(peer_count_add(&pc, &b, 0)); /* cap 0: no cap */
    }
    CHECK_EQ(peer_count_get(&pc, &b), 1001);
    struct peer_addr none = {0};
    CHECK(peer_count_add(&pc, &none, 1)); /* not an IP address: never counted */
    CHECK(peer_count_add(&pc, &none, 1));
    CHECK_EQ(peer_count_get(&pc, &none), 0);
    peer_count_del(&pc, &none);
    peer_count_clear(&pc);
    CHECK_EQ(peer_count_addresses(&pc), 0);
    peer_count_clear(&pc); /* safe twice */
}

static void test_peer_count_ipv6_per_64(void)
{
    struct peer_count pc;
    peer_count_init(&pc);
    struct peer_addr a = parsed("2001:db8:1:2::1"), b = parsed("2001:db8:1:2:ffff::9");
    struct peer_addr other = parsed("2001:db8:1:3::1");
    CHECK(peer_count_add(&pc, &a, 2));
    CHECK(peer_count_add(&pc, &b, 2));
    CHECK(!peer_count_add(&pc, &a, 2)); /* same /64 */
    CHECK_EQ(peer_count_get(&pc, &b), 2);
    CHECK(peer_count_add(&pc, &other, 2));
    peer_count_del(&pc, &b);
    CHECK_EQ(peer_count_get(&pc, &a), 1);
    peer_count_clear(&pc);
}

static void test_peer_count_grows_past_many_addresses(void)
{
    struct peer_count pc;
    peer_count_init(&pc);
    char ip[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(ip, sizeof ip, "100.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        struct peer_addr a = parsed(ip);
        CHECK(peer_count_add(&pc, &a, 1));
        CHECK(!peer_count_add(&pc, &a, 1));
    }
    CHECK_EQ(peer_count_addresses(&pc), 5000);
    for (int i = 0; i < 5000; i += 2) {
        snprintf(ip, sizeof ip, "100.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        struct peer_addr a = parsed(ip);
        peer_count_del(&pc, &a);
    }
    CHECK_EQ(peer_count_addresses(&pc), 2500);
    struct peer_addr odd = parsed("100.0.0.1"), even = parsed("100.0.0.2");
    CHECK_EQ(peer_count_get(&pc, &odd), 1);
    CHECK_EQ(peer_count_get(&pc, &even), 0);
    peer_count_clear(&pc);
}

int main(void)
{
    RUN(test_peer_addr_folds_mapped_ipv6_and_matches_sockaddr);
    RUN(test_peer_addr_local_table);
    RUN(test_peer_count_caps_and_releases);
    RUN(test_peer_count_ipv6_per_64);
    RUN(test_peer_count_grows_past_many_addresses);
    return test_report();
}
