/* cidr.h - IP address ranges (CIDR): parsing "10.0.0.0/8, ::1, loopback" lists and asking
 * whether an address falls in one. Used for the trusted reverse proxies and the rate-limit
 * bypass list. Pure: no I/O, no globals; a parsed list is read-only and thread-safe.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are treated as the IPv4 address they carry,
 * both in lists and when matching, so a dual-stack socket sees the same ranges. */
#ifndef PDS_CORE_CIDR_H
#define PDS_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CIDR_LIST_MAX     256 /* ranges in one list: far past any sensible configuration */
#define CIDR_TEXT_MAX     64  /* longest range text we accept ("ffff:...:ffff/128" is 43) */
#define CIDR_ADDR_STR_MAX 46  /* INET6_ADDRSTRLEN */

/* One range: family 4 or 6, the network's bytes (4 or 16 used) and the prefix length. */
struct cidr {
    uint8_t family;
    uint8_t prefix;
    uint8_t addr[16];
};

struct cidr_list {
    struct cidr items[CIDR_LIST_MAX];
    size_t len;
};

/* Parses one range: an address ("203.0.113.7", "2001:db8::1"; a whole-address range) or
 * address/prefix ("10.0.0.0/8", "fc00::/7"). Host bits below the prefix are cleared, so
 * "10.1.2.3/8" is 10.0.0.0/8. ERR_INVALID for anything else. */
enum err cidr_parse(const char *text, struct cidr *out) MUST_CHECK;

/* Appends the ranges of one item of a list: a range as above, or a keyword naming the
 * reference's express `trust proxy` sets: "loopback" (127.0.0.0/8, ::1), "linklocal"
 * (169.254.0.0/16, fe80::/10) or "uniquelocal" (10.0.0.0/8, 172.16.0.0/12,
 * 192.168.0.0/16, fc00::/7); "none" adds nothing. ERR_INVALID for a malformed item, ERR_TOO_LARGE
 * past CIDR_LIST_MAX ranges; the list is unchanged on failure. */
enum err cidr_list_add(struct cidr_list *l, const char *item) MUST_CHECK;

/* Whether the address text (no prefix) is in one of the list's ranges. An unparsable
 * address is in none. */
bool cidr_list_contains(const struct cidr_list *l, const char *addr);

/* Parses the text of an address (no prefix) into a /32 or /128 range; false if it is not
 * an IPv4 or IPv6 address. */
bool cidr_addr_parse(const char *addr, struct cidr *out);

/* The address text of r's network ("2001:db8::" for 2001:db8::1/64), for rate-limit keys. */
void cidr_format_addr(const struct cidr *r, char out[CIDR_ADDR_STR_MAX]);

#endif
