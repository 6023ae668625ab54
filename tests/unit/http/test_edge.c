/* test_edge.c - connection bookkeeping on real sockets (socketpairs stand for accepted
 * connections): the watchdog cuts a late head or body and nothing else, the deadline starts
 * again with each request, per-address caps (including the race past edge_admit), and the
 * lingering close after an early answer. Deadlines are a few hundred milliseconds. */
#include "http/edge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "db/log.h"
#include "unit/test.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether the far end of fd has ended its sending within ms (reads and drops data first). */
static bool sees_end_within(int fd, int ms)
{
    int64_t until = now_ms() + ms;
    for (;;) {
        int left = (int)(until - now_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0) {
            return false;
        }
        char b[256];
        ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            return true;
        }
    }
}

static struct edge *start(unsigned per_ip, unsigned per_local, int64_t headers, int64_t request)
{
    struct edge_limits lim = {per_ip, per_local, headers, request};
    struct edge *e = NULL;
    CHECK_EQ(edge_start(&lim, &e), ERR_OK);
    return e;
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    CHECK_EQ(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

static void test_edge_cuts_a_late_head_at_its_deadline(void)
{
    struct edge *e = start(0, 0, 200, 1000);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int64_t t0 = now_ms();
    struct edge_conn *c = edge_conn_open(e, sv[0], NULL);
    CHECK(!sees_end_within(sv[1], 100)); /* not before the deadline */
    CHECK(sees_end_within(sv[1], 1000));
    int64_t took = now_ms() - t0;
    CHECK(took >= 200 && took < 1000);
    CHECK(!edge_head_done(e, c)); /* the library is told to drop it */
    CHECK_EQ(edge_cut_count(e), 1);
    edge_conn_close(e, c);
    close(sv[0]);
    close(sv[1]);
    edge_stop(e);
}

static void test_edge_cuts_a_late_body_and_restarts_per_request(void)
{
    struct edge *e = start(0, 0, 400, 800);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct edge_conn *c = edge_conn_open(e, sv[0], NULL);
    sleep_ms(120);
    CHECK(edge_head_done(e, c)); /* head in time: the request deadline applies now */
    CHECK(edge_body_done(e, c)); /* body in: no deadline while the handler runs */
    CHECK(!sees_end_within(sv[1], 1000));
    edge_request_done(e, c); /* the next request starts its own clock */
    CHECK(!sees_end_within(sv[1], 150));
    CHECK(edge_head_done(e, c));
    CHECK(!sees_end_within(sv[1], 350)); /* past the headers deadline, but the head is in */
    CHECK(sees_end_within(sv[1], 1500)); /* the body is late */
    CHECK(!edge_body_done(e, c));
    edge_conn_close(e, c);
    close(sv[0]);
    close(sv[1]);
    edge_stop(e);
}

static void test_edge_never_cuts_an_upgraded_connection(void)
{
    struct edge *e = start(0, 0, 100, 200);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct edge_conn *c = edge_conn_open(e, sv[0], NULL);
    CHECK(edge_head_done(e, c));
    edge_conn_upgraded(e, c);
    CHECK(edge_body_done(e, c));
    edge_request_done(e, c); /* the library may report the request done: still upgraded */
    CHECK(!sees_end_within(sv[1], 500));
    CHECK_EQ(edge_cut_count(e), 0);
    edge_conn_close(e, c);
    close(sv[0]);
    close(sv[1]);
    edge_stop(e);
}

static void test_edge_caps_connections_per_address(void)
{
    struct edge *e = start(2, 1, 0, 0);
    struct sockaddr_in far = v4("203.0.113.5"), near = v4("127.0.0.1");
    const struct sockaddr *fa = (const struct sockaddr *)&far, *na = (const struct sockaddr *)&near;
    int sv[4][2];
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
    }
    CHECK(edge_admit(e, fa));
    struct edge_conn *c1 = edge_conn_open(e, sv[0][0], fa);
    struct edge_conn *c2 = edge_conn_open(e, sv[1][0], fa);
    CHECK(!edge_admit(e, fa)); /* at its cap of 2 */
    /* admitted by another thread before the count moved: refused on opening */
    struct edge_conn *c3 = edge_conn_open(e, sv[2][0], fa);
    CHECK(sees_end_within(sv[2][1], 200));
    CHECK(!edge_head_done(e, c3));
    edge_conn_close(e, c3);
    CHECK(!edge_admit(e, fa));             /* the refused one held no slot */
    CHECK(!sees_end_within(sv[0][1], 50)); /* the others are untouched */
    edge_conn_close(e, c1);
    CHECK(edge_admit(e, fa)); /* a slot came back */
    /* local addresses have their own cap */
    CHECK(edge_admit(e, na));
    struct edge_conn *c4 = edge_conn_open(e, sv[3][0], na);
    CHECK(!edge_admit(e, na));
    CHECK_EQ(edge_refused_count(e), 4); /* three edge_admit refusals, one on opening */
    edge_conn_close(e, c2);
    edge_conn_close(e, c4);
    for (int i = 0; i < 4; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
    edge_stop(e);
}

/* What the library does at the end: tell us, then close its descriptor. */
static void close_like_the_library(struct edge *e, struct edge_conn *c, int fd)
{
    edge_conn_close(e, c);
    close(fd);
}

static void test_edge_lingers_only_after_an_early_answer(void)
{
    struct edge *e = start(0, 0, 0, 0);
    static const char answer[] = "HTTP/1.1 413 Content Too Large\r\n\r\n";
    static uint8_t body[256 << 10];
    int sv[2];

    /* answered before the body: the client may go on sending, and still reads the answer */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct edge_conn *c = edge_conn_open(e, sv[0], NULL);
    CHECK_EQ(write(sv[0], answer, sizeof answer - 1), (ssize_t)(sizeof answer - 1));
    edge_conn_linger(e, c);
    close_like_the_library(e, c, sv[0]);
    size_t sent = 0;
    while (sent < sizeof body) {
        struct pollfd p = {.fd = sv[1], .events = POLLOUT};
        CHECK_EQ(poll(&p, 1, 1000), 1);
        ssize_t n = send(sv[1], body + sent, sizeof body - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) {
            continue;
        }
        CHECK(n > 0); /* drained, not refused */
        if (n <= 0) {
            break;
        }
        sent += (size_t)n;
    }
    char got[sizeof answer] = {0};
    CHECK_EQ(recv(sv[1], got, sizeof got - 1, 0), (ssize_t)(sizeof answer - 1));
    CHECK_STR(got, answer);
    CHECK(sees_end_within(sv[1], 1000)); /* our side has ended its sending */
    close(sv[1]);

    /* an ordinary close with nothing unread is not kept open */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c = edge_conn_open(e, sv[0], NULL);
    close_like_the_library(e, c, sv[0]);
    CHECK_EQ(send(sv[1], "x", 1, MSG_NOSIGNAL), -1);
    close(sv[1]);

    /* unread input waiting at close: lingered too, as closing would reset it */
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    c = edge_conn_open(e, sv[0], NULL);
    CHECK_EQ(send(sv[1], "pipelined", 9, MSG_NOSIGNAL), 9);
    close_like_the_library(e, c, sv[0]);
    CHECK_EQ(send(sv[1], "more", 4, MSG_NOSIGNAL), 4);
    close(sv[1]);
    edge_stop(e);
}

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR);
    RUN(test_edge_cuts_a_late_head_at_its_deadline);
    RUN(test_edge_cuts_a_late_body_and_restarts_per_request);
    RUN(test_edge_never_cuts_an_upgraded_connection);
    RUN(test_edge_caps_connections_per_address);
    RUN(test_edge_lingers_only_after_an_early_answer);
    return test_report();
}
