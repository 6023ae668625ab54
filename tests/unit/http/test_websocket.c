/* test_websocket.c - RFC 6455 framing over a socketpair: accept keys, frame headers at each
 * length boundary, shared messages, the bounded queue, partial writes, pings answered
 * between messages, the close handshake, and refusal of bad client frames. */
#include "unit/test.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http/websocket.h"

/* A frame as the client sees it. */
struct frame {
    bool fin;
    int op;
    uint8_t *payload;
    size_t len;
};

struct pair {
    int server, client;
};

static struct pair make_pair(int sndbuf)
{
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
        abort();
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    if (sndbuf) {
        setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
        setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
    }
    return (struct pair){fds[0], fds[1]};
}

static void close_pair(struct pair p)
{
    close(p.server);
    if (p.client >= 0) {
        close(p.client);
    }
}

static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) {
            return false;
        }
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* Reads one server frame from the client end (blocking); false at end of stream or when the
 * frame is masked (servers never mask). */
static bool read_frame(int fd, struct frame *f)
{
    uint8_t h[10];
    if (!read_full(fd, h, 2) || (h[1] & 0x80)) {
        return false;
    }
    f->fin = h[0] & 0x80;
    f->op = h[0] & 0x0f;
    uint64_t len = h[1] & 0x7f;
    size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (ext) {
        if (!read_full(fd, h + 2, ext)) {
            return false;
        }
        len = 0;
        for (size_t i = 0; i < ext; i++) {
            len = len << 8 | h[2 + i];
        }
    }
    f->len = (size_t)len;
    f->payload = malloc(f->len + 1);
    return read_full(fd, f->payload, f->len);
}

/* Writes a client frame (masked unless told otherwise). */
static void client_send(int fd, int first_byte, const void *payload, size_t len, bool mask)
{
    uint8_t buf[256 + 14];
    size_t n = 0;
    buf[n++] = (uint8_t)first_byte;
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        buf[n++] = (uint8_t)(m | len);
    } else {
        buf[n++] = (uint8_t)(m | 126);
        buf[n++] = (uint8_t)(len >> 8);
        buf[n++] = (uint8_t)len;
    }
    const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (mask) {
        memcpy(buf + n, key, 4);
        n += 4;
    }
    if (write(fd, buf, n) != (ssize_t)n) {
        abort();
    }
    uint8_t *p = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        p[i] = ((const uint8_t *)payload)[i] ^ (mask ? key[i & 3] : 0);
    }
    if (len && write(fd, p, len) != (ssize_t)len) {
        abort();
    }
    free(p);
}

static void test_websocket_accept_key(void)
{
    char out[WS_ACCEPT_LEN + 1];
    /* spec(rfc6455) 1.3's worked example */
    CHECK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out));
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    CHECK(!ws_accept_key("", out));
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ", out));    /* unpadded */
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25jZQ===", out)); /* too long */
    CHECK(!ws_accept_key("dGhlIHNhbXBsZSBub25j!Q==", out));  /* not base64 */
    CHECK(!ws_accept_key("aGVsbG8gd29ybGQgaGVsbG8=", out));  /* 17 bytes */
}

/* Flushes c in a child process (which blocks no one) while the parent reads. */
static pid_t flush_in_child(struct ws_conn *c)
{
    pid_t pid = fork();
    if (pid == 0) {
        while (ws_conn_flush(c) == WS_IO_AGAIN) {
            usleep(1000);
        }
        _exit(0);
    }
    return pid;
}

static void test_websocket_frame_lengths(void)
{
    const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 200000};
    for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
        struct pair p = make_pair(0);
        struct ws_conn c;
        ws_conn_init(&c, p.server, 100, 1 << 24);
        uint8_t *data = malloc(sizes[i] + 1);
        for (size_t k = 0; k < sizes[i]; k++) {
            data[k] = (uint8_t)(k * 7 + i);
        }
        struct ws_msg *m = ws_msg_new(WS_OP_BINARY, bytes_of(data, sizes[i]));
        size_t hl = sizes[i] < 126 ? 2 : sizes[i] <= 65535 ? 4 : 10;
        CHECK_EQ(m->len, hl + sizes[i]);
        CHECK(ws_conn_send(&c, m));
        ws_msg_unref(m);
        pid_t pid = flush_in_child(&c);
        struct frame f = {0};
        CHECK(read_frame(p.client, &f));
        waitpid(pid, NULL, 0);
        CHECK(f.fin);
        CHECK_EQ(f.op, WS_OP_BINARY);
        CHECK_EQ(f.len, sizes[i]);
        CHECK(f.payload && memcmp(f.payload, data, sizes[i]) == 0);
        free(f.payload);
        free(data);
        /* in this process, the same flush empties the queue */
        while (ws_conn_flush(&c) == WS_IO_AGAIN) {
            uint8_t sink[65536];
            (void)!read(p.client, sink, sizeof sink);
        }
        CHECK_EQ(c.queued_bytes, 0);
        CHECK(!ws_conn_pending(&c));
        ws_conn_clear(&c);
        close_pair(p);
    }
}

static void test_websocket_shared_message_and_limits(void)
{
    struct pair a = make_pair(0), b = make_pair(0);
    struct ws_conn ca, cb;
    ws_conn_init(&ca, a.server, 3, 1 << 20);
    ws_conn_init(&cb, b.server, 100, 40);
    struct ws_msg *m = ws_msg_new(WS_OP_BINARY, BYTES_LIT("sixteen bytes!!!"));
    CHECK_EQ(m->len, 18);
    CHECK(ws_conn_send(&ca, m));
    CHECK(ws_conn_send(&cb, m));
    CHECK_EQ(atomic_load(&m->refs), 3);
    /* message cap */
    CHECK(ws_conn_send(&ca, m));
    CHECK(ws_conn_send(&ca, m));
    CHECK(!ws_conn_send(&ca, m));
    /* byte cap: 18 + 18 fits in 40, a third does not */
    CHECK(ws_conn_send(&cb, m));
    CHECK(!ws_conn_send(&cb, m));
    CHECK_EQ(cb.queued_bytes, 36);
    /* forced sends pass the limits */
    CHECK(ws_conn_send_forced(&cb, m));
    CHECK_EQ(atomic_load(&m->refs), 7);
    CHECK_EQ(ws_conn_flush(&ca), WS_IO_DONE);
    CHECK_EQ(atomic_load(&m->refs), 4);
    ws_conn_clear(&cb);
    CHECK_EQ(atomic_load(&m->refs), 1);
    struct frame f;
    for (int i = 0; i < 3; i++) {
        CHECK(read_frame(a.client, &f));
        CHECK(f.len == 16 && memcmp(f.payload, "sixteen bytes!!!", 16) == 0);
        free(f.payload);
    }
    ws_msg_unref(m);
    ws_conn_clear(&ca);
    close_pair(a);
    close_pair(b);
}

/* A ping arriving while a large message is half written is answered right after it, and the
 * queued messages keep their order. */
static void test_websocket_pong_between_messages(void)
{
    struct pair p = make_pair(4096);
    struct ws_conn c;
    ws_conn_init(&c, p.server, 100, 1 << 24);
    size_t big = 300000;
    uint8_t *data = calloc(1, big);
    struct ws_msg *m1 = ws_msg_new(WS_OP_BINARY, bytes_of(data, big));
    struct ws_msg *m2 = ws_msg_new(WS_OP_BINARY, BYTES_LIT("second"));
    CHECK(ws_conn_send(&c, m1));
    CHECK(ws_conn_send(&c, m2));
    CHECK_EQ(ws_conn_flush(&c), WS_IO_AGAIN); /* the socket is small: m1 is cut */
    CHECK(c._off > 0);
    client_send(p.client, 0x80 | WS_OP_PING, "are you there", 13, true);
    CHECK_EQ(ws_conn_receive(&c), WS_IO_DONE);
    struct frame f;
    /* the client reads while the server flushes */
    pid_t pid = flush_in_child(&c);
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_BINARY && f.len == big);
    free(f.payload);
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_PONG && f.len == 13 && memcmp(f.payload, "are you there", 13) == 0);
    free(f.payload);
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_BINARY && f.len == 6 && memcmp(f.payload, "second", 6) == 0);
    free(f.payload);
    waitpid(pid, NULL, 0);
    ws_msg_unref(m1);
    ws_msg_unref(m2);
    free(data);
    ws_conn_clear(&c);
    close_pair(p);
}

static void test_websocket_close_handshake(void)
{
    struct pair p = make_pair(0);
    struct ws_conn c;
    ws_conn_init(&c, p.server, 100, 1 << 20);
    /* data frames from the client are ignored, fragmented or not */
    client_send(p.client, 0x80 | WS_OP_TEXT, "hello", 5, true);
    client_send(p.client, WS_OP_BINARY, "frag", 4, true);
    client_send(p.client, 0x80 | WS_OP_CONTINUATION, "ment", 4, true);
    uint8_t close_payload[] = {0x03, 0xe8, 'b', 'y', 'e'}; /* 1000 "bye" */
    client_send(p.client, 0x80 | WS_OP_CLOSE, close_payload, sizeof close_payload, true);
    CHECK_EQ(ws_conn_receive(&c), WS_IO_DONE);
    CHECK(c.close_received);
    CHECK(c.close_queued);
    CHECK(!c.failed);
    CHECK_EQ(ws_conn_flush(&c), WS_IO_DONE);
    struct frame f;
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_CLOSE && f.len == 2 && f.payload[0] == 0x03 && f.payload[1] == 0xe8);
    free(f.payload);
    /* nothing is accepted after our close */
    struct ws_msg *m = ws_msg_new(WS_OP_BINARY, BYTES_LIT("late"));
    CHECK(!ws_conn_send(&c, m));
    CHECK(!ws_conn_send_forced(&c, m));
    ws_msg_unref(m);
    close(p.client);
    p.client = -1;
    CHECK_EQ(ws_conn_receive(&c), WS_IO_CLOSED);
    CHECK(c.eof);
    ws_conn_clear(&c);
    close_pair(p);
}

/* An error frame before closing: queued events are dropped, the error and the close go out
 * after the frame already begun. */
static void test_websocket_discard_then_error_and_close(void)
{
    struct pair p = make_pair(4096);
    struct ws_conn c;
    ws_conn_init(&c, p.server, 100, 1 << 24);
    size_t big = 100000;
    uint8_t *data = calloc(1, big);
    struct ws_msg *m1 = ws_msg_new(WS_OP_BINARY, bytes_of(data, big));
    CHECK(ws_conn_send(&c, m1));
    CHECK(ws_conn_send(&c, m1));
    CHECK(ws_conn_send(&c, m1));
    CHECK_EQ(ws_conn_flush(&c), WS_IO_AGAIN);
    ws_conn_discard(&c);
    CHECK_EQ(c._count, 1);
    struct ws_msg *err = ws_msg_new(WS_OP_BINARY, BYTES_LIT("error frame"));
    CHECK(ws_conn_send_forced(&c, err));
    ws_conn_close(&c, WS_CLOSE_POLICY, "ConsumerTooSlow");
    pid_t pid = flush_in_child(&c);
    struct frame f;
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_BINARY && f.len == big);
    free(f.payload);
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_BINARY && f.len == 11 && memcmp(f.payload, "error frame", 11) == 0);
    free(f.payload);
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_CLOSE && f.len == 2 + 15 && f.payload[0] == 0x03 && f.payload[1] == 0xf0);
    CHECK(f.len == 17 && memcmp(f.payload + 2, "ConsumerTooSlow", 15) == 0);
    free(f.payload);
    waitpid(pid, NULL, 0);
    ws_msg_unref(m1);
    ws_msg_unref(err);
    free(data);
    ws_conn_clear(&c);
    close_pair(p);
}

/* Each bad client frame gets a close with the right code. */
static void test_websocket_refuses_bad_frames(void)
{
    struct {
        int first;
        size_t len;
        bool mask;
        int code;
    } cases[] = {
        {0x80 | WS_OP_TEXT, 3, false, WS_CLOSE_PROTOCOL},  /* unmasked */
        {0xC0 | WS_OP_TEXT, 3, true, WS_CLOSE_PROTOCOL},   /* RSV1 without an extension */
        {0x80 | 0x3, 3, true, WS_CLOSE_PROTOCOL},          /* reserved opcode */
        {WS_OP_PING, 3, true, WS_CLOSE_PROTOCOL},          /* fragmented control frame */
        {0x80 | WS_OP_PING, 200, true, WS_CLOSE_PROTOCOL}, /* control frame too long */
        {0x80 | WS_OP_CLOSE, 1, true, WS_CLOSE_PROTOCOL},  /* close with a 1-byte body */
    };
    static uint8_t payload[256];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct pair p = make_pair(0);
        struct ws_conn c;
        ws_conn_init(&c, p.server, 100, 1 << 20);
        client_send(p.client, cases[i].first, payload, cases[i].len, cases[i].mask);
        CHECK_EQ(ws_conn_receive(&c), WS_IO_DONE);
        CHECK(c.failed);
        CHECK_EQ(ws_conn_flush(&c), WS_IO_DONE);
        struct frame f;
        CHECK(read_frame(p.client, &f));
        CHECK(f.op == WS_OP_CLOSE && f.len == 2);
        CHECK_EQ(f.payload[0] << 8 | f.payload[1], cases[i].code);
        free(f.payload);
        ws_conn_clear(&c);
        close_pair(p);
    }
    /* a data frame longer than WS_IN_FRAME_MAX_BYTES: 1009, judged from its header alone */
    struct pair p = make_pair(0);
    struct ws_conn c;
    ws_conn_init(&c, p.server, 100, 1 << 20);
    uint8_t h[] = {0x80 | WS_OP_BINARY, 0x80 | 127, 0, 0, 0, 0, 0, 0x10, 0, 0, 1, 2, 3, 4};
    CHECK(write(p.client, h, sizeof h) == (ssize_t)sizeof h);
    CHECK_EQ(ws_conn_receive(&c), WS_IO_DONE);
    CHECK(c.failed);
    CHECK_EQ(ws_conn_flush(&c), WS_IO_DONE);
    struct frame f;
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_CLOSE && f.len == 2 && (f.payload[0] << 8 | f.payload[1]) == 1009);
    free(f.payload);
    ws_conn_clear(&c);
    close_pair(p);
}

/* Bytes fed before the socket is used (read by the HTTP server past the handshake), and a
 * frame split across reads. */
static void test_websocket_feed_and_split_frames(void)
{
    struct pair p = make_pair(0);
    struct ws_conn c;
    ws_conn_init(&c, p.server, 100, 1 << 20);
    uint8_t ping[] = {0x80 | WS_OP_PING, 0x80 | 2, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2};
    ws_conn_feed(&c, ping, 3);
    CHECK_EQ(c._ctrl_len, 0);
    ws_conn_feed(&c, ping + 3, sizeof ping - 3);
    CHECK(c._ctrl_len > 0);
    ws_conn_ping(&c);
    CHECK_EQ(ws_conn_flush(&c), WS_IO_DONE);
    struct frame f;
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_PONG && f.len == 2 && memcmp(f.payload, "hi", 2) == 0);
    free(f.payload);
    CHECK(read_frame(p.client, &f));
    CHECK(f.op == WS_OP_PING && f.len == 0);
    free(f.payload);
    ws_conn_clear(&c);
    close_pair(p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_websocket_accept_key);
    RUN(test_websocket_frame_lengths);
    RUN(test_websocket_shared_message_and_limits);
    RUN(test_websocket_pong_between_messages);
    RUN(test_websocket_close_handshake);
    RUN(test_websocket_discard_then_error_and_close);
    RUN(test_websocket_refuses_bad_frames);
    RUN(test_websocket_feed_and_split_frames);
    return test_report();
}
