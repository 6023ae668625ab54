/* server.h - the HTTP server: libmicrohttpd with an internal thread pool (epoll), one
 * PostgreSQL connection per worker thread, XRPC dispatch through the route tables.
 * Start and stop from the main thread; the server runs on its own threads in between. */
#ifndef PDS_HTTP_SERVER_H
#define PDS_HTTP_SERVER_H

#include "core/err.h"

struct config;
struct http_server;

#define HTTP_IDLE_TIMEOUT_S    60         /* a connection silent this long is closed */
#define HTTP_CONN_MEMORY_BYTES (64 << 10) /* per-connection header buffer (DPoP + JWTs fit) */

/* Listens on cfg->listen_address and cfg->port ("::": every interface, IPv6 and IPv4, or
 * IPv4 alone where there is no IPv6) with cfg->worker_threads threads, and logs where. cfg
 * must outlive the server; db_thread_set_url must have been called. ERR_INVALID (logged)
 * when the address is not an IP literal, ERR_INTERNAL (logged) when it cannot be bound.
 * Caller frees with http_server_stop. */
enum err http_server_start(const struct config *cfg, struct http_server **out) MUST_CHECK;

/* Stops accepting, waits for the worker threads (in-flight requests finish or are cut), and
 * frees the server; each worker's database connection closes with its thread. NULL is a
 * no-op. */
void http_server_stop(struct http_server *s);

#endif
