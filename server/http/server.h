/* server.h - the HTTP server: libmicrohttpd with an internal thread pool (epoll), one
 * PostgreSQL connection per worker thread, XRPC dispatch through the route tables.
 * Start and stop from the main thread; the server runs on its own threads in between. */
#ifndef PDS_HTTP_SERVER_H
#define PDS_HTTP_SERVER_H

#include "core/err.h"

struct config;
struct http_server;

#define HTTP_IDLE_TIMEOUT_S 60 /* a connection silent this long is closed */
/* Per-connection memory pool of libmicrohttpd: its read buffer (half the pool at first), a
 * record per header line and the response head. Query parameters are not stored there
 * (server.c parses them), so a head of HTTP_HEAD_MAX_BYTES (http/head.h) fits with room to
 * spare. */
#define HTTP_CONN_MEMORY_BYTES (64 << 10)

/* The connection limit by default: the open-file limit less what the rest of the process
 * needs. serve.c raises the soft limit to the hard one at start-up. */
#define HTTP_FD_RESERVE           512        /* files, database, outbound HTTP, lingering sockets */
#define HTTP_FD_PER_WORKER        4          /* a worker's database connection, epoll, wake-up */
#define HTTP_CONNECTIONS_MIN      64         /* even when the file limit is tiny */
#define HTTP_CONNECTIONS_FALLBACK (1u << 16) /* when the file limit is unlimited */

/* Listens on cfg->listen_address and cfg->port ("::": every interface, IPv6 and IPv4, or
 * IPv4 alone where there is no IPv6) with cfg->worker_threads threads, at most
 * cfg->http_max_connections connections (0: http_connection_budget), and cfg's per-address
 * caps and request deadlines, and logs where. cfg must outlive the server;
 * db_thread_set_url must have been called. ERR_INVALID (logged) when the address is not an
 * IP literal, ERR_INTERNAL (logged) when it cannot be bound. Caller frees with
 * http_server_stop. */
enum err http_server_start(const struct config *cfg, struct http_server **out) MUST_CHECK;

/* Client connections the current open-file limit leaves room for (RLIMIT_NOFILE's soft limit
 * less HTTP_FD_RESERVE and HTTP_FD_PER_WORKER per thread, at least HTTP_CONNECTIONS_MIN). */
unsigned http_connection_budget(unsigned worker_threads);

/* Stops accepting, waits for the worker threads (in-flight requests finish or are cut), and
 * frees the server; each worker's database connection closes with its thread. NULL is a
 * no-op. */
void http_server_stop(struct http_server *s);

#endif
