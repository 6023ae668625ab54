/* outbox.c - reading the numbered event log for the firehose: frames, cursors, ranges,
 * pruning, account deletion, NOTIFY waits, and the per-process listener thread. */
#include "db/outbox.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/dagcbor.h"
#include "db/log.h"

#define EVENT_TYPE_MAX 16 /* "identity" is the longest stored type */

/* Frames */

/* spec(event-stream): header {t, op}; "t" sorts before "op" (shorter key first). */
static enum err put_header(struct buf *out, const char *t, int64_t op)
{
    enum err e;
    if ((e = dagcbor_put_map(out, t ? 2 : 1))) {
        return e;
    }
    if (t && ((e = dagcbor_put_cstr(out, "t")) || (e = dagcbor_put_cstr(out, t)))) {
        return e;
    }
    if ((e = dagcbor_put_cstr(out, "op")) || (e = dagcbor_put_int(out, op))) {
        return e;
    }
    return ERR_OK;
}

enum err outbox_frame(const char *event_type, int64_t seq, struct bytes body, struct buf *out)
{
    char t[EVENT_TYPE_MAX + 2];
    if (strlen(event_type) > EVENT_TYPE_MAX) {
        return ERR_INVALID;
    }
    snprintf(t, sizeof t, "#%s", event_type);
    struct arena a;
    arena_init(&a);
    struct dm_value *v = NULL;
    enum err e = dagcbor_decode(body, &a, &v);
    if (!e && (v->kind != DM_MAP || dm_map_get(v, "seq"))) {
        e = ERR_INVALID;
    }
    if (!e) {
        dm_map_put(&a, v, "seq", dm_int(&a, seq));
        size_t start = out->len;
        if (!(e = put_header(out, t, 1)) && !(e = dagcbor_encode(v, out)) &&
            out->len - start > OUTBOX_FRAME_MAX_BYTES) {
            e = ERR_TOO_LARGE;
        }
    }
    arena_clear(&a);
    return e;
}

enum err outbox_info_frame(const char *name, const char *message, struct buf *out)
{
    enum err e;
    if ((e = put_header(out, "#info", 1)) || (e = dagcbor_put_map(out, 2)) ||
        (e = dagcbor_put_cstr(out, "name")) || (e = dagcbor_put_cstr(out, name)) ||
        (e = dagcbor_put_cstr(out, "message")) || (e = dagcbor_put_cstr(out, message))) {
        return e;
    }
    return ERR_OK;
}

enum err outbox_error_frame(const char *error, const char *message, struct buf *out)
{
    enum err e;
    if ((e = put_header(out, NULL, -1)) || (e = dagcbor_put_map(out, 2)) ||
        (e = dagcbor_put_cstr(out, "error")) || (e = dagcbor_put_cstr(out, error)) ||
        (e = dagcbor_put_cstr(out, "message")) || (e = dagcbor_put_cstr(out, message))) {
        return e;
    }
    return ERR_OK;
}

/* Reads */

void outbox_page_clear(struct outbox_page *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->events[i].frame);
    }
    free(p->events);
    memset(p, 0, sizeof *p);
}

enum err outbox_head(struct db *db, int64_t *head, int64_t *pruned_through)
{
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT COALESCE(max(head), 0), COALESCE(max(pruned_through), 0) "
                          "FROM repo_seq_state",
                          NULL, &r);
    if (e) {
        return e;
    }
    *head = db_col_i64(r, 0, 0);
    if (pruned_through) {
        *pruned_through = db_col_i64(r, 0, 1);
    }
    PQclear(r);
    return ERR_OK;
}

/* One snapshot: the state row, and the first event after the cursor with whether it is
 * older than the window. */
#define RESUME_SQL                                                                                 \
    "SELECT st.head, st.pruned, nx.seq, nx.created_at < now() - $2::bigint * interval '1 ms' "     \
    "FROM (SELECT COALESCE(max(head), 0) AS head, COALESCE(max(pruned_through), 0) AS pruned "     \
    "      FROM repo_seq_state) st "                                                               \
    "LEFT JOIN LATERAL (SELECT seq, created_at FROM repo_seq "                                     \
    "                    WHERE seq > $1 AND NOT invalidated ORDER BY seq LIMIT 1) nx ON true"

#define EARLIEST_SQL                                                                               \
    "SELECT seq FROM repo_seq WHERE seq IS NOT NULL AND NOT invalidated "                          \
    "AND created_at >= now() - $1::bigint * interval '1 ms' ORDER BY seq LIMIT 1"

enum err outbox_resume(struct db *db, int64_t cursor, int64_t window_ms, struct outbox_resume *out)
{
    memset(out, 0, sizeof *out);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, cursor);
    db_param_i64(&p, window_ms);
    PGresult *r;
    enum err e = db_query(db, RESUME_SQL, &p, &r);
    if (e) {
        return e;
    }
    out->head = db_col_i64(r, 0, 0);
    int64_t pruned = db_col_i64(r, 0, 1);
    bool next_is_old = !db_col_null(r, 0, 2) && db_col_bool(r, 0, 3);
    PQclear(r);
    out->start_after = cursor;
    /* spec(event-stream): a cursor ahead of the stream is an error, as the reference's
     * `cursor > curr` */
    if (cursor > out->head) {
        out->future = true;
        return ERR_OK;
    }
    if (!next_is_old && cursor >= pruned) {
        return ERR_OK;
    }
    /* Events after the cursor were pruned, or are older than the window: say so, then
     * continue from the oldest event inside the window (the head when there is none). */
    out->outdated = true;
    db_params_init(&p);
    db_param_i64(&p, window_ms);
    if ((e = db_query(db, EARLIEST_SQL, &p, &r))) {
        return e;
    }
    out->start_after = PQntuples(r) ? db_col_i64(r, 0, 0) - 1 : out->head;
    PQclear(r);
    return ERR_OK;
}

/* The state row and a page of events in one snapshot: a page that comes back empty proves
 * that every seq up to that head was delivered or deleted. The window sum caps the bytes;
 * the first row always passes (its preceding total is 0). */
#define READ_SQL                                                                                   \
    "SELECT st.head, e.seq, e.event_type, e.event "                                                \
    "FROM (SELECT COALESCE(max(head), 0) AS head FROM repo_seq_state) st "                         \
    "LEFT JOIN LATERAL ("                                                                          \
    "  SELECT seq, event_type, event FROM ("                                                       \
    "    SELECT seq, event_type, event, "                                                          \
    "           sum(octet_length(event)) OVER (ORDER BY seq) - octet_length(event) AS before "     \
    "      FROM repo_seq WHERE seq > $1 AND NOT invalidated ORDER BY seq LIMIT $2) w "             \
    "   WHERE before < $3) e ON true "                                                             \
    "ORDER BY e.seq"

enum err outbox_read(struct db *db, int64_t after, int max_events, int64_t max_bytes,
                     struct outbox_page *out)
{
    memset(out, 0, sizeof *out);
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, after);
    db_param_i64(&p, max_events);
    db_param_i64(&p, max_bytes);
    PGresult *r;
    enum err e = db_query(db, READ_SQL, &p, &r);
    if (e) {
        return e;
    }
    int rows = PQntuples(r);
    out->head = rows ? db_col_i64(r, 0, 0) : 0;
    if (rows == 1 && db_col_null(r, 0, 1)) {
        rows = 0; /* the state row alone: no events */
    }
    out->events = rows ? xcalloc((size_t)rows, sizeof *out->events) : NULL;
    struct buf frame;
    buf_init(&frame, OUTBOX_FRAME_MAX_BYTES + 64);
    for (int i = 0; i < rows && !e; i++) {
        int64_t seq = db_col_i64(r, i, 1);
        const char *type = db_col_text(r, i, 2);
        buf_reset(&frame);
        e = outbox_frame(type, seq, db_col_bytes(r, i, 3), &frame);
        if (e) {
            log_error(NULL, "outbox: event %" PRId64 " cannot be framed (%s)", seq, err_str(e));
            break;
        }
        struct outbox_event *ev = &out->events[out->n++];
        ev->seq = seq;
        ev->frame = buf_take(&frame, &ev->frame_len);
        buf_init(&frame, OUTBOX_FRAME_MAX_BYTES + 64);
    }
    buf_clear(&frame);
    PQclear(r);
    if (e) {
        outbox_page_clear(out);
    }
    return e;
}

/* Maintenance */

enum err outbox_prune_batch(struct db *db, int64_t window_ms, int64_t *deleted)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, window_ms);
    db_param_i64(&p, OUTBOX_PRUNE_BATCH);
    PGresult *r;
    enum err e = db_query(
        db, "SELECT pds_prune_outbox(now() - $1::bigint * interval '1 ms', $2::integer)", &p, &r);
    if (e) {
        return e;
    }
    *deleted = db_col_i64(r, 0, 0);
    PQclear(r);
    return ERR_OK;
}

enum err outbox_prune(struct db *db, int64_t window_ms, int64_t *deleted)
{
    int64_t total = 0, n = OUTBOX_PRUNE_BATCH;
    while (n == OUTBOX_PRUNE_BATCH) {
        enum err e = outbox_prune_batch(db, window_ms, &n);
        if (e) {
            return e;
        }
        total += n;
    }
    if (deleted) {
        *deleted = total;
    }
    return ERR_OK;
}

enum err outbox_delete_account_events(struct db *db, const char *did)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    return db_exec(db, "DELETE FROM repo_seq WHERE did = $1", &p, NULL);
}

/* NOTIFY. db.h does not wrap LISTEN, the socket or the notification queue, so this reads
 * struct db's connection (same library); a db_wait_notify in db.c would take it over. */

void outbox_notify_init(struct outbox_notify *n, struct db *db, const char *channel)
{
    memset(n, 0, sizeof *n);
    n->db = db;
    n->channel = channel;
}

static int drain(PGconn *c, int64_t *payload_max)
{
    int count = 0;
    PGnotify *nt;
    while ((nt = PQnotifies(c)) != NULL) {
        char *end = NULL;
        long long v = strtoll(nt->extra, &end, 10);
        if (payload_max && end != nt->extra && v > *payload_max) {
            *payload_max = v;
        }
        PQfreemem(nt);
        count++;
    }
    return count;
}

enum err outbox_notify_wait(struct outbox_notify *n, int wake_fd, int timeout_ms, int *count,
                            int64_t *payload_max)
{
    *count = 0;
    PGconn *c = n->db->_conn;
    if (!c || PQstatus(c) != CONNECTION_OK || c != n->_conn || PQbackendPID(c) != n->_pid) {
        char sql[64];
        snprintf(sql, sizeof sql, "LISTEN %s", n->channel); /* a constant of ours */
        enum err e = db_exec(n->db, sql, NULL, NULL);
        if (e) {
            return e;
        }
        c = n->db->_conn;
        n->_conn = c;
        n->_pid = PQbackendPID(c);
    }
    *count = drain(c, payload_max);
    if (*count) {
        return ERR_OK;
    }
    struct pollfd fds[2] = {{.fd = PQsocket(c), .events = POLLIN},
                            {.fd = wake_fd, .events = POLLIN}};
    int rc = poll(fds, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (rc < 0 && errno != EINTR) {
        return ERR_DB;
    }
    if (rc > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP))) {
        if (!PQconsumeInput(c)) {
            log_warn(NULL, "outbox: lost the connection while waiting for %s", n->channel);
            return ERR_DB;
        }
        *count = drain(c, payload_max);
    }
    return ERR_OK;
}

/* The listener */

struct outbox_listener {
    pthread_t thread;
    int wake_fd; /* eventfd: written by outbox_listener_stop */
    atomic_bool stop;
    char *url;
    int64_t last; /* listener thread only: highest seq handed on */
    outbox_page_fn *on_page;
    void *ctx;
};

/* Reads and hands on every page after l->last; ERR_DB when the connection failed. */
static enum err listener_catch_up(struct outbox_listener *l, struct db *db)
{
    while (!atomic_load(&l->stop)) {
        struct outbox_page page;
        enum err e = outbox_read(db, l->last, OUTBOX_LISTEN_PAGE, OUTBOX_LISTEN_PAGE_BYTES, &page);
        if (e) {
            return e;
        }
        if (page.n == 0) {
            outbox_page_clear(&page);
            return ERR_OK;
        }
        l->last = page.events[page.n - 1].seq;
        bool more = l->last < page.head;
        l->on_page(l->ctx, &page);
        outbox_page_clear(&page);
        if (!more) {
            return ERR_OK;
        }
    }
    return ERR_OK;
}

static void *listener_main(void *arg)
{
    struct outbox_listener *l = arg;
    struct db db;
    db_init(&db, l->url);
    struct outbox_notify n;
    outbox_notify_init(&n, &db, OUTBOX_CHANNEL_SEQUENCED);
    bool read = true;
    while (!atomic_load(&l->stop)) {
        int count = 0;
        int64_t payload = 0;
        /* LISTEN first (inside the wait), then read: a row numbered in between is caught by
         * the read, one numbered later by the notification */
        enum err e =
            outbox_notify_wait(&n, l->wake_fd, read ? 0 : OUTBOX_LISTEN_POLL_MS, &count, &payload);
        if (!e && (read || count == 0 || payload > l->last)) {
            e = listener_catch_up(l, &db);
        }
        read = false;
        if (e) {
            struct pollfd pf = {.fd = l->wake_fd, .events = POLLIN};
            (void)poll(&pf, 1, OUTBOX_LISTEN_POLL_MS); /* the database is away: retry */
            read = true;
        }
    }
    db_clear(&db);
    return NULL;
}

enum err outbox_listener_start(const char *db_url, int64_t start_after, outbox_page_fn *on_page,
                               void *ctx, struct outbox_listener **out)
{
    *out = NULL;
    struct outbox_listener *l = xcalloc(1, sizeof *l);
    l->url = xstrndup(db_url, strlen(db_url));
    l->last = start_after;
    l->on_page = on_page;
    l->ctx = ctx;
    atomic_init(&l->stop, false);
    l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->wake_fd < 0 || pthread_create(&l->thread, NULL, listener_main, l) != 0) {
        log_error(NULL, "outbox: could not start the listener thread");
        if (l->wake_fd >= 0) {
            close(l->wake_fd);
        }
        free(l->url);
        free(l);
        return ERR_INTERNAL;
    }
    *out = l;
    return ERR_OK;
}

void outbox_listener_stop(struct outbox_listener *l)
{
    if (!l) {
        return;
    }
    atomic_store(&l->stop, true);
    uint64_t one = 1;
    (void)!write(l->wake_fd, &one, sizeof one);
    pthread_join(l->thread, NULL);
    close(l->wake_fd);
    explicit_bzero(l->url, strlen(l->url));
    free(l->url);
    free(l);
}

enum err outbox_insert(struct db *db, const char *did, const char *event_type, struct bytes body)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, event_type);
    db_param_bytes(&p, body);
    return db_exec(db, "INSERT INTO repo_seq (did, event_type, event) VALUES ($1, $2, $3)", &p,
                   NULL);
}
