/* subscribe.c - com.atproto.sync.subscribeRepos: the WebSocket handshake on a worker,
 * then three threads per process:
 *   listener (db/outbox.c)  follows the numbered outbox, frames each new event once;
 *   replay                  reads pages of old events for subscribers with a cursor;
 *   event stream (here)     owns every subscriber socket: queues frames, writes with
 *                           non-blocking I/O under epoll, answers pings, drops the slow.
 * Nothing here waits on a subscriber: a full queue is ConsumerTooSlow, not back-pressure.
 *
 * Replay to live without gap or duplicate: a subscriber with a cursor is in REPLAY and gets
 * no live events; it asks the replay thread for the page after its last seq whenever its
 * queue is half empty. Live batches carry consecutive ranges (the listener reads
 * `seq > last`, see sequencer.c for why that skips nothing), and live_seq is the end of the
 * last one. After a page, once the subscriber's last seq >= live_seq, it turns LIVE and
 * takes, from every later batch, exactly the events above its last seq. An empty page
 * proves every seq up to that page's head was delivered or deleted, so last moves up to the
 * head; the head is at least the live_seq known when the page was asked for, so the
 * subscriber catches up unless writers outrun the replay reads. */
#include "api/sync/subscribe.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/sync/sync.h"
#include "db/metrics.h"
#include "db/outbox.h"
#include "http/websocket.h"
#include "config/config.h"

#define EPOLL_BATCH            256
#define HUB_TICK_MS            250 /* timers: pings, idle and closing deadlines */
#define SHUTDOWN_CLOSE_WAIT_MS 1000
#define REPLAY_RETRY_MS        1000
#define CURSOR_MAX_DIGITS      19

/* Messages handed between threads. */

struct item {
    int64_t seq;
    struct ws_msg *msg;
};

/* A live batch (sub NULL) from the listener, or a replay page for one subscriber. */
struct batch {
    struct batch *next;
    struct sub *sub;
    int64_t head;
    size_t n;
    struct item items[];
};

enum sub_state { SUB_REPLAY, SUB_LIVE, SUB_CLOSING, SUB_DRAINING, SUB_GONE };

struct sub {
    struct ws_conn ws;
    void *handle; /* the upgraded connection, closed with xrpc_upgrade_close */
    enum sub_state state;
    bool from_now;     /* no cursor: starts at the live position when registered */
    bool blocked;      /* the last flush met a full socket: wait for EPOLLOUT */
    bool page_pending; /* a replay read is out: the struct outlives release until it returns */
    int64_t last;      /* highest seq queued, or known not to exist */
    size_t index;      /* position in hub->subs */
    int64_t deadline_ms, last_rx_ms, last_ping_ms;
    uint64_t rx_seen;
    uint64_t id;      /* for the per-subscriber metrics */
    struct sub *next; /* inbox */
};

struct request {
    struct request *next;
    struct sub *sub;
    int64_t after;
    int max_events;
};

struct hub {
    const struct config *cfg;
    char *url;
    size_t max_msgs;
    firehose_events_fn *on_events;
    void *ctx;
    int wake_fd, epoll_fd;
    pthread_t thread, replay_thread;
    bool thread_up, replay_up;
    struct outbox_listener *listener;
    struct ws_msg *too_slow; /* the ConsumerTooSlow error frame, shared */

    pthread_mutex_t lock; /* guards the inbox (new_subs, batches), the replay queue
                             (requests) and the stopping flags */
    pthread_cond_t replay_cond;
    struct sub *new_subs, **new_subs_tail;
    struct batch *batches, **batches_tail;
    struct request *requests, **requests_tail;
    bool stopping, replay_stop;

    /* event-stream thread only */
    struct sub **subs;
    size_t nsubs, cap;
    int64_t live_seq; /* end of the last live batch */
};

static struct hub *the_hub;
static _Atomic size_t subscriber_count; /* mirrors hub.nsubs for other threads (status) */
static _Atomic uint64_t next_sub_id = 1;

/* Each subscriber's lag, copied by the event-stream thread at every tick for /metrics
 * (events behind the live head: not yet queued, plus queued but not yet sent). */
#define LAG_SNAPSHOT_MAX 256 /* subscribers reported one by one; the rest only in the count */
static pthread_mutex_t lag_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the two below */
static struct {
    uint64_t id;
    int64_t lag;
} lag_snapshot[LAG_SNAPSHOT_MAX];
static size_t lag_n;

static struct metrics_family *drops(void)
{
    static const char *const labels[] = {"reason"};
    return metrics_family(
        "pds_firehose_subscriber_drops_total",
        "Subscribers this server disconnected (too_slow: fell behind; idle: silent)",
        METRICS_COUNTER, labels, 1, NULL, 0);
}

static void count_drop(const char *reason)
{
    const char *v[] = {reason};
    metrics_inc(metrics_series(drops(), v));
}

static void publish_lags(struct hub *h)
{
    pthread_mutex_lock(&lag_lock);
    lag_n = 0;
    for (size_t i = 0; i < h->nsubs && lag_n < LAG_SNAPSHOT_MAX; i++) {
        struct sub *s = h->subs[i];
        if (s->state == SUB_LIVE || s->state == SUB_REPLAY) {
            int64_t behind = h->live_seq > s->last ? h->live_seq - s->last : 0;
            lag_snapshot[lag_n].id = s->id;
            lag_snapshot[lag_n].lag = behind + (int64_t)ws_conn_queued(&s->ws);
            lag_n++;
        }
    }
    pthread_mutex_unlock(&lag_lock);
}

static void collect_lags(void *ctx, struct metrics_writer *w)
{
    static const char *const labels[] = {"subscriber"};
    pthread_mutex_lock(&lag_lock);
    for (size_t i = 0; i < lag_n; i++) {
        char id[24];
        snprintf(id, sizeof id, "%llu", (unsigned long long)lag_snapshot[i].id);
        const char *v[] = {id};
        metrics_sample(w, labels, v, 1, (double)lag_snapshot[i].lag);
    }
    pthread_mutex_unlock(&lag_lock);
}

size_t sync_subscribe_count(void)
{
    return subscriber_count;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void wake(struct hub *h)
{
    uint64_t one = 1;
    (void)!write(h->wake_fd, &one, sizeof one);
}

/* A frame message from an outbox frame builder's output; NULL when building failed. */
static struct ws_msg *frame_msg(enum err e, struct buf *b)
{
    struct ws_msg *m = e ? NULL : ws_msg_new(WS_OP_BINARY, buf_bytes(b));
    buf_clear(b);
    return m;
}

static struct ws_msg *error_msg(const char *error, const char *message)
{
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    return frame_msg(outbox_error_frame(error, message, &b), &b);
}

static struct batch *batch_from_page(struct outbox_page *p, struct sub *s)
{
    struct batch *b = xmalloc(sizeof *b + p->n * sizeof b->items[0]);
    b->next = NULL;
    b->sub = s;
    b->head = p->head;
    b->n = p->n;
    for (size_t i = 0; i < p->n; i++) {
        b->items[i].seq = p->events[i].seq;
        b->items[i].msg =
            ws_msg_new(WS_OP_BINARY, bytes_of(p->events[i].frame, p->events[i].frame_len));
    }
    return b;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        ws_msg_unref(b->items[i].msg);
    }
    free(b);
}

static void post_batch(struct hub *h, struct batch *b)
{
    pthread_mutex_lock(&h->lock);
    *h->batches_tail = b;
    h->batches_tail = &b->next;
    pthread_mutex_unlock(&h->lock);
    wake(h);
}

/* Listener thread: each page of new events becomes one live batch, framed once. */
static void on_live_page(void *ctx, struct outbox_page *page)
{
    struct hub *h = ctx;
    post_batch(h, batch_from_page(page, NULL));
    if (h->on_events) {
        h->on_events(h->ctx);
    }
}

/* Replay thread */

static void *replay_main(void *arg)
{
    struct hub *h = arg;
    struct db db;
    db_init(&db, h->url);
    pthread_mutex_lock(&h->lock);
    while (!h->replay_stop) {
        struct request *rq = h->requests;
        if (!rq) {
            pthread_cond_wait(&h->replay_cond, &h->lock);
            continue;
        }
        h->requests = rq->next;
        if (!h->requests) {
            h->requests_tail = &h->requests;
        }
        pthread_mutex_unlock(&h->lock);
        struct outbox_page page;
        enum err e = outbox_read(&db, rq->after, rq->max_events,
                                 (int64_t)(FIREHOSE_SUB_MAX_BYTES / 4), &page);
        if (e) {
            log_warn(NULL, "firehose: replay read failed; retrying");
            usleep(REPLAY_RETRY_MS * 1000);
            pthread_mutex_lock(&h->lock);
            rq->next = h->requests; /* first again */
            if (!h->requests) {
                h->requests_tail = &rq->next;
            }
            h->requests = rq;
            continue;
        }
        post_batch(h, batch_from_page(&page, rq->sub));
        outbox_page_clear(&page);
        free(rq);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    db_clear(&db);
    return NULL;
}

static void maybe_request_page(struct hub *h, struct sub *s)
{
    size_t half = h->max_msgs / 2;
    if (s->state != SUB_REPLAY || s->page_pending || ws_conn_queued(&s->ws) > half ||
        s->ws.queued_bytes > FIREHOSE_SUB_MAX_BYTES / 2) {
        return;
    }
    struct request *rq = xcalloc(1, sizeof *rq);
    rq->sub = s;
    rq->after = s->last;
    rq->max_events = (int)(half < FIREHOSE_REPLAY_PAGE ? (half ? half : 1) : FIREHOSE_REPLAY_PAGE);
    s->page_pending = true;
    pthread_mutex_lock(&h->lock);
    *h->requests_tail = rq;
    h->requests_tail = &rq->next;
    pthread_cond_signal(&h->replay_cond);
    pthread_mutex_unlock(&h->lock);
}

/* Event-stream thread: subscriber life */

static void release(struct hub *h, struct sub *s)
{
    epoll_ctl(h->epoll_fd, EPOLL_CTL_DEL, s->ws.fd, NULL);
    xrpc_upgrade_close(s->handle); /* the socket is libmicrohttpd's to close from here */
    ws_conn_clear(&s->ws);
    struct sub *moved = h->subs[--h->nsubs];
    subscriber_count = h->nsubs;
    h->subs[s->index] = moved;
    moved->index = s->index;
    s->state = SUB_GONE;
    if (!s->page_pending) {
        free(s);
    }
}

static void start_closing(struct sub *s, int64_t wait_ms)
{
    s->state = SUB_CLOSING;
    s->deadline_ms = now_ms() + wait_ms;
}

/* spec(event-stream): an error frame, then close (1008 with the error name, as the
 * reference); queued events are dropped first. */
static void close_with_error(struct sub *s, struct ws_msg *err, const char *name)
{
    ws_conn_discard(&s->ws);
    if (err) {
        (void)ws_conn_send_forced(&s->ws, err);
    }
    ws_conn_close(&s->ws, WS_CLOSE_POLICY, name);
    start_closing(s, FIREHOSE_CLOSE_WAIT_MS);
}

/* Writes what can be written and moves the state along; may release s. */
static void settle(struct hub *h, struct sub *s)
{
    if (s->ws.eof) {
        release(h, s);
        return;
    }
    if ((s->ws.close_received || s->ws.failed) && s->state < SUB_CLOSING) {
        start_closing(s, FIREHOSE_CLOSE_WAIT_MS); /* our answering close is queued */
    }
    if (!s->blocked) {
        enum ws_io io = ws_conn_flush(&s->ws);
        if (io == WS_IO_CLOSED) {
            release(h, s);
            return;
        }
        s->blocked = io == WS_IO_AGAIN;
    }
    if (s->state == SUB_DRAINING && s->ws.close_received) {
        release(h, s);
        return;
    }
    if (s->state == SUB_CLOSING && !ws_conn_pending(&s->ws)) {
        if (s->ws.close_received) {
            release(h, s); /* both closes exchanged: spec(rfc6455) 7.1.1 the server closes */
            return;
        }
        shutdown(s->ws.fd, SHUT_WR); /* then wait for the client's close or end of stream */
        s->state = SUB_DRAINING;
    }
    maybe_request_page(h, s);
}

static void too_slow(struct hub *h, struct sub *s)
{
    log_info(NULL, "firehose: subscriber fell %zu events behind; dropped (ConsumerTooSlow)",
             ws_conn_queued(&s->ws));
    count_drop("too_slow");
    close_with_error(s, h->too_slow, "ConsumerTooSlow");
}

static void add_sub(struct hub *h, struct sub *s)
{
    if (h->nsubs == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->subs = xrealloc(h->subs, h->cap * sizeof *h->subs);
    }
    s->index = h->nsubs;
    h->subs[h->nsubs++] = s;
    subscriber_count = h->nsubs;
    s->last_rx_ms = s->last_ping_ms = now_ms();
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = s};
    if (epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, s->ws.fd, &ev) != 0) {
        log_error(NULL, "firehose: could not watch a subscriber socket");
        release(h, s);
        return;
    }
    if (s->from_now) {
        s->last = h->live_seq;
    } else if (s->state == SUB_REPLAY && s->last >= h->live_seq) {
        s->state = SUB_LIVE; /* the cursor is at or past what the listener has seen */
    }
    settle(h, s);
}

/* The queue is full: hand what the socket takes to the kernel and try once more, so that
 * the limit counts a subscriber's backlog, not the size of one burst of events. */
static bool send_after_flush(struct sub *s, struct ws_msg *m)
{
    if (s->blocked) {
        return false;
    }
    enum ws_io io = ws_conn_flush(&s->ws);
    if (io == WS_IO_CLOSED) {
        s->ws.eof = true; /* released by the settle after this batch */
        s->state = SUB_CLOSING;
        return false;
    }
    s->blocked = io == WS_IO_AGAIN;
    return ws_conn_send(&s->ws, m);
}

static void deliver_live(struct hub *h, struct batch *b)
{
    if (b->n == 0) {
        return;
    }
    for (size_t i = h->nsubs; i-- > 0;) {
        struct sub *s = h->subs[i];
        if (s->state != SUB_LIVE) {
            continue;
        }
        for (size_t k = 0; k < b->n; k++) {
            if (b->items[k].seq <= s->last) {
                continue;
            }
            if (!ws_conn_send(&s->ws, b->items[k].msg) && !send_after_flush(s, b->items[k].msg)) {
                if (s->state == SUB_LIVE) {
                    too_slow(h, s);
                }
                break;
            }
            s->last = b->items[k].seq;
        }
    }
    if (b->items[b->n - 1].seq > h->live_seq) {
        h->live_seq = b->items[b->n - 1].seq;
    }
}

static void take_page(struct hub *h, struct batch *b)
{
    struct sub *s = b->sub;
    s->page_pending = false;
    if (s->state == SUB_GONE) {
        free(s);
        return;
    }
    if (s->state != SUB_REPLAY) {
        return;
    }
    for (size_t k = 0; k < b->n; k++) {
        if (b->items[k].seq > s->last) {
            /* within limits: pages are asked for only when the queue is half empty */
            (void)ws_conn_send_forced(&s->ws, b->items[k].msg);
            s->last = b->items[k].seq;
        }
    }
    if (b->n == 0 && b->head > s->last) {
        s->last = b->head; /* everything up to the head was delivered or deleted */
    }
    if (s->last >= h->live_seq) {
        s->state = SUB_LIVE;
    }
    settle(h, s);
}

/* Takes everything handed over since the last call. */
static void drain_inbox(struct hub *h)
{
    uint64_t n;
    (void)!read(h->wake_fd, &n, sizeof n);
    pthread_mutex_lock(&h->lock);
    struct sub *subs = h->new_subs;
    struct batch *batches = h->batches;
    h->new_subs = NULL;
    h->new_subs_tail = &h->new_subs;
    h->batches = NULL;
    h->batches_tail = &h->batches;
    pthread_mutex_unlock(&h->lock);
    while (subs) {
        struct sub *next = subs->next;
        add_sub(h, subs);
        subs = next;
    }
    bool live = false;
    while (batches) {
        struct batch *next = batches->next;
        if (batches->sub) {
            take_page(h, batches);
        } else {
            deliver_live(h, batches);
            live = true;
        }
        batch_free(batches);
        batches = next;
    }
    if (live) {
        for (size_t i = h->nsubs; i-- > 0;) {
            if (h->subs[i]->state == SUB_LIVE || h->subs[i]->state == SUB_CLOSING) {
                settle(h, h->subs[i]);
            }
        }
    }
}

static void on_socket(struct hub *h, struct sub *s, uint32_t events)
{
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        if (ws_conn_receive(&s->ws) == WS_IO_CLOSED) {
            release(h, s);
            return;
        }
    }
    if (events & EPOLLOUT) {
        s->blocked = false;
    }
    settle(h, s);
}

static void tick(struct hub *h)
{
    publish_lags(h);
    int64_t now = now_ms();
    for (size_t i = h->nsubs; i-- > 0;) {
        struct sub *s = h->subs[i];
        if (s->state >= SUB_CLOSING) {
            if (now >= s->deadline_ms) {
                release(h, s);
            }
            continue;
        }
        if (s->ws.rx_bytes != s->rx_seen) {
            s->rx_seen = s->ws.rx_bytes;
            s->last_rx_ms = now;
        }
        if (now - s->last_rx_ms >= FIREHOSE_IDLE_TIMEOUT_MS) {
            log_info(NULL, "firehose: subscriber silent for %d s; dropped",
                     FIREHOSE_IDLE_TIMEOUT_MS / 1000);
            count_drop("idle");
            release(h, s);
        } else if (now - s->last_rx_ms >= FIREHOSE_PING_IDLE_MS &&
                   now - s->last_ping_ms >= FIREHOSE_PING_IDLE_MS) {
            s->last_ping_ms = now;
            ws_conn_ping(&s->ws);
            settle(h, s);
        }
    }
}

static void begin_shutdown(struct hub *h)
{
    for (size_t i = h->nsubs; i-- > 0;) {
        struct sub *s = h->subs[i];
        if (s->state < SUB_CLOSING) {
            ws_conn_discard(&s->ws);
            ws_conn_close(&s->ws, WS_CLOSE_GOING_AWAY, "server shutting down");
            start_closing(s, SHUTDOWN_CLOSE_WAIT_MS);
            settle(h, s);
        }
    }
}

static void *hub_main(void *arg)
{
    struct hub *h = arg;
    struct epoll_event evs[EPOLL_BATCH];
    int64_t next_tick = now_ms() + HUB_TICK_MS;
    bool shutting_down = false;
    for (;;) {
        int timeout = (int)(next_tick - now_ms());
        int n = epoll_wait(h->epoll_fd, evs, EPOLL_BATCH, timeout > 0 ? timeout : 0);
        bool woken = false;
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == h) {
                woken = true; /* the inbox, after the sockets: it may release any of them */
            } else {
                on_socket(h, evs[i].data.ptr, evs[i].events);
            }
        }
        if (woken) {
            drain_inbox(h);
        }
        if (now_ms() >= next_tick) {
            tick(h);
            next_tick = now_ms() + HUB_TICK_MS;
        }
        pthread_mutex_lock(&h->lock);
        bool stopping = h->stopping;
        pthread_mutex_unlock(&h->lock);
        if (stopping && !shutting_down) {
            drain_inbox(h);
            begin_shutdown(h);
            shutting_down = true;
        }
        if (shutting_down && h->nsubs == 0) {
            return NULL;
        }
    }
}

/* The handshake (worker threads) */

/* What the upgrade callback is told: where the subscriber starts, or the error it gets. */
struct start {
    bool has_cursor, outdated;
    int64_t after;
    const char *error, *message; /* literals */
};

static void on_upgraded(void *ctx, int fd, const uint8_t *extra, size_t extra_len, void *handle)
{
    struct start *st = ctx;
    struct hub *h = the_hub;
    int flags = fcntl(fd, F_GETFL);
    if (!h || flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        xrpc_upgrade_close(handle);
        free(st);
        return;
    }
    struct sub *s = xcalloc(1, sizeof *s);
    s->id = atomic_fetch_add(&next_sub_id, 1);
    ws_conn_init(&s->ws, fd, h->max_msgs, FIREHOSE_SUB_MAX_BYTES);
    s->handle = handle;
    if (extra_len) {
        ws_conn_feed(&s->ws, extra, extra_len);
    }
    s->last = st->after;
    s->from_now = !st->has_cursor;
    s->state = st->has_cursor ? SUB_REPLAY : SUB_LIVE;
    if (st->error) {
        struct ws_msg *m = error_msg(st->error, st->message);
        close_with_error(s, m, st->error);
        ws_msg_unref(m);
    } else if (st->outdated) {
        struct buf b;
        buf_init(&b, BUF_MAX_DEFAULT);
        struct ws_msg *m = frame_msg(
            outbox_info_frame("OutdatedCursor",
                              "Requested cursor exceeded limit. Possibly missing events", &b),
            &b);
        if (m) {
            (void)ws_conn_send_forced(&s->ws, m);
        }
        ws_msg_unref(m);
    }
    free(st);
    pthread_mutex_lock(&h->lock);
    bool stopping = h->stopping;
    if (!stopping) {
        *h->new_subs_tail = s;
        h->new_subs_tail = &s->next;
    }
    pthread_mutex_unlock(&h->lock);
    if (stopping) {
        xrpc_upgrade_close(handle);
        ws_conn_clear(&s->ws);
        free(s);
        return;
    }
    wake(h);
}

/* Whether header holds token (comma-separated, case-insensitive): "keep-alive, Upgrade". */
static bool has_token(const char *header, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = header; p && *p;) {
        p += strspn(p, " \t,");
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t')) {
            m--;
        }
        if (m == tl && strncasecmp(p, token, tl) == 0) {
            return true;
        }
        p += n;
    }
    return false;
}

/* A cursor as the lexicon has it: a non-negative integer. */
static bool parse_cursor(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > CURSOR_MAX_DIGITS || strspn(s, "0123456789") != n) {
        return false;
    }
    *out = strtoll(s, NULL, 10);
    return true;
}

// com.atproto.sync.subscribeRepos
int api_sync_subscribe_repos(struct xrpc_req *rq)
{
    const char *upgrade = xrpc_header(rq, "upgrade");
    const char *connection = xrpc_header(rq, "connection");
    if (!has_token(upgrade, "websocket") || !has_token(connection, "upgrade")) {
        /* spec(event-stream): 426 when the Upgrade is missing */
        xrpc_set_header(rq, "Upgrade", "websocket");
        return xrpc_fail(rq, 426, "InvalidRequest",
                         "subscribeRepos is a WebSocket stream: connect with Upgrade: websocket");
    }
    const char *version = xrpc_header(rq, "sec-websocket-version");
    if (!version || strcmp(version, WS_VERSION) != 0) {
        xrpc_set_header(rq, "Sec-WebSocket-Version", WS_VERSION); /* spec(rfc6455) 4.4 */
        return xrpc_fail(rq, 426, "InvalidRequest", "unsupported WebSocket version");
    }
    const char *key = xrpc_header(rq, "sec-websocket-key");
    char accept[WS_ACCEPT_LEN + 1];
    if (!key || !ws_accept_key(key, accept)) {
        return xrpc_fail(rq, 400, "InvalidRequest", "invalid Sec-WebSocket-Key");
    }
    if (!the_hub) {
        return xrpc_fail(rq, 501, "MethodNotImplemented", "the event stream is not running");
    }
    struct start *st = xcalloc(1, sizeof *st);
    const char *cursor = xrpc_param(rq, "cursor");
    if (cursor) {
        int64_t c = 0;
        struct outbox_resume rs;
        if (!parse_cursor(cursor, &c)) {
            /* as the reference: parameters are checked after the upgrade, so the error is
             * a frame */
            st->error = "InvalidRequest";
            st->message = "cursor must be a non-negative integer";
        } else if (outbox_resume(rq->db, c, rq->cfg->repo_backfill_limit_ms, &rs) != ERR_OK) {
            free(st);
            return xrpc_fail(rq, 500, NULL, NULL);
        } else if (rs.future) {
            st->error = "FutureCursor";
            st->message = "Cursor in the future.";
        } else {
            st->has_cursor = true;
            st->outdated = rs.outdated;
            st->after = rs.start_after;
        }
    }
    xrpc_set_header(rq, "Upgrade", "websocket");
    xrpc_set_header(rq, "Sec-WebSocket-Accept", accept);
    return xrpc_reply_upgrade(rq, on_upgraded, st);
}

/* Start and stop (main thread) */

static void hub_free(struct hub *h)
{
    pthread_mutex_lock(&h->lock);
    struct request *rq = h->requests;
    struct batch *b = h->batches;
    pthread_mutex_unlock(&h->lock);
    /* what is left holds released subscribers (page_pending) or events nobody will take */
    while (rq) {
        struct request *next = rq->next;
        free(rq->sub);
        free(rq);
        rq = next;
    }
    while (b) {
        struct batch *next = b->next;
        free(b->sub);
        batch_free(b);
        b = next;
    }
    for (size_t i = 0; i < h->nsubs; i++) { /* only when the hub thread never ran */
        xrpc_upgrade_close(h->subs[i]->handle);
        ws_conn_clear(&h->subs[i]->ws);
        free(h->subs[i]);
    }
    free(h->subs);
    ws_msg_unref(h->too_slow);
    if (h->wake_fd >= 0) {
        close(h->wake_fd);
    }
    if (h->epoll_fd >= 0) {
        close(h->epoll_fd);
    }
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->replay_cond);
    explicit_bzero(h->url, strlen(h->url));
    free(h->url);
    free(h);
}

enum err sync_subscribe_start(const struct config *cfg, const char *db_url,
                              firehose_events_fn *on_events, void *ctx)
{
    drops(); /* shown from the start, at 0 */
    metrics_collector("pds_firehose_subscriber_lag_events",
                      "Events a subscriber is behind the live head (this process)", METRICS_GAUGE,
                      collect_lags, NULL);
    struct hub *h = xcalloc(1, sizeof *h);
    h->cfg = cfg;
    h->url = xstrndup(db_url, strlen(db_url));
    h->max_msgs = cfg->max_subscription_buffer > 0 ? (size_t)cfg->max_subscription_buffer : 1;
    h->on_events = on_events;
    h->ctx = ctx;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->replay_cond, NULL);
    h->new_subs_tail = &h->new_subs;
    h->batches_tail = &h->batches;
    h->requests_tail = &h->requests;
    h->too_slow = error_msg("ConsumerTooSlow", "Stream consumer too slow");
    h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    h->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h};
    if (!h->too_slow || h->wake_fd < 0 || h->epoll_fd < 0 ||
        epoll_ctl(h->epoll_fd, EPOLL_CTL_ADD, h->wake_fd, &ev) != 0) {
        log_error(NULL, "firehose: could not set up the event-stream thread");
        hub_free(h);
        return ERR_INTERNAL;
    }
    struct db db;
    db_init(&db, db_url);
    enum err e = outbox_head(&db, &h->live_seq, NULL);
    db_clear(&db);
    if (e) {
        log_error(NULL, "firehose: could not read the outbox head");
        hub_free(h);
        return ERR_DB;
    }
    h->thread_up = pthread_create(&h->thread, NULL, hub_main, h) == 0;
    h->replay_up = h->thread_up && pthread_create(&h->replay_thread, NULL, replay_main, h) == 0;
    if (h->replay_up) {
        e = outbox_listener_start(db_url, h->live_seq, on_live_page, h, &h->listener);
    }
    the_hub = h;
    if (!h->replay_up || e) {
        log_error(NULL, "firehose: could not start its threads");
        sync_subscribe_shutdown();
        sync_subscribe_stop();
        return ERR_INTERNAL;
    }
    log_info(NULL, "firehose: following the outbox from seq %lld", (long long)h->live_seq);
    return ERR_OK;
}

void sync_subscribe_shutdown(void)
{
    struct hub *h = the_hub;
    if (!h) {
        return;
    }
    outbox_listener_stop(h->listener); /* no more live batches */
    h->listener = NULL;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_mutex_unlock(&h->lock);
    wake(h);
    if (h->thread_up) {
        pthread_join(h->thread, NULL); /* returns once every subscriber is released */
        h->thread_up = false;
    }
}

void sync_subscribe_stop(void)
{
    struct hub *h = the_hub;
    if (!h) {
        return;
    }
    sync_subscribe_shutdown();
    the_hub = NULL;
    if (h->replay_up) {
        pthread_mutex_lock(&h->lock);
        h->replay_stop = true;
        pthread_cond_signal(&h->replay_cond);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->replay_thread, NULL);
    }
    hub_free(h);
}
