/* cidr.c - IP ranges: parsing and membership, with IPv4-mapped IPv6 folded into IPv4. */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Clears the bits of r->addr below r->prefix. */
static void mask(struct cidr *r)
{
    size_t bytes = r->family == 4 ? 4 : 16;
    for (size_t i = 0; i < bytes; i++) {
        int keep = (int)r->prefix - (int)(i * 8);
        if (keep <= 0) {
            r->addr[i] = 0;
        } else if (keep < 8) {
            r->addr[i] &= (uint8_t)(0xff << (8 - keep));
        }
    }
}

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool cidr_addr_parse(const char *addr, struct cidr *out)
{
    memset(out, 0, sizeof *out);
    if (!addr || strlen(addr) >= CIDR_TEXT_MAX) {
        return false;
    }
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
        out->family = 4;
        out->prefix = 32;
        return true;
    }
    if (inet_pton(AF_INET6, addr, out->addr) != 1) {
        return false;
    }
    if (memcmp(out->addr, v4_mapped_prefix, sizeof v4_mapped_prefix) == 0) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = 4;
        out->prefix = 32;
        return true;
    }
    out->family = 6;
    out->prefix = 128;
    return true;
}

enum err cidr_parse(const char *text, struct cidr *out)
{
    memset(out, 0, sizeof *out);
    size_t n = text ? strlen(text) : 0;
    if (n == 0 || n >= CIDR_TEXT_MAX) {
        return ERR_INVALID;
    }
    char buf[CIDR_TEXT_MAX];
    memcpy(buf, text, n + 1);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        const char *p = slash + 1;
        if (*p < '0' || *p > '9' || strlen(p) > 3) {
            return ERR_INVALID;
        }
        char *end;
        prefix = strtol(p, &end, 10);
        if (*end != '\0') {
            return ERR_INVALID;
        }
    }
    bool mapped = strchr(buf, ':') != NULL;
    if (!cidr_addr_parse(buf, out)) {
        return ERR_INVALID;
    }
    if (prefix >= 0) {
        /* a mapped address's prefix counts the 96 bits in front of the IPv4 part */
        if (out->family == 4 && mapped) {
            prefix -= 96;
        }
        if (prefix < 0 || prefix > (out->family == 4 ? 32 : 128)) {
            return ERR_INVALID;
        }
        out->prefix = (uint8_t)prefix;
    }
    mask(out);
    return ERR_OK;
}

static const char *const keyword_loopback[] = {"127.0.0.0/8", "::1/128", NULL};
static const char *const keyword_linklocal[] = {"169.254.0.0/16", "fe80::/10", NULL};
static const char *const keyword_uniquelocal[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                  "fc00::/7", NULL};

static const struct {
    const char *name;
    const char *const *ranges;
} keywords[] = {
    {"loopback", keyword_loopback},
    {"linklocal", keyword_linklocal},
    {"uniquelocal", keyword_uniquelocal},
};

enum err cidr_list_add(struct cidr_list *l, const char *item)
{
    if (strcmp(item, "none") == 0) {
        return ERR_OK;
    }
    for (size_t k = 0; k < ARRAY_LEN(keywords); k++) {
        if (strcmp(item, keywords[k].name) != 0) {
            continue;
        }
        size_t n = 0;
        while (keywords[k].ranges[n]) {
            n++;
        }
        if (l->len + n > CIDR_LIST_MAX) {
            return ERR_TOO_LARGE;
        }
        for (size_t i = 0; i < n; i++) {
            enum err e = cidr_parse(keywords[k].ranges[i], &l->items[l->len + i]);
            if (e) {
                return e; /* our own table: never */
            }
        }
        l->len += n;
        return ERR_OK;
    }
    if (l->len >= CIDR_LIST_MAX) {
        return ERR_TOO_LARGE;
    }
    enum err e = cidr_parse(item, &l->items[l->len]);
    if (e) {
        return e;
    }
    l->len++;
    return ERR_OK;
}

static bool in_range(const struct cidr *r, const struct cidr *a)
{
    if (r->family != a->family) {
        return false;
    }
    struct cidr m = *a;
    m.prefix = r->prefix;
    mask(&m);
    return memcmp(m.addr, r->addr, r->family == 4 ? 4 : 16) == 0;
}

bool cidr_list_contains(const struct cidr_list *l, const char *addr)
{
    struct cidr a;
    if (!l || !cidr_addr_parse(addr, &a)) {
        return false;
    }
    for (size_t i = 0; i < l->len; i++) {
        if (in_range(&l->items[i], &a)) {
            return true;
        }
    }
    return false;
}

void cidr_format_addr(const struct cidr *r, char out[CIDR_ADDR_STR_MAX])
{
    if (!inet_ntop(r->family == 4 ? AF_INET : AF_INET6, r->addr, out, CIDR_ADDR_STR_MAX)) {
        out[0] = '\0';
    }
}
