/* listen.h - where the HTTP server listens: PDS_LISTEN_ADDRESS (an IP literal) and PDS_PORT
 * as a socket address, and how far that reaches (loopback, every interface, one address),
 * for the start-up log. Pure: no I/O, no allocation; thread-safe. */
#ifndef PDS_HTTP_LISTEN_H
#define PDS_HTTP_LISTEN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "core/err.h"

enum listen_scope {
    LISTEN_LOOPBACK, /* 127.0.0.0/8 or ::1: this machine alone can connect */
    LISTEN_ALL,      /* 0.0.0.0 or ::: every interface */
    LISTEN_ONE,      /* one interface's address */
};

#define LISTEN_TEXT_MAX (INET6_ADDRSTRLEN + 8) /* "[v6 address]:65535" */

struct listen_addr {
    struct sockaddr_storage sa; /* port set, in network order */
    socklen_t sa_len;
    int family; /* AF_INET or AF_INET6 */
    enum listen_scope scope;
    char text[LISTEN_TEXT_MAX]; /* "127.0.0.1:2583", "[::]:2583" */
};

/* address: an IPv4 or IPv6 literal without brackets; port 1..65535. ERR_INVALID otherwise
 * (out is then zeroed). */
enum err listen_addr_parse(const char *address, int port, struct listen_addr *out) MUST_CHECK;

/* A phrase for the log: "loopback only: no other machine can connect", ... */
const char *listen_scope_str(enum listen_scope s);

#endif
