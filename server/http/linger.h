/* linger.h - lingering close: after we answered a request before reading its body (413
 * from the headers), keep reading and dropping what the client still sends for a short
 * while before closing. Closing a socket with unread input makes the kernel send a reset,
 * and a reset that reaches the client first destroys the answer it has not read yet.
 * One thread with its own epoll set; thread-safe. */
#ifndef PDS_HTTP_LINGER_H
#define PDS_HTTP_LINGER_H

#include <stdint.h>

#include "core/err.h"

#define LINGER_MAX_SOCKETS 256  /* draining at once; past this a socket is closed at once */
#define LINGER_TIME_MS     5000 /* longest a socket is drained (nginx: lingering_time 30 s) */
#define LINGER_IDLE_MS     1000 /* a drained socket silent this long is closed */

struct linger_pool;

/* Starts the draining thread. ERR_INTERNAL (logged) when it cannot. Caller frees with
 * linger_stop. */
enum err linger_start(struct linger_pool **out) MUST_CHECK;
/* Takes fd (a connected TCP socket whose answer is fully written) and owns it from now on:
 * shuts its sending side, drains it until the client closes, falls silent or the time is
 * up, then closes it. Closed at once when the thread is full or absent (l NULL). */
void linger_take(struct linger_pool *l, int fd);
/* Sockets draining now (for tests and logs). */
unsigned linger_count(struct linger_pool *l);
/* Closes every socket still draining, stops the thread and frees l. NULL is a no-op. */
void linger_stop(struct linger_pool *l);

#endif
