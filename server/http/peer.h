/* peer.h - peer addresses at the HTTP edge: the address of a socket's far end (IPv4-mapped
 * IPv6 folded to IPv4), whether it is local (loopback or private: where a reverse proxy
 * sits), and a count of open connections per address for the per-client cap.
 * Pure but for the random key of each count's hash; a peer_count is not thread-safe (its
 * owner locks around every call). */
#ifndef PDS_HTTP_PEER_H
#define PDS_HTTP_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct sockaddr;

/* One address: family 4 uses bytes[0..3], family 6 all 16; the rest is zero, so two
 * addresses compare with memcmp. Family 0: not an IP address (e.g. a Unix socket). */
struct peer_addr {
    uint8_t family;
    uint8_t bytes[16];
};

/* The address of sa (AF_INET or AF_INET6; ::ffff:a.b.c.d becomes a.b.c.d); family 0 for
 * anything else. */
void peer_addr_from_sockaddr(const struct sockaddr *sa, struct peer_addr *out);
/* Parses "a.b.c.d" or an IPv6 literal (folded as above); false if it is neither. */
bool peer_addr_parse(const char *text, struct peer_addr *out) MUST_CHECK;
/* Loopback (127/8, ::1), private (10/8, 172.16/12, 192.168/16, fc00::/7) or IPv6 link-local:
 * the addresses a local reverse proxy connects from, whose X-Forwarded-For we believe. */
bool peer_addr_is_local(const struct peer_addr *a);

/* Open connections per address; IPv6 addresses count per /64 (one host can usually use any
 * address of its /64). Invariant: every entry has count > 0 (an entry whose count drops to
 * zero is removed), so the table holds one entry per address with an open connection. */
struct peer_count {
    uint8_t _key[16]; /* SipHash key (crypto_shorthash_KEYBYTES), random per table */
    struct peer_count_entry **_buckets;
    size_t _n_buckets; /* a power of two */
    size_t _n_entries;
};

void peer_count_init(struct peer_count *pc);
/* Frees every entry and the table; pc is left zeroed (peer_count_init it to reuse). Safe on a
 * zeroed struct. */
void peer_count_clear(struct peer_count *pc);
/* Open connections of a (or of its /64) right now; 0 when none. */
unsigned peer_count_get(const struct peer_count *pc, const struct peer_addr *a);
/* Counts one more connection of a unless it already has cap (cap 0: no cap); true when
 * counted. Addresses of family 0 are never counted nor capped (true). */
bool peer_count_add(struct peer_count *pc, const struct peer_addr *a, unsigned cap) MUST_CHECK;
/* Counts one connection of a fewer; a must have been counted by peer_count_add. */
void peer_count_del(struct peer_count *pc, const struct peer_addr *a);
/* Addresses with at least one open connection. */
size_t peer_count_addresses(const struct peer_count *pc);

#endif
