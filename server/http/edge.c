/* edge.c - per-address connection caps, request deadlines and the watchdog (see edge.h).
 *
 * libmicrohttpd's own timeout is an idle timeout: every byte received restarts it, so a
 * client sending one byte a second keeps a connection for ever. The watchdog instead
 * measures from the start of each request (the connection's opening, or the end of the
 * previous response) and shuts the socket down when the head or the body is late; the
 * library then sees the end of input and closes the connection itself. The deadline
 * includes the wait before the first byte, which the library does not report: a
 * keep-alive connection silent for the whole headers timeout is closed, as the idle
 * timeout would close it. */
#include "http/edge.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/bytes.h"
#include "db/log.h"
#include "http/linger.h"
#include "http/peer.h"

#define EDGE_TICK_MIN_MS    50    /* watchdog period bounds: a quarter of the shortest */
#define EDGE_TICK_MAX_MS    1000  /* deadline, within these */
#define EDGE_REFUSAL_LOG_MS 10000 /* refusals are logged at most this often */
#define EDGE_IP_TEXT_MAX    48    /* INET6_ADDRSTRLEN, rounded up */

enum edge_phase {
    PHASE_HEAD,     /* waiting for a request head: headers and request deadlines */
    PHASE_BODY,     /* head in, body coming: request deadline */
    PHASE_BUSY,     /* handler running or response going out: no deadline */
    PHASE_UPGRADED, /* WebSocket: no deadline, for good */
    PHASE_CUT,      /* shut down by the watchdog: ending */
    PHASE_REFUSED,  /* over its address's cap: ending */
};

struct edge_conn {
    struct edge_conn *prev, *next; /* e->conns */
    int fd;
    struct peer_addr addr;
    bool counted; /* holds one of its address's slots in e->peers */
    bool linger;  /* answered before its body was read */
    enum edge_phase phase;
    int64_t since_ms; /* start of the current request's deadlines */
    char ip[EDGE_IP_TEXT_MAX];
};

struct edge {
    struct edge_limits lim;
    int64_t tick_ms;
    pthread_mutex_t mu; /* guards everything below but the threads and linger */
    pthread_cond_t wake;
    bool stopping;
    struct edge_conn *conns; /* every open connection */
    struct peer_count peers;
    uint64_t cuts, refused;
    uint64_t refused_unlogged;
    int64_t refusal_logged_ms;
    pthread_t watchdog;
    struct linger_pool *linger;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned cap_of(const struct edge *e, const struct peer_addr *a)
{
    return peer_addr_is_local(a) ? e->lim.per_local_ip : e->lim.per_ip;
}

/* Caller holds mu. One warning per EDGE_REFUSAL_LOG_MS however many are refused. */
static void note_refusal(struct edge *e, const char *ip)
{
    e->refused++;
    e->refused_unlogged++;
    int64_t now = now_ms();
    if (now - e->refusal_logged_ms >= EDGE_REFUSAL_LOG_MS) {
        log_warn(NULL, "refused %llu connection(s) over the per-address cap (latest from %s)",
                 (unsigned long long)e->refused_unlogged, ip);
        e->refused_unlogged = 0;
        e->refusal_logged_ms = now;
    }
}

/* The deadline of c now, or 0 when none applies. */
static int64_t deadline_of(const struct edge *e, const struct edge_conn *c)
{
    int64_t h = e->lim.headers_timeout_ms, r = e->lim.request_timeout_ms;
    if (c->phase == PHASE_HEAD) {
        int64_t t = h > 0 && (r <= 0 || h < r) ? h : r;
        return t > 0 ? c->since_ms + t : 0;
    }
    if (c->phase == PHASE_BODY) {
        return r > 0 ? c->since_ms + r : 0;
    }
    return 0;
}

/* Caller holds mu. */
static void cut_late(struct edge *e, int64_t now)
{
    for (struct edge_conn *c = e->conns; c; c = c->next) {
        int64_t due = deadline_of(e, c);
        if (!due || now < due) {
            continue;
        }
        bool head = c->phase == PHASE_HEAD;
        /* the socket stays open (the library closes it); mu keeps c, so fd, alive */
        shutdown(c->fd, SHUT_RDWR);
        c->phase = PHASE_CUT;
        e->cuts++;
        /* a late head is also what an idle keep-alive connection looks like: debug only */
        log_write(head ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, NULL,
                  "closed a connection from %s: request %s not received within %lld ms", c->ip,
                  head ? "head" : "body", (long long)(now - c->since_ms));
    }
}

static void *watchdog(void *arg)
{
    struct edge *e = arg;
    pthread_mutex_lock(&e->mu);
    while (!e->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += (long)(e->tick_ms % 1000) * 1000000L;
        until.tv_sec += e->tick_ms / 1000 + until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&e->wake, &e->mu, &until);
        if (!e->stopping) {
            cut_late(e, now_ms());
        }
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static int64_t tick_for(const struct edge_limits *lim)
{
    int64_t t = 0;
    if (lim->headers_timeout_ms > 0) {
        t = lim->headers_timeout_ms;
    }
    if (lim->request_timeout_ms > 0 && (t == 0 || lim->request_timeout_ms < t)) {
        t = lim->request_timeout_ms;
    }
    t = t ? t / 4 : EDGE_TICK_MAX_MS;
    return t < EDGE_TICK_MIN_MS ? EDGE_TICK_MIN_MS : t > EDGE_TICK_MAX_MS ? EDGE_TICK_MAX_MS : t;
}

enum err edge_start(const struct edge_limits *lim, struct edge **out)
{
    *out = NULL;
    struct edge *e = xcalloc(1, sizeof *e);
    e->lim = *lim;
    e->tick_ms = tick_for(lim);
    e->refusal_logged_ms = now_ms() - EDGE_REFUSAL_LOG_MS;
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_condattr_destroy(&ca);
    peer_count_init(&e->peers);
    if (linger_start(&e->linger) != ERR_OK) {
        e->linger = NULL; /* refusals then close at once; still serve */
    }
    if (pthread_create(&e->watchdog, NULL, watchdog, e) != 0) {
        log_error(NULL, "could not start the connection watchdog thread");
        linger_stop(e->linger);
        peer_count_clear(&e->peers);
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->mu);
        free(e);
        return ERR_INTERNAL;
    }
    *out = e;
    return ERR_OK;
}

void edge_stop(struct edge *e)
{
    if (!e) {
        return;
    }
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->watchdog, NULL);
    linger_stop(e->linger);
    if (e->conns) {
        log_warn(NULL, "connection bookkeeping stopped with connections still open");
    }
    peer_count_clear(&e->peers);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

bool edge_admit(struct edge *e, const struct sockaddr *addr)
{
    struct peer_addr a;
    peer_addr_from_sockaddr(addr, &a);
    pthread_mutex_lock(&e->mu);
    unsigned cap = cap_of(e, &a);
    bool ok = a.family == 0 || cap == 0 || peer_count_get(&e->peers, &a) < cap;
    if (!ok) {
        char ip[EDGE_IP_TEXT_MAX] = "?";
        inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.bytes, ip, sizeof ip);
        note_refusal(e, ip);
    }
    pthread_mutex_unlock(&e->mu);
    return ok;
}

struct edge_conn *edge_conn_open(struct edge *e, int fd, const struct sockaddr *addr)
{
    struct edge_conn *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    peer_addr_from_sockaddr(addr, &c->addr);
    snprintf(c->ip, sizeof c->ip, "-");
    if (c->addr.family) {
        inet_ntop(c->addr.family == 4 ? AF_INET : AF_INET6, c->addr.bytes, c->ip, sizeof c->ip);
    }
    pthread_mutex_lock(&e->mu);
    c->since_ms = now_ms();
    /* edge_admit looked without counting: two threads may both have admitted the last slot */
    if (peer_count_add(&e->peers, &c->addr, cap_of(e, &c->addr))) {
        c->counted = true;
        c->phase = PHASE_HEAD;
    } else {
        c->phase = PHASE_REFUSED;
        shutdown(fd, SHUT_RDWR);
        note_refusal(e, c->ip);
    }
    c->next = e->conns;
    if (e->conns) {
        e->conns->prev = c;
    }
    e->conns = c;
    pthread_mutex_unlock(&e->mu);
    return c;
}

/* Input is waiting: closing now would make the kernel reset the connection. */
static bool has_unread_input(int fd)
{
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

void edge_conn_close(struct edge *e, struct edge_conn *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&e->mu);
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        e->conns = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    if (c->counted) {
        peer_count_del(&e->peers, &c->addr);
    }
    bool ending = c->phase == PHASE_CUT || c->phase == PHASE_REFUSED || c->phase == PHASE_UPGRADED;
    pthread_mutex_unlock(&e->mu);
    if (!ending && (c->linger || has_unread_input(c->fd))) {
        /* the library closes its descriptor right after this; ours keeps the socket */
        linger_take(e->linger, fcntl(c->fd, F_DUPFD_CLOEXEC, 0));
    }
    free(c);
}

bool edge_head_done(struct edge *e, struct edge_conn *c)
{
    if (!c) {
        return true;
    }
    pthread_mutex_lock(&e->mu);
    bool ok = c->phase != PHASE_CUT && c->phase != PHASE_REFUSED;
    if (c->phase == PHASE_HEAD) {
        c->phase = PHASE_BODY;
    }
    pthread_mutex_unlock(&e->mu);
    return ok;
}

bool edge_body_done(struct edge *e, struct edge_conn *c)
{
    if (!c) {
        return true;
    }
    pthread_mutex_lock(&e->mu);
    bool ok = c->phase != PHASE_CUT && c->phase != PHASE_REFUSED;
    if (c->phase == PHASE_HEAD || c->phase == PHASE_BODY) {
        c->phase = PHASE_BUSY;
    }
    pthread_mutex_unlock(&e->mu);
    return ok;
}

void edge_request_done(struct edge *e, struct edge_conn *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&e->mu);
    if (c->phase == PHASE_HEAD || c->phase == PHASE_BODY || c->phase == PHASE_BUSY) {
        c->phase = PHASE_HEAD;
        c->since_ms = now_ms();
    }
    pthread_mutex_unlock(&e->mu);
}

void edge_conn_upgraded(struct edge *e, struct edge_conn *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&e->mu);
    if (c->phase != PHASE_CUT && c->phase != PHASE_REFUSED) {
        c->phase = PHASE_UPGRADED;
    }
    pthread_mutex_unlock(&e->mu);
}

void edge_conn_linger(struct edge *e, struct edge_conn *c)
{
    if (!c) {
        return;
    }
    pthread_mutex_lock(&e->mu);
    c->linger = true;
    pthread_mutex_unlock(&e->mu);
}

uint64_t edge_cut_count(struct edge *e)
{
    pthread_mutex_lock(&e->mu);
    uint64_t n = e->cuts;
    pthread_mutex_unlock(&e->mu);
    return n;
}

uint64_t edge_refused_count(struct edge *e)
{
    pthread_mutex_lock(&e->mu);
    uint64_t n = e->refused;
    pthread_mutex_unlock(&e->mu);
    return n;
}
