/* websocket.c - RFC 6455 framing for the server side: accept key, shared frames, a bounded
 * non-blocking outbound queue with control frames between messages, client frame parsing. */
#include "http/websocket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <openssl/evp.h>

#include "core/base.h"

#define WS_SHA1_BYTES    20
#define WS_KEY_B64_LEN   24                           /* base64 of 16 bytes, padded */
#define WS_IN_BUF_BYTES  (WS_IN_FRAME_MAX_BYTES + 14) /* one frame: payload + largest header */
#define WS_RING_INITIAL  16
#define WS_READ_CHUNK    4096
#define WS_IN_KEEP_BYTES 4096 /* an input buffer this large is kept when empty */

bool ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
    size_t n = strnlen(key, WS_KEY_B64_LEN + 1);
    if (n != WS_KEY_B64_LEN || key[22] != '=' || key[23] != '=') {
        return false;
    }
    struct buf raw;
    buf_init(&raw, 64);
    bool ok = base64_decode(bytes_of(key, n), &raw) == ERR_OK && raw.len == WS_KEY_BYTES;
    buf_clear(&raw);
    if (!ok) {
        return false;
    }
    /* spec(rfc6455) 4.2.2: SHA-1 of the key as sent (not decoded) followed by the GUID */
    char joined[WS_KEY_B64_LEN + sizeof WS_GUID];
    memcpy(joined, key, WS_KEY_B64_LEN);
    memcpy(joined + WS_KEY_B64_LEN, WS_GUID, sizeof WS_GUID);
    uint8_t digest[WS_SHA1_BYTES];
    unsigned dlen = 0;
    if (EVP_Digest(joined, WS_KEY_B64_LEN + strlen(WS_GUID), digest, &dlen, EVP_sha1(), NULL) !=
            1 ||
        dlen != WS_SHA1_BYTES) {
        return false;
    }
    struct buf b64;
    buf_init(&b64, 64);
    ok = base64_encode(bytes_of(digest, sizeof digest), true, &b64) == ERR_OK &&
         b64.len == WS_ACCEPT_LEN;
    if (ok) {
        memcpy(out, b64.ptr, WS_ACCEPT_LEN + 1);
    }
    buf_clear(&b64);
    return ok;
}

/* Messages */

/* Writes a server frame header (FIN set, no mask) into h; returns its length. */
static size_t frame_header(enum ws_opcode op, size_t len, uint8_t h[WS_HEADER_MAX])
{
    h[0] = (uint8_t)(0x80 | op);
    if (len < 126) {
        h[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        h[1] = 126;
        h[2] = (uint8_t)(len >> 8);
        h[3] = (uint8_t)len;
        return 4;
    }
    h[1] = 127;
    for (int i = 0; i < 8; i++) {
        h[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    }
    return 10;
}

struct ws_msg *ws_msg_new(enum ws_opcode op, struct bytes payload)
{
    uint8_t h[WS_HEADER_MAX];
    size_t hl = frame_header(op, payload.len, h);
    struct ws_msg *m = xmalloc(sizeof *m + hl + payload.len);
    atomic_init(&m->refs, 1);
    m->len = hl + payload.len;
    memcpy(m->data, h, hl);
    if (payload.len) {
        memcpy(m->data + hl, payload.ptr, payload.len);
    }
    return m;
}

struct ws_msg *ws_msg_ref(struct ws_msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void ws_msg_unref(struct ws_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) {
        free(m);
    }
}

/* Connection: queue */

void ws_conn_init(struct ws_conn *c, int fd, size_t max_msgs, size_t max_bytes)
{
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->max_msgs = max_msgs;
    c->max_bytes = max_bytes;
}

static struct ws_msg **ring_at(struct ws_conn *c, size_t i)
{
    return &c->_ring[(c->_head + i) % c->_cap];
}

void ws_conn_clear(struct ws_conn *c)
{
    for (size_t i = 0; i < c->_count; i++) {
        ws_msg_unref(*ring_at(c, i));
    }
    free(c->_ring);
    free(c->_in);
    c->_ring = NULL;
    c->_in = NULL;
    c->_in_len = c->_in_cap = 0;
    c->_count = c->_cap = c->_head = c->_off = 0;
    c->queued_bytes = 0;
}

static void ring_push(struct ws_conn *c, struct ws_msg *m)
{
    if (c->_count == c->_cap) {
        size_t cap = c->_cap ? c->_cap * 2 : WS_RING_INITIAL;
        struct ws_msg **r = xmalloc(cap * sizeof *r);
        for (size_t i = 0; i < c->_count; i++) {
            r[i] = *ring_at(c, i);
        }
        free(c->_ring);
        c->_ring = r;
        c->_cap = cap;
        c->_head = 0;
    }
    *ring_at(c, c->_count++) = ws_msg_ref(m);
    c->queued_bytes += m->len;
}

static void ring_pop(struct ws_conn *c)
{
    ws_msg_unref(c->_ring[c->_head]);
    c->_head = (c->_head + 1) % c->_cap;
    c->_count--;
    c->_off = 0;
}

bool ws_conn_send(struct ws_conn *c, struct ws_msg *m)
{
    if (c->close_queued || c->_count + 1 > c->max_msgs || c->queued_bytes + m->len > c->max_bytes) {
        return false;
    }
    ring_push(c, m);
    return true;
}

bool ws_conn_send_forced(struct ws_conn *c, struct ws_msg *m)
{
    if (c->close_queued) {
        return false;
    }
    ring_push(c, m);
    return true;
}

void ws_conn_discard(struct ws_conn *c)
{
    size_t keep = c->_off > 0 ? 1 : 0; /* a frame already begun must be finished */
    while (c->_count > keep) {
        struct ws_msg **last = ring_at(c, c->_count - 1);
        c->queued_bytes -= (*last)->len;
        ws_msg_unref(*last);
        c->_count--;
    }
}

void ws_conn_close(struct ws_conn *c, enum ws_close_code code, const char *reason)
{
    if (c->close_queued) {
        return;
    }
    uint8_t payload[WS_CONTROL_MAX];
    size_t n = 0;
    if (code) {
        payload[0] = (uint8_t)(code >> 8);
        payload[1] = (uint8_t)code;
        n = 2;
        size_t rl = reason ? strnlen(reason, WS_CONTROL_MAX - 2) : 0;
        memcpy(payload + 2, reason ? reason : "", rl);
        n += rl;
    }
    struct ws_msg *m = ws_msg_new(WS_OP_CLOSE, bytes_of(payload, n));
    ring_push(c, m);
    ws_msg_unref(m);
    c->close_queued = true;
}

/* Appends a control frame to the control buffer; dropped when it is full (only pongs and
 * pings go there, and answering the latest ping is enough: spec(rfc6455) 5.5.3). */
static void ctrl_push(struct ws_conn *c, enum ws_opcode op, const uint8_t *p, size_t n)
{
    if (c->_ctrl_off > 0 && c->_ctrl_off == c->_ctrl_len) {
        c->_ctrl_off = c->_ctrl_len = 0;
    }
    uint8_t h[WS_HEADER_MAX];
    size_t hl = frame_header(op, n, h);
    if (c->_ctrl_len + hl + n > sizeof c->_ctrl) {
        return;
    }
    memcpy(c->_ctrl + c->_ctrl_len, h, hl);
    if (n) {
        memcpy(c->_ctrl + c->_ctrl_len + hl, p, n);
    }
    c->_ctrl_len += hl + n;
}

void ws_conn_ping(struct ws_conn *c)
{
    if (!c->close_queued) {
        ctrl_push(c, WS_OP_PING, NULL, 0);
    }
}

size_t ws_conn_queued(const struct ws_conn *c)
{
    return c->_count;
}

bool ws_conn_pending(const struct ws_conn *c)
{
    return c->_count > 0 || c->_ctrl_off < c->_ctrl_len;
}

/* Connection: writing */

/* The order bytes go out: the rest of a message already begun, then control frames, then
 * the queued messages. Control frames thus sit between messages, never inside one. */
enum ws_io ws_conn_flush(struct ws_conn *c)
{
    while (ws_conn_pending(c)) {
        struct iovec iov[WS_IOV_MAX + 1];
        int n = 0;
        size_t i = 0;
        bool head_begun = c->_off > 0;
        if (head_begun) {
            struct ws_msg *m = *ring_at(c, 0);
            iov[n++] = (struct iovec){m->data + c->_off, m->len - c->_off};
            i = 1;
        }
        size_t ctrl_left = c->_ctrl_len - c->_ctrl_off;
        if (ctrl_left) {
            iov[n++] = (struct iovec){c->_ctrl + c->_ctrl_off, ctrl_left};
        }
        for (; i < c->_count && n < WS_IOV_MAX + 1; i++) {
            struct ws_msg *m = *ring_at(c, i);
            iov[n++] = (struct iovec){m->data, m->len};
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return WS_IO_AGAIN;
            }
            c->eof = true;
            return WS_IO_CLOSED;
        }
        size_t left = (size_t)w;
        if (head_begun) {
            size_t take = c->_ring[c->_head]->len - c->_off;
            take = left < take ? left : take;
            c->_off += take;
            c->queued_bytes -= take;
            left -= take;
            if (c->_off == c->_ring[c->_head]->len) {
                ring_pop(c);
            }
        }
        if (ctrl_left && (!head_begun || c->_off == 0)) {
            size_t take = left < ctrl_left ? left : ctrl_left;
            c->_ctrl_off += take;
            left -= take;
            if (c->_ctrl_off == c->_ctrl_len) {
                c->_ctrl_off = c->_ctrl_len = 0;
            }
        }
        while (left > 0) {
            struct ws_msg *m = c->_ring[c->_head];
            size_t take = m->len - c->_off;
            take = left < take ? left : take;
            c->_off += take;
            c->queued_bytes -= take;
            left -= take;
            if (c->_off == m->len) {
                ring_pop(c);
            }
        }
    }
    return WS_IO_DONE;
}

/* Connection: reading */

/* A protocol error: answer with a close frame carrying code and stop parsing. */
static void fail(struct ws_conn *c, enum ws_close_code code)
{
    c->failed = true;
    ws_conn_discard(c);
    ws_conn_close(c, code, NULL);
}

static void on_control(struct ws_conn *c, enum ws_opcode op, uint8_t *p, size_t n)
{
    if (op == WS_OP_PING) {
        if (!c->close_queued) {
            ctrl_push(c, WS_OP_PONG, p, n);
        }
    } else if (op == WS_OP_CLOSE) {
        c->close_received = true;
        if (n == 1) {
            fail(c, WS_CLOSE_PROTOCOL);
            return;
        }
        /* spec(rfc6455) 5.5.1: answer with a close, echoing the code; 7.4: 1004-1006 and
         * 1015 are never sent, below 1000 and from 5000 are not codes */
        uint16_t code = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 0;
        if (n >= 2 &&
            (code < 1000 || code >= 5000 || (code >= 1004 && code <= 1006) || code == 1015)) {
            fail(c, WS_CLOSE_PROTOCOL);
            return;
        }
        ws_conn_close(c, (enum ws_close_code)code, NULL);
    }
    /* pongs need no answer */
}

/* Parses one frame at b (have bytes); returns its total size, 0 when incomplete or after a
 * protocol error (c->failed). */
static size_t parse_frame(struct ws_conn *c, uint8_t *b, size_t have)
{
    if (have < 2) {
        return 0;
    }
    bool fin = b[0] & 0x80;
    unsigned rsv = b[0] & 0x70, op = b[0] & 0x0f;
    bool masked = b[1] & 0x80;
    uint64_t len = b[1] & 0x7f;
    size_t hl = 2;
    bool control = op >= WS_OP_CLOSE;
    /* spec(rfc6455) 5.1: client frames are masked; no extension was negotiated, so no RSV;
     * 5.2: opcodes 3-7 and 11-15 are reserved; 5.5: control frames are short and whole */
    if (!masked || rsv || (op > WS_OP_BINARY && !control) || op > WS_OP_PONG ||
        (control && (!fin || len > WS_CONTROL_MAX))) {
        fail(c, WS_CLOSE_PROTOCOL);
        return 0;
    }
    if (len == 126 || len == 127) {
        size_t ext = len == 126 ? 2 : 8;
        if (have < hl + ext) {
            return 0;
        }
        len = 0;
        for (size_t i = 0; i < ext; i++) {
            len = len << 8 | b[hl + i];
        }
        hl += ext;
    }
    if (len > WS_IN_FRAME_MAX_BYTES) {
        fail(c, WS_CLOSE_TOO_BIG);
        return 0;
    }
    hl += 4; /* masking key */
    if (have < hl + len) {
        return 0;
    }
    if (control) {
        uint8_t *p = b + hl;
        for (size_t i = 0; i < len; i++) {
            p[i] ^= b[hl - 4 + (i & 3)];
        }
        on_control(c, (enum ws_opcode)op, p, (size_t)len);
    }
    /* data frames (and their continuations) are ignored: spec(event-stream) the server
     * disregards what clients send */
    return hl + (size_t)len;
}

static void parse_all(struct ws_conn *c)
{
    size_t used = 0;
    while (!c->failed && !c->close_received) {
        size_t n = parse_frame(c, c->_in + used, c->_in_len - used);
        if (n == 0) {
            break;
        }
        used += n;
    }
    if (c->failed || c->close_received) {
        c->_in_len = 0; /* nothing after a close or an error is read */
        return;
    }
    memmove(c->_in, c->_in + used, c->_in_len - used);
    c->_in_len -= used;
}

void ws_conn_feed(struct ws_conn *c, const uint8_t *data, size_t len)
{
    while (len > 0 && !c->failed && !c->close_received) {
        if (c->_in_len == c->_in_cap) {
            /* grow only as far as one frame needs; clients mostly send tiny pings */
            size_t cap = c->_in_cap ? c->_in_cap * 2 : 256;
            cap = cap < WS_IN_BUF_BYTES ? cap : WS_IN_BUF_BYTES;
            c->_in = xrealloc(c->_in, cap);
            c->_in_cap = cap;
        }
        size_t room = c->_in_cap - c->_in_len;
        if (room == 0) { /* cannot happen: a frame that fits is parsed, one that doesn't fails */
            fail(c, WS_CLOSE_TOO_BIG);
            break;
        }
        size_t n = len < room ? len : room;
        memcpy(c->_in + c->_in_len, data, n);
        c->_in_len += n;
        data += n;
        len -= n;
        parse_all(c);
    }
    if (c->_in_len == 0 && c->_in_cap > WS_IN_KEEP_BYTES) {
        free(c->_in);
        c->_in = NULL;
        c->_in_cap = 0;
    }
}

enum ws_io ws_conn_receive(struct ws_conn *c)
{
    uint8_t chunk[WS_READ_CHUNK];
    for (;;) {
        ssize_t n = recv(c->fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n == 0) {
            c->eof = true;
            return WS_IO_CLOSED;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return WS_IO_DONE;
            }
            c->eof = true;
            return WS_IO_CLOSED;
        }
        c->rx_bytes += (uint64_t)n;
        ws_conn_feed(c, chunk, (size_t)n);
    }
}
