/* peer.c - peer addresses and the per-address connection count (see peer.h). */
#include "http/peer.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "core/bytes.h"

#define PEER_BUCKETS_INITIAL 64
#define PEER_V6_PREFIX_BYTES 8 /* IPv6 clients are counted per /64: one host's usual share */

struct peer_count_entry {
    struct peer_addr addr;
    unsigned count; /* > 0 */
    struct peer_count_entry *next;
};

static void fold_v6(const uint8_t b[16], struct peer_addr *out)
{
    memset(out, 0, sizeof *out);
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, v4_mapped, sizeof v4_mapped) == 0) {
        out->family = 4;
        memcpy(out->bytes, b + 12, 4);
    } else {
        out->family = 6;
        memcpy(out->bytes, b, 16);
    }
}

void peer_addr_from_sockaddr(const struct sockaddr *sa, struct peer_addr *out)
{
    memset(out, 0, sizeof *out);
    if (!sa) {
        return;
    }
    if (sa->sa_family == AF_INET) {
        out->family = 4;
        memcpy(out->bytes, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        fold_v6(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, out);
    }
}

bool peer_addr_parse(const char *text, struct peer_addr *out)
{
    memset(out, 0, sizeof *out);
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        out->family = 4;
        memcpy(out->bytes, &v4, 4);
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6) == 1) {
        fold_v6(v6.s6_addr, out);
        return true;
    }
    return false;
}

bool peer_addr_is_local(const struct peer_addr *a)
{
    const uint8_t *b = a->bytes;
    if (a->family == 4) {
        return b[0] == 127 || b[0] == 10 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
               (b[0] == 192 && b[1] == 168);
    }
    if (a->family == 6) {
        static const uint8_t loopback[16] = {[15] = 1};
        return memcmp(b, loopback, 16) == 0 || (b[0] & 0xfe) == 0xfc ||
               (b[0] == 0xfe && (b[1] & 0xc0) == 0x80);
    }
    return false;
}

/* The counted key: the address itself, or its /64 for IPv6, since one host on IPv6 can
 * usually pick any address in its /64 and would otherwise escape the cap. */
static struct peer_addr count_key(const struct peer_addr *a)
{
    struct peer_addr k = *a;
    if (k.family == 6) {
        memset(k.bytes + PEER_V6_PREFIX_BYTES, 0, sizeof k.bytes - PEER_V6_PREFIX_BYTES);
    }
    return k;
}

/* SipHash under a key drawn per table: the keys are chosen by strangers, who must not be
 * able to pile their addresses into one chain. */
static size_t addr_hash(const struct peer_count *pc, const struct peer_addr *a)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const uint8_t *)a, sizeof *a, pc->_key);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)v;
}

void peer_count_init(struct peer_count *pc)
{
    if (sodium_init() < 0) {
        abort(); /* libsodium cannot run here at all */
    }
    randombytes_buf(pc->_key, sizeof pc->_key);
    pc->_buckets = xcalloc(PEER_BUCKETS_INITIAL, sizeof *pc->_buckets);
    pc->_n_buckets = PEER_BUCKETS_INITIAL;
    pc->_n_entries = 0;
}

void peer_count_clear(struct peer_count *pc)
{
    for (size_t i = 0; pc->_buckets && i < pc->_n_buckets; i++) {
        struct peer_count_entry *e = pc->_buckets[i];
        while (e) {
            struct peer_count_entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(pc->_buckets);
    memset(pc, 0, sizeof *pc);
}

static struct peer_count_entry **find_slot(const struct peer_count *pc, const struct peer_addr *a)
{
    struct peer_count_entry **slot = &pc->_buckets[addr_hash(pc, a) & (pc->_n_buckets - 1)];
    while (*slot && memcmp(&(*slot)->addr, a, sizeof *a) != 0) {
        slot = &(*slot)->next;
    }
    return slot;
}

/* Doubles the bucket array once entries outnumber buckets, keeping chains short. */
static void grow(struct peer_count *pc)
{
    size_t n = pc->_n_buckets * 2;
    struct peer_count_entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < pc->_n_buckets; i++) {
        struct peer_count_entry *e = pc->_buckets[i];
        while (e) {
            struct peer_count_entry *next = e->next;
            size_t k = addr_hash(pc, &e->addr) & (n - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(pc->_buckets);
    pc->_buckets = b;
    pc->_n_buckets = n;
}

unsigned peer_count_get(const struct peer_count *pc, const struct peer_addr *a)
{
    struct peer_addr k = count_key(a);
    struct peer_count_entry *e = *find_slot(pc, &k);
    return e ? e->count : 0;
}

bool peer_count_add(struct peer_count *pc, const struct peer_addr *a, unsigned cap)
{
    if (a->family == 0) {
        return true;
    }
    struct peer_addr k = count_key(a);
    struct peer_count_entry **slot = find_slot(pc, &k);
    if (*slot) {
        if (cap && (*slot)->count >= cap) {
            return false;
        }
        (*slot)->count++;
        return true;
    }
    struct peer_count_entry *e = xcalloc(1, sizeof *e);
    e->addr = k;
    e->count = 1;
    *slot = e;
    if (++pc->_n_entries > pc->_n_buckets) {
        grow(pc);
    }
    return true;
}

void peer_count_del(struct peer_count *pc, const struct peer_addr *a)
{
    if (a->family == 0) {
        return;
    }
    struct peer_addr k = count_key(a);
    struct peer_count_entry **slot = find_slot(pc, &k);
    struct peer_count_entry *e = *slot;
    assert(e && e->count > 0);
    if (!e) {
        return;
    }
    if (--e->count == 0) {
        *slot = e->next;
        free(e);
        pc->_n_entries--;
    }
}

size_t peer_count_addresses(const struct peer_count *pc)
{
    return pc->_n_entries;
}
