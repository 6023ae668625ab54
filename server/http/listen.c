/* listen.c - PDS_LISTEN_ADDRESS and PDS_PORT as a socket address, and its reach. */
#include "http/listen.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum err listen_addr_parse(const char *address, int port, struct listen_addr *out)
{
    memset(out, 0, sizeof *out);
    if (!address || port < 1 || port > 65535) {
        return ERR_INVALID;
    }
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->sa;
    if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
        uint32_t a = ntohl(v4->sin_addr.s_addr);
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->sa_len = sizeof *v4;
        out->family = AF_INET;
        out->scope = (a >> 24) == 127 ? LISTEN_LOOPBACK : a == 0 ? LISTEN_ALL : LISTEN_ONE;
        snprintf(out->text, sizeof out->text, "%s:%d", address, port);
        return ERR_OK;
    }
    if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        out->sa_len = sizeof *v6;
        out->family = AF_INET6;
        out->scope = IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr)      ? LISTEN_LOOPBACK
                     : IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr) ? LISTEN_ALL
                                                               : LISTEN_ONE;
        char canon[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &v6->sin6_addr, canon, sizeof canon);
        snprintf(out->text, sizeof out->text, "[%s]:%d", canon, port);
        return ERR_OK;
    }
    memset(out, 0, sizeof *out);
    return ERR_INVALID;
}

const char *listen_scope_str(enum listen_scope s)
{
    switch (s) {
    case LISTEN_LOOPBACK:
        return "loopback only: no other machine can connect";
    case LISTEN_ALL:
        return "every interface";
    case LISTEN_ONE:
        return "one interface";
    }
    return "?";
}
