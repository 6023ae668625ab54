/* test_linger.c - the lingering-close thread on socketpairs: a taken socket ends its sending
 * side at once, keeps draining what the peer sends, and is closed when the peer closes, when
 * it falls silent (LINGER_IDLE_MS), or at once when the thread is full. */
#include "http/linger.h"

#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "unit/test.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls linger_count until it is n, for at most ms; whether it got there. */
static bool count_becomes(struct linger_pool *l, unsigned n, int ms)
{
    int64_t until = now_ms() + ms;
    while (linger_count(l) != n) {
        if (now_ms() > until) {
            return false;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return true;
}

static void test_linger_drains_until_the_peer_closes(void)
{
    struct linger_pool *l = NULL;
    CHECK_EQ(linger_start(&l), ERR_OK);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    linger_take(l, sv[0]);
    CHECK_EQ(linger_count(l), 1);
    char b[16];
    CHECK_EQ(recv(sv[1], b, sizeof b, 0), 0); /* our sending side ended at once */
    static uint8_t junk[1 << 20];
    size_t sent = 0;
    while (sent < sizeof junk) {
        struct pollfd p = {.fd = sv[1], .events = POLLOUT};
        if (poll(&p, 1, 1000) != 1) {
            break;
        }
        ssize_t n = send(sv[1], junk + sent, sizeof junk - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EAGAIN) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        sent += (size_t)n;
    }
    CHECK_EQ(sent, sizeof junk); /* all of it read and dropped, none refused */
    close(sv[1]);
    CHECK(count_becomes(l, 0, 1000)); /* closed once the peer closed */
    linger_stop(l);
}

static void test_linger_closes_a_silent_socket(void)
{
    struct linger_pool *l = NULL;
    CHECK_EQ(linger_start(&l), ERR_OK);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int64_t t0 = now_ms();
    linger_take(l, sv[0]);
    CHECK(count_becomes(l, 0, LINGER_IDLE_MS + 1000));
    int64_t took = now_ms() - t0;
    CHECK(took >= LINGER_IDLE_MS - 50);
    CHECK_EQ(send(sv[1], "x", 1, MSG_NOSIGNAL), -1); /* really closed */
    close(sv[1]);
    linger_stop(l);
}

static void test_linger_closes_at_once_when_full_or_absent(void)
{
    struct linger_pool *l = NULL;
    CHECK_EQ(linger_start(&l), ERR_OK);
    int peers[LINGER_MAX_SOCKETS];
    for (int i = 0; i < LINGER_MAX_SOCKETS; i++) {
        int sv[2];
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        linger_take(l, sv[0]);
        peers[i] = sv[1];
    }
    CHECK_EQ(linger_count(l), LINGER_MAX_SOCKETS);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    linger_take(l, sv[0]); /* one too many */
    CHECK_EQ(linger_count(l), LINGER_MAX_SOCKETS);
    CHECK_EQ(send(sv[1], "x", 1, MSG_NOSIGNAL), -1);
    close(sv[1]);
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    linger_take(NULL, sv[0]); /* no thread */
    CHECK_EQ(send(sv[1], "x", 1, MSG_NOSIGNAL), -1);
    close(sv[1]);
    linger_take(l, -1); /* a failed dup: nothing to do */
    linger_stop(l);     /* closes the rest */
    for (int i = 0; i < LINGER_MAX_SOCKETS; i++) {
        CHECK_EQ(send(peers[i], "x", 1, MSG_NOSIGNAL), -1);
        close(peers[i]);
    }
}

int main(void)
{
    RUN(test_linger_drains_until_the_peer_closes);
    RUN(test_linger_closes_a_silent_socket);
    RUN(test_linger_closes_at_once_when_full_or_absent);
    return test_report();
}
