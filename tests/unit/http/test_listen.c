/* test_listen.c - PDS_LISTEN_ADDRESS literals become the right socket address, port and
 * reach (loopback, every interface, one address); anything else is refused. */
#include "http/listen.h"

#include <arpa/inet.h>

#include "unit/test.h"

static void test_listen_ipv4(void)
{
    struct listen_addr la;
    CHECK_EQ(listen_addr_parse("127.0.0.1", 2583, &la), ERR_OK);
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&la.sa;
    CHECK_EQ(la.family, AF_INET);
    CHECK_EQ(v4->sin_family, AF_INET);
    CHECK_EQ(ntohs(v4->sin_port), 2583);
    CHECK_EQ(ntohl(v4->sin_addr.s_addr), 0x7f000001);
    CHECK_EQ(la.sa_len, sizeof(struct sockaddr_in));
    CHECK_EQ(la.scope, LISTEN_LOOPBACK);
    CHECK_STR(la.text, "127.0.0.1:2583");

    CHECK_EQ(listen_addr_parse("127.8.9.10", 1, &la), ERR_OK); /* all of 127/8 */
    CHECK_EQ(la.scope, LISTEN_LOOPBACK);
    CHECK_EQ(listen_addr_parse("0.0.0.0", 65535, &la), ERR_OK);
    CHECK_EQ(la.scope, LISTEN_ALL);
    CHECK_STR(la.text, "0.0.0.0:65535");
    CHECK_EQ(listen_addr_parse("192.168.1.5", 80, &la), ERR_OK);
    CHECK_EQ(la.scope, LISTEN_ONE);
    CHECK_EQ(listen_addr_parse("128.0.0.1", 80, &la), ERR_OK); /* not loopback */
    CHECK_EQ(la.scope, LISTEN_ONE);
}

static void test_listen_ipv6(void)
{
    struct listen_addr la;
    CHECK_EQ(listen_addr_parse("::1", 2583, &la), ERR_OK);
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&la.sa;
    CHECK_EQ(la.family, AF_INET6);
    CHECK_EQ(v6->sin6_family, AF_INET6);
    CHECK_EQ(ntohs(v6->sin6_port), 2583);
    CHECK(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
    CHECK_EQ(la.sa_len, sizeof(struct sockaddr_in6));
    CHECK_EQ(la.scope, LISTEN_LOOPBACK);
    CHECK_STR(la.text, "[::1]:2583");

    CHECK_EQ(listen_addr_parse("::", 3000, &la), ERR_OK);
    CHECK_EQ(la.scope, LISTEN_ALL);
    CHECK_STR(la.text, "[::]:3000");
    /* printed in canonical form */
    CHECK_EQ(listen_addr_parse("2001:DB8:0:0:0:0:0:1", 443, &la), ERR_OK);
    CHECK_EQ(la.scope, LISTEN_ONE);
    CHECK_STR(la.text, "[2001:db8::1]:443");
}

static void test_listen_refused(void)
{
    struct listen_addr la;
    const char *bad[] = {"",          "localhost", "[::1]",      "127.0.0.1:2583", "1.2.3",
                         "1.2.3.256", "::1%lo",    " 127.0.0.1", "example.com"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK_EQ(listen_addr_parse(bad[i], 2583, &la), ERR_INVALID);
        CHECK_EQ(la.family, 0);
    }
    CHECK_EQ(listen_addr_parse(NULL, 2583, &la), ERR_INVALID);
    CHECK_EQ(listen_addr_parse("127.0.0.1", 0, &la), ERR_INVALID);
    CHECK_EQ(listen_addr_parse("127.0.0.1", 65536, &la), ERR_INVALID);
}

static void test_listen_scope_phrases(void)
{
    CHECK(strstr(listen_scope_str(LISTEN_LOOPBACK), "loopback") != NULL);
    CHECK(strstr(listen_scope_str(LISTEN_ALL), "every interface") != NULL);
    CHECK(strstr(listen_scope_str(LISTEN_ONE), "one interface") != NULL);
}

int main(void)
{
    RUN(test_listen_ipv4);
    RUN(test_listen_ipv6);
    RUN(test_listen_refused);
    RUN(test_listen_scope_phrases);
    return test_report();
}
