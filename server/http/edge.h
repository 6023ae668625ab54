/* edge.h - connection bookkeeping at the HTTP edge, against clients that hold connections
 * open: a cap on open connections per client address, deadlines for receiving a request
 * (its head, and its head and body) that a watchdog thread enforces however slowly the
 * client trickles bytes, and lingering close (linger.h) after a refusal sent before the
 * body was read. Knows sockets, not libmicrohttpd: server.c calls it from the library's
 * callbacks. Thread-safe: one internal mutex, held across shutdown(2) and log lines only;
 * a NULL connection is accepted everywhere and ignored.
 *
 * A connection's life: edge_admit (may refuse) -> edge_conn_open -> per request:
 * edge_head_done -> edge_body_done -> edge_request_done -> ... -> edge_conn_close. */
#ifndef PDS_HTTP_EDGE_H
#define PDS_HTTP_EDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct sockaddr;
struct edge;
struct edge_conn;

struct edge_limits {
    unsigned per_ip;       /* open connections per non-local address (IPv6: per /64); 0: no cap */
    unsigned per_local_ip; /* per loopback or private address (a reverse proxy); 0: no cap */
    int64_t headers_timeout_ms; /* to receive a request head, from the connection's opening
                                   or the end of its previous response; 0: none */
    int64_t request_timeout_ms; /* to receive the head and the whole body, same start; 0: none */
};

/* Starts the watchdog and the lingering-close threads. ERR_INTERNAL (logged) when a thread
 * cannot start. Caller frees with edge_stop, after the HTTP server stopped. */
enum err edge_start(const struct edge_limits *lim, struct edge **out) MUST_CHECK;
/* Stops both threads and frees e; every connection must have been closed. NULL: no-op. */
void edge_stop(struct edge *e);

/* Whether a new connection from addr is welcome (its address is under its cap). */
bool edge_admit(struct edge *e, const struct sockaddr *addr);
/* Registers an accepted connection on socket fd (which the caller keeps owning). Never
 * NULL. When the address reached its cap in the meantime (another thread admitted it
 * first), the connection is refused: its socket is shut down, so it ends at once. */
struct edge_conn *edge_conn_open(struct edge *e, int fd, const struct sockaddr *addr);
/* Forgets the connection before its socket is closed, freeing c. When edge_conn_linger
 * was called, or unread input is waiting, the socket is first duplicated for lingering
 * close. */
void edge_conn_close(struct edge *e, struct edge_conn *c);

/* The request head is in. false when the connection was already cut (past its deadline,
 * or refused): the caller drops it. */
bool edge_head_done(struct edge *e, struct edge_conn *c) MUST_CHECK;
/* The body is in (or the request was answered before it): no deadline applies until the
 * response is done. false as above. */
bool edge_body_done(struct edge *e, struct edge_conn *c) MUST_CHECK;
/* The response is done: the deadlines start again for the next request. */
void edge_request_done(struct edge *e, struct edge_conn *c);
/* The connection was upgraded (WebSocket): no deadline applies any more. */
void edge_conn_upgraded(struct edge *e, struct edge_conn *c);
/* The answer is sent before the body was read: drain the socket after it closes. */
void edge_conn_linger(struct edge *e, struct edge_conn *c);

/* For tests and logs: connections cut by the watchdog, and refused for their address. */
uint64_t edge_cut_count(struct edge *e);
uint64_t edge_refused_count(struct edge *e);

#endif
