/* linger.c - the lingering-close thread (see linger.h). */
#include "http/linger.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "db/log.h"

#define LINGER_TICK_MS       100 /* how often deadlines are checked */
#define LINGER_EVENTS        64
#define LINGER_READ_BYTES    (64 << 10)
#define LINGER_READS_PER_REV 4 /* reads per readiness event, so one fast sender cannot starve */

struct lsock {
    int fd;
    int64_t start_ms, last_ms;
};

struct linger_pool {
    pthread_t thread;
    int epoll_fd;
    int wake_fd;        /* eventfd: written by linger_stop */
    pthread_mutex_t mu; /* guards socks, n, stopping */
    struct lsock socks[LINGER_MAX_SOCKETS];
    unsigned n;
    bool stopping;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Caller holds mu. Swaps the last socket into slot i. */
static void drop(struct linger_pool *l, unsigned i)
{
    /* removed from the set before the close: the set follows open files, not numbers */
    epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, l->socks[i].fd, NULL);
    close(l->socks[i].fd);
    l->socks[i] = l->socks[--l->n];
}

/* Caller holds mu. Reads and drops what fd has; false once it is finished (EOF, error). */
static bool drain_some(int fd)
{
    static uint8_t sink[LINGER_READ_BYTES]; /* only the linger thread drains */
    for (int k = 0; k < LINGER_READS_PER_REV; k++) {
        ssize_t n = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return true;
        }
        return false; /* the client closed, or the connection broke */
    }
    return true;
}

static void on_ready(struct linger_pool *l, int fd, int64_t now)
{
    for (unsigned i = 0; i < l->n; i++) {
        if (l->socks[i].fd == fd) {
            if (drain_some(fd)) {
                l->socks[i].last_ms = now;
            } else {
                drop(l, i);
            }
            return;
        }
    }
}

static void expire(struct linger_pool *l, int64_t now)
{
    for (unsigned i = 0; i < l->n;) {
        const struct lsock *s = &l->socks[i];
        if (now - s->start_ms >= LINGER_TIME_MS || now - s->last_ms >= LINGER_IDLE_MS) {
            drop(l, i); /* slot i now holds another socket: look at it again */
        } else {
            i++;
        }
    }
}

static void *run(void *arg)
{
    struct linger_pool *l = arg;
    struct epoll_event evs[LINGER_EVENTS];
    for (;;) {
        int n = epoll_wait(l->epoll_fd, evs, LINGER_EVENTS, LINGER_TICK_MS);
        int64_t now = now_ms();
        pthread_mutex_lock(&l->mu);
        if (l->stopping) {
            pthread_mutex_unlock(&l->mu);
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd != l->wake_fd) {
                on_ready(l, evs[i].data.fd, now);
            }
        }
        expire(l, now);
        pthread_mutex_unlock(&l->mu);
    }
}

enum err linger_start(struct linger_pool **out)
{
    *out = NULL;
    struct linger_pool *l = xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->wake_fd};
    if (l->epoll_fd < 0 || l->wake_fd < 0 ||
        epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->wake_fd, &ev) != 0 ||
        pthread_create(&l->thread, NULL, run, l) != 0) {
        log_error(NULL, "could not start the lingering-close thread: %s", strerror(errno));
        if (l->epoll_fd >= 0) {
            close(l->epoll_fd);
        }
        if (l->wake_fd >= 0) {
            close(l->wake_fd);
        }
        pthread_mutex_destroy(&l->mu);
        free(l);
        return ERR_INTERNAL;
    }
    *out = l;
    return ERR_OK;
}

void linger_take(struct linger_pool *l, int fd)
{
    if (fd < 0) {
        return;
    }
    shutdown(fd, SHUT_WR); /* our answer is complete: the client may see the end now */
    if (!l) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&l->mu);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
    if (l->stopping || l->n == LINGER_MAX_SOCKETS ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
        epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        pthread_mutex_unlock(&l->mu);
        close(fd); /* the reset this may cause is the price of a bounded thread */
        return;
    }
    int64_t now = now_ms();
    l->socks[l->n++] = (struct lsock){fd, now, now};
    pthread_mutex_unlock(&l->mu);
}

unsigned linger_count(struct linger_pool *l)
{
    if (!l) {
        return 0;
    }
    pthread_mutex_lock(&l->mu);
    unsigned n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

void linger_stop(struct linger_pool *l)
{
    if (!l) {
        return;
    }
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_mutex_unlock(&l->mu);
    uint64_t one = 1;
    ssize_t w = write(l->wake_fd, &one, sizeof one);
    (void)w; /* the thread also wakes within LINGER_TICK_MS */
    pthread_join(l->thread, NULL);
    while (l->n) {
        drop(l, 0);
    }
    close(l->epoll_fd);
    close(l->wake_fd);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
