/* websocket.h - the server side of RFC 6455 for event streams: the handshake's accept key,
 * immutable outbound messages shared by any number of connections, and a non-blocking
 * connection with a bounded outbound queue and a parser for client frames.
 * ws_msg is thread-safe (atomic reference count, read-only after creation); a ws_conn
 * belongs to one thread at a time. */
#ifndef PDS_HTTP_WEBSOCKET_H
#define PDS_HTTP_WEBSOCKET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

#define WS_GUID               "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" /* spec(rfc6455) 1.3 */
#define WS_VERSION            "13"
#define WS_KEY_BYTES          16  /* spec(rfc6455): Sec-WebSocket-Key is 16 random bytes */
#define WS_ACCEPT_LEN         28  /* base64 of a 20-byte SHA-1 */
#define WS_HEADER_MAX         10  /* a server frame header: 2 bytes + 64-bit length, no mask */
#define WS_CONTROL_MAX        125 /* spec(rfc6455) 5.5: control payloads are short */
#define WS_IN_FRAME_MAX_BYTES (64 << 10) /* client frames past this are refused with 1009 */
#define WS_IOV_MAX            64         /* messages handed to one sendmsg */

enum ws_opcode {
    WS_OP_CONTINUATION = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

/* Close codes (spec(rfc6455) 7.4.1) */
enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_POLICY = 1008, /* what the reference closes with after an error frame */
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
};

/* The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key: base64(SHA-1(key +
 * WS_GUID)). false (out untouched) unless key is the base64 of WS_KEY_BYTES bytes. */
bool ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* One complete server frame (header and payload), immutable, shared by reference. */
struct ws_msg {
    atomic_uint refs;
    size_t len; /* bytes of data */
    uint8_t data[];
};

/* A single unfragmented frame carrying payload; one reference, owned by the caller. */
struct ws_msg *ws_msg_new(enum ws_opcode op, struct bytes payload);
/* Adds a reference; returns m. */
struct ws_msg *ws_msg_ref(struct ws_msg *m);
/* Drops a reference, freeing m with the last. NULL is a no-op. */
void ws_msg_unref(struct ws_msg *m);

/* Result of I/O on a connection. */
enum ws_io {
    WS_IO_DONE,   /* flush: everything queued is written; receive: read all there was */
    WS_IO_AGAIN,  /* flush: the socket is full, bytes remain queued */
    WS_IO_CLOSED, /* the peer closed its side or the socket failed: stop using it */
};

/* A connection. Outbound: data messages go through a bounded queue; control frames (pong,
 * ping) jump the queue at the next message boundary; our close frame goes last. Inbound:
 * pings are answered, a close is echoed, data frames are read and ignored, and protocol
 * errors queue a close with their code. The socket stays the caller's to close. */
struct ws_conn {
    int fd;
    size_t max_msgs, max_bytes; /* limits of ws_conn_send */
    size_t queued_bytes;        /* bytes not yet written, all queued messages */
    uint64_t rx_bytes;          /* bytes received so far (for idle checks) */
    bool close_queued;          /* our close frame is queued: no more data is accepted */
    bool close_received;        /* the peer sent a close frame */
    bool failed;                /* a protocol error from the peer (a close is queued) */
    bool eof;                   /* the peer closed its side or the socket failed */
    struct ws_msg **_ring;      /* queued messages, _head first; _off bytes of it written */
    size_t _cap, _head, _count, _off;
    uint8_t _ctrl[4 * (2 + WS_CONTROL_MAX)]; /* pending control frames, _ctrl_off written */
    size_t _ctrl_len, _ctrl_off;
    uint8_t *_in; /* received bytes not yet parsed; grows to one largest frame */
    size_t _in_len, _in_cap;
};

/* Takes a connected, non-blocking socket (not closed by ws_conn_clear). */
void ws_conn_init(struct ws_conn *c, int fd, size_t max_msgs, size_t max_bytes);
/* Drops everything queued and frees the buffers. */
void ws_conn_clear(struct ws_conn *c);

/* Queues m (taking a new reference) unless that would pass max_msgs or max_bytes, or a close
 * is already queued: false, nothing queued. */
bool ws_conn_send(struct ws_conn *c, struct ws_msg *m);
/* Queues m past the limits (an error frame before closing). False after a close. */
bool ws_conn_send_forced(struct ws_conn *c, struct ws_msg *m);
/* Drops every queued message except one already partly written (the stream stays framed). */
void ws_conn_discard(struct ws_conn *c);
/* Queues our close frame (code, optional reason) after everything queued; once. */
void ws_conn_close(struct ws_conn *c, enum ws_close_code code, const char *reason);
/* Queues a ping (empty payload) at the next message boundary. */
void ws_conn_ping(struct ws_conn *c);

/* True while bytes wait to be written. */
bool ws_conn_pending(const struct ws_conn *c);
/* Messages queued (data and our close), not yet fully written. */
size_t ws_conn_queued(const struct ws_conn *c);
/* Writes what it can without blocking. */
enum ws_io ws_conn_flush(struct ws_conn *c);
/* Reads what there is without blocking and handles the frames (see struct ws_conn);
 * WS_IO_CLOSED at end of stream or on a socket error. Call ws_conn_flush afterwards to send
 * any answers. */
enum ws_io ws_conn_receive(struct ws_conn *c);
/* Handles bytes that arrived before the connection was handed over (the bytes an HTTP
 * server read past the upgrade request). */
void ws_conn_feed(struct ws_conn *c, const uint8_t *data, size_t len);

#endif
