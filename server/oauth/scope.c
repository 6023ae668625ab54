/* scope.c - atproto OAuth scope parsing (generic grammar, then granular permissions) and
 * the permission checks. Semantics follow the reference parsers and the interop vectors. */
#include "oauth/scope.h"

#include "core/hex.h"

#include <string.h>

#include "core/syntax.h"

#define LIT(s) BYTES_LIT(s)

static size_t find(struct bytes s, size_t from, uint8_t c)
{
    for (size_t i = from; i < s.len; i++) {
        if (s.ptr[i] == c) {
            return i;
        }
    }
    return s.len;
}

static struct bytes sub(struct bytes s, size_t from, size_t to)
{
    return (struct bytes){s.ptr + from, to - from};
}

/* Percent-decodes in into the arena (NUL-terminated). plus_is_space for the query part
 * (application/x-www-form-urlencoded, as URLSearchParams and Go's url.ParseQuery read it);
 * the positional part is read like decodeURIComponent. A malformed escape, or one that
 * decodes to a control character, is ERR_INVALID. */
static enum err pct_decode(struct arena *a, struct bytes in, bool plus_is_space, struct bytes *out)
{
    uint8_t *dst = arena_alloc(a, in.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        uint8_t c = in.ptr[i];
        if (c == '%') {
            if (i + 2 >= in.len) { /* needs two hex digits */
                return ERR_INVALID;
            }
            int hi = hex_digit((uint8_t)in.ptr[i + 1]), lo = hex_digit((uint8_t)in.ptr[i + 2]);
            if (hi < 0 || lo < 0) {
                return ERR_INVALID;
            }
            c = (uint8_t)(hi * 16 + lo);
            if (c < 0x20 || c == 0x7f) {
                return ERR_INVALID;
            }
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        dst[n++] = c;
    }
    dst[n] = '\0';
    *out = (struct bytes){dst, n};
    return ERR_OK;
}

/* One k=v piece of the query, decoded. */
struct kv {
    struct bytes key, value;
};

/* Splits the query on '&' (empty pieces skipped) and decodes each piece. */
static enum err split_query(struct arena *a, struct bytes q, struct kv **out, size_t *nout)
{
    size_t max = 1;
    for (size_t i = 0; i < q.len; i++) {
        max += q.ptr[i] == '&';
    }
    struct kv *kvs = arena_alloc(a, max * sizeof(*kvs));
    size_t n = 0;
    size_t start = 0;
    while (start <= q.len) {
        size_t end = find(q, start, '&');
        struct bytes piece = sub(q, start, end);
        start = end + 1;
        if (piece.len == 0) {
            continue;
        }
        if (n == SCOPE_MAX_PARAMS) {
            return ERR_TOO_LARGE;
        }
        size_t eq = find(piece, 0, '=');
        struct bytes k = sub(piece, 0, eq);
        struct bytes v = eq < piece.len ? sub(piece, eq + 1, piece.len) : LIT("");
        if (pct_decode(a, k, true, &kvs[n].key) || pct_decode(a, v, true, &kvs[n].value)) {
            return ERR_INVALID;
        }
        n++;
    }
    *out = kvs;
    *nout = n;
    return ERR_OK;
}

/* Groups pieces by key, keys in order of first appearance, values in order. */
static void group_params(struct arena *a, const struct kv *kvs, size_t n, struct scope_generic *g)
{
    g->params = arena_zalloc(a, (n ? n : 1) * sizeof(*g->params));
    g->nparams = 0;
    size_t *slot = arena_alloc(a, (n ? n : 1) * sizeof(*slot));
    for (size_t i = 0; i < n; i++) {
        size_t p = 0;
        while (p < g->nparams && !bytes_eq(g->params[p].key, kvs[i].key)) {
            p++;
        }
        if (p == g->nparams) {
            g->params[g->nparams++].key = kvs[i].key;
        }
        g->params[p].nvalues++; /* counted first, filled below */
        slot[i] = p;
    }
    for (size_t p = 0; p < g->nparams; p++) {
        g->params[p].values = arena_alloc(a, g->params[p].nvalues * sizeof(struct bytes));
        g->params[p].nvalues = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct scope_param *p = &g->params[slot[i]];
        p->values[p->nvalues++] = kvs[i].value;
    }
}

enum err scope_generic_parse(struct arena *a, struct bytes text, struct scope_generic *out)
{
    memset(out, 0, sizeof(*out));
    if (text.len > SCOPE_ENTRY_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    /* Case-sensitive printable ASCII; a space would split the scope string anyway. */
    for (size_t i = 0; i < text.len; i++) {
        if (text.ptr[i] < '!' || text.ptr[i] > '~') {
            return ERR_INVALID;
        }
    }
    size_t q = find(text, 0, '?');
    size_t colon = find(text, 0, ':');
    size_t res_end = colon < q ? colon : q;
    if (res_end == 0) {
        return ERR_INVALID;
    }
    out->resource =
        (struct bytes){(const uint8_t *)arena_strndup(a, (const char *)text.ptr, res_end), res_end};
    /* The positional part runs from the first ':' to the first '?' and may itself hold
     * ':' and '#' ("service:did:web:com.example#type"). */
    if (colon < q) {
        out->has_positional = true;
        if (pct_decode(a, sub(text, colon + 1, q), false, &out->positional)) {
            return ERR_INVALID;
        }
    } else {
        out->positional = LIT("");
    }
    struct kv *kvs = NULL;
    size_t n = 0;
    if (q < text.len) {
        enum err e = split_query(a, sub(text, q + 1, text.len), &kvs, &n);
        if (e) {
            return e;
        }
    }
    group_params(a, kvs, n, out);
    return ERR_OK;
}

const struct scope_param *scope_generic_param(const struct scope_generic *g, struct bytes key)
{
    for (size_t i = 0; i < g->nparams; i++) {
        if (bytes_eq(g->params[i].key, key)) {
            return &g->params[i];
        }
    }
    return NULL;
}

/* ---- granular permissions ---- */

static bool is_star(struct bytes v)
{
    return bytes_eq(v, LIT("*"));
}

/* True when every key in g is one of allowed (unknown params void the scope). */
static bool only_keys(const struct scope_generic *g, const struct bytes *allowed, size_t n)
{
    for (size_t i = 0; i < g->nparams; i++) {
        bool ok = false;
        for (size_t k = 0; k < n && !ok; k++) {
            ok = bytes_eq(g->params[i].key, allowed[k]);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* The values of the parameter `key`, whose short form is the positional part when
 * positional is true. Giving both is an error; so is a single-valued param given twice.
 * *found is false when neither form is present. */
static enum err get_values(struct arena *a, const struct scope_generic *g, struct bytes key,
                           bool positional, bool multiple, struct scope_list *out, bool *found)
{
    const struct scope_param *p = scope_generic_param(g, key);
    memset(out, 0, sizeof(*out));
    *found = false;
    if (p) {
        if (positional && g->has_positional) {
            return ERR_INVALID;
        }
        if (!multiple && p->nvalues != 1) {
            return ERR_INVALID;
        }
        out->items = p->values;
        out->n = p->nvalues;
    } else if (positional && g->has_positional) {
        /* the list must outlive g (a caller's local): copy the view into the arena */
        out->items = arena_memdup(a, &g->positional, sizeof(g->positional));
        out->n = 1;
    } else {
        return ERR_OK;
    }
    *found = true;
    for (size_t i = 0; i < out->n; i++) {
        out->any_wildcard = out->any_wildcard || is_star(out->items[i]);
    }
    return ERR_OK;
}

static enum err get_required(struct arena *a, const struct scope_generic *g, struct bytes key,
                             bool positional, bool multiple, struct scope_list *out)
{
    bool found;
    enum err e = get_values(a, g, key, positional, multiple, out, &found);
    return e ? e : found ? ERR_OK : ERR_INVALID;
}

/* rpc/include audience: "<did:plc|did:web>#<service id>" (reference isAtprotoAudience). */
static bool audience_valid(struct bytes v)
{
    size_t hash = find(v, 0, '#');
    if (hash == v.len || hash + 1 == v.len) {
        return false;
    }
    for (size_t i = hash + 1; i < v.len; i++) {
        if (v.ptr[i] < '!' || v.ptr[i] > '~' || v.ptr[i] == '#') {
            return false;
        }
    }
    return syntax_did_is_atproto(sub(v, 0, hash));
}

/* RFC 6838 restricted-name characters. */
static bool mime_name_valid(struct bytes s)
{
    if (s.len == 0 || s.len > 127) {
        return false;
    }
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  strchr("!#$&^_.+-", c) != NULL;
        if (!ok || c == 0) {
            return false;
        }
    }
    return true;
}

/* blob accept: "*" "/" "*", "type/" "*", or "type/subtype"; "*" never stands for a type
 * alone ("*" "/png" and "*" "/" "**" are invalid). */
static bool accept_valid(struct bytes v)
{
    if (bytes_eq(v, LIT("*/*"))) {
        return true;
    }
    size_t slash = find(v, 0, '/');
    if (slash == v.len) {
        return false;
    }
    struct bytes type = sub(v, 0, slash), subtype = sub(v, slash + 1, v.len);
    return mime_name_valid(type) && (is_star(subtype) || mime_name_valid(subtype));
}

static bool nsid_or_star(struct bytes v)
{
    return is_star(v) || syntax_nsid_valid(v);
}

static bool all_items(const struct scope_list *l, bool (*pred)(struct bytes))
{
    for (size_t i = 0; i < l->n; i++) {
        if (!pred(l->items[i])) {
            return false;
        }
    }
    return true;
}

static enum err parse_account(struct arena *a, const struct scope_generic *g,
                              struct scope_account_perm *p)
{
    static const struct bytes keys[] = {LIT("attr"), LIT("action")};
    struct scope_list attr, action;
    bool found;
    if (!only_keys(g, keys, ARRAY_LEN(keys)) || get_required(a, g, keys[0], true, false, &attr) ||
        get_values(a, g, keys[1], false, false, &action, &found)) {
        return ERR_INVALID;
    }
    /* The reference TypeScript also knows "status"; the interop vectors refuse it. */
    if (bytes_eq(attr.items[0], LIT("email"))) {
        p->attr = SCOPE_ACCOUNT_EMAIL;
    } else if (bytes_eq(attr.items[0], LIT("repo"))) {
        p->attr = SCOPE_ACCOUNT_REPO;
    } else {
        return ERR_INVALID;
    }
    p->action = SCOPE_ACCOUNT_READ;
    if (found) {
        if (bytes_eq(action.items[0], LIT("manage"))) {
            p->action = SCOPE_ACCOUNT_MANAGE;
        } else if (!bytes_eq(action.items[0], LIT("read"))) {
            return ERR_INVALID;
        }
    }
    return ERR_OK;
}

static enum err parse_blob(struct arena *a, const struct scope_generic *g,
                           struct scope_blob_perm *p)
{
    static const struct bytes keys[] = {LIT("accept")};
    if (!only_keys(g, keys, ARRAY_LEN(keys)) ||
        get_required(a, g, keys[0], true, true, &p->accept) ||
        !all_items(&p->accept, accept_valid)) {
        return ERR_INVALID;
    }
    return ERR_OK;
}

static enum err parse_identity(struct arena *a, const struct scope_generic *g,
                               struct scope_identity_perm *p)
{
    static const struct bytes keys[] = {LIT("attr")};
    struct scope_list attr;
    if (!only_keys(g, keys, ARRAY_LEN(keys)) || get_required(a, g, keys[0], true, false, &attr)) {
        return ERR_INVALID;
    }
    if (bytes_eq(attr.items[0], LIT("handle"))) {
        p->attr = SCOPE_IDENTITY_HANDLE;
    } else if (is_star(attr.items[0])) {
        p->attr = SCOPE_IDENTITY_ALL;
    } else {
        return ERR_INVALID;
    }
    return ERR_OK;
}

static enum err parse_repo(struct arena *a, const struct scope_generic *g,
                           struct scope_repo_perm *p)
{
    static const struct bytes keys[] = {LIT("collection"), LIT("action")};
    struct scope_list action;
    bool found;
    if (!only_keys(g, keys, ARRAY_LEN(keys)) ||
        get_required(a, g, keys[0], true, true, &p->collection) ||
        !all_items(&p->collection, nsid_or_star) ||
        get_values(a, g, keys[1], false, true, &action, &found)) {
        return ERR_INVALID;
    }
    p->actions = found ? 0 : SCOPE_REPO_ALL;
    for (size_t i = 0; found && i < action.n; i++) {
        struct bytes v = action.items[i];
        if (bytes_eq(v, LIT("create"))) {
            p->actions |= SCOPE_REPO_CREATE;
        } else if (bytes_eq(v, LIT("update"))) {
            p->actions |= SCOPE_REPO_UPDATE;
        } else if (bytes_eq(v, LIT("delete"))) {
            p->actions |= SCOPE_REPO_DELETE;
        } else {
            return ERR_INVALID;
        }
    }
    return ERR_OK;
}

static enum err parse_rpc(struct arena *a, const struct scope_generic *g, struct scope_rpc_perm *p)
{
    static const struct bytes keys[] = {LIT("lxm"), LIT("aud")};
    struct scope_list aud;
    if (!only_keys(g, keys, ARRAY_LEN(keys)) || get_required(a, g, keys[0], true, true, &p->lxm) ||
        !all_items(&p->lxm, nsid_or_star) || get_required(a, g, keys[1], false, false, &aud)) {
        return ERR_INVALID;
    }
    p->aud = aud.items[0];
    if (!is_star(p->aud) && !audience_valid(p->aud)) {
        return ERR_INVALID;
    }
    /* spec(permission): rpc:*?aud=* would be an unbounded grant */
    if (aud.any_wildcard && p->lxm.any_wildcard) {
        return ERR_INVALID;
    }
    return ERR_OK;
}

static enum err parse_include(struct arena *a, const struct scope_generic *g,
                              struct scope_include_perm *p)
{
    static const struct bytes keys[] = {LIT("nsid"), LIT("aud")};
    struct scope_list nsid, aud;
    bool found;
    if (!only_keys(g, keys, ARRAY_LEN(keys)) || get_required(a, g, keys[0], true, false, &nsid) ||
        !syntax_nsid_valid(nsid.items[0]) ||
        get_values(a, g, keys[1], false, false, &aud, &found)) {
        return ERR_INVALID;
    }
    p->nsid = nsid.items[0];
    p->aud = found ? aud.items[0] : LIT("");
    if (found && !audience_valid(p->aud)) {
        return ERR_INVALID;
    }
    return ERR_OK;
}

enum err scope_perm_parse(struct arena *a, struct bytes text, struct scope_perm *out)
{
    memset(out, 0, sizeof(*out));
    static const struct {
        const char *text;
        enum scope_kind kind;
    } fixed[] = {
        {"atproto", SCOPE_ATPROTO},
        {"transition:generic", SCOPE_TRANSITION_GENERIC},
        {"transition:chat.bsky", SCOPE_TRANSITION_CHAT_BSKY},
        {"transition:email", SCOPE_TRANSITION_EMAIL},
    };
    for (size_t i = 0; i < ARRAY_LEN(fixed); i++) {
        if (bytes_eq(text, bytes_str(fixed[i].text))) {
            out->kind = fixed[i].kind;
            return ERR_OK;
        }
    }
    struct scope_generic g;
    enum err e = scope_generic_parse(a, text, &g);
    if (e) {
        return e;
    }
    if (bytes_eq(g.resource, LIT("account"))) {
        out->kind = SCOPE_ACCOUNT;
        e = parse_account(a, &g, &out->account);
    } else if (bytes_eq(g.resource, LIT("blob"))) {
        out->kind = SCOPE_BLOB;
        e = parse_blob(a, &g, &out->blob);
    } else if (bytes_eq(g.resource, LIT("identity"))) {
        out->kind = SCOPE_IDENTITY;
        e = parse_identity(a, &g, &out->identity);
    } else if (bytes_eq(g.resource, LIT("repo"))) {
        out->kind = SCOPE_REPO;
        e = parse_repo(a, &g, &out->repo);
    } else if (bytes_eq(g.resource, LIT("rpc"))) {
        out->kind = SCOPE_RPC;
        e = parse_rpc(a, &g, &out->rpc);
    } else if (bytes_eq(g.resource, LIT("include"))) {
        out->kind = SCOPE_INCLUDE;
        e = parse_include(a, &g, &out->include);
    } else {
        e = ERR_INVALID; /* unknown resource */
    }
    if (e) {
        memset(out, 0, sizeof(*out));
    }
    return e;
}

enum err scope_set_parse(struct arena *a, struct bytes text, struct scope_set *out)
{
    memset(out, 0, sizeof(*out));
    if (text.len > SCOPE_STRING_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    size_t max = 1;
    for (size_t i = 0; i < text.len; i++) {
        max += text.ptr[i] == ' ';
    }
    if (max > SCOPE_MAX_ENTRIES) {
        return ERR_TOO_LARGE;
    }
    out->perms = arena_zalloc(a, max * sizeof(*out->perms));
    size_t start = 0;
    while (start <= text.len) {
        size_t end = find(text, start, ' ');
        struct bytes v = sub(text, start, end);
        start = end + 1;
        if (v.len == 0) {
            continue;
        }
        struct scope_perm p;
        if (scope_perm_parse(a, v, &p) != ERR_OK) {
            out->nignored++; /* spec(permission): an invalid scope is ignored */
            continue;
        }
        switch (p.kind) {
        case SCOPE_ATPROTO:
            out->atproto = true;
            break;
        case SCOPE_TRANSITION_GENERIC:
            out->transition_generic = true;
            break;
        case SCOPE_TRANSITION_CHAT_BSKY:
            out->transition_chat_bsky = true;
            break;
        case SCOPE_TRANSITION_EMAIL:
            out->transition_email = true;
            break;
        default:
            out->perms[out->nperms++] = p;
        }
    }
    return ERR_OK;
}

/* ---- checks ---- */

static bool list_has(const struct scope_list *l, struct bytes v)
{
    if (l->any_wildcard) {
        return true;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (bytes_eq(l->items[i], v)) {
            return true;
        }
    }
    return false;
}

bool scope_allows_repo_write(const struct scope_set *s, struct bytes collection, unsigned actions)
{
    actions &= SCOPE_REPO_ALL;
    if (actions == 0) {
        return false;
    }
    if (s->transition_generic) {
        return true;
    }
    unsigned granted = 0;
    for (size_t i = 0; i < s->nperms; i++) {
        const struct scope_perm *p = &s->perms[i];
        if (p->kind == SCOPE_REPO && list_has(&p->repo.collection, collection)) {
            granted |= p->repo.actions;
        }
    }
    return (granted & actions) == actions;
}

static bool starts_with(struct bytes s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.ptr, lit, n) == 0;
}

bool scope_allows_rpc(const struct scope_set *s, struct bytes aud, struct bytes lxm)
{
    /* reference: transition:generic reaches every method except the chat service's */
    bool chat = starts_with(lxm, "chat.bsky.");
    if (s->transition_generic && !chat) {
        return true;
    }
    if (s->transition_chat_bsky && chat) {
        return true;
    }
    for (size_t i = 0; i < s->nperms; i++) {
        const struct scope_perm *p = &s->perms[i];
        if (p->kind == SCOPE_RPC && (is_star(p->rpc.aud) || bytes_eq(p->rpc.aud, aud)) &&
            list_has(&p->rpc.lxm, lxm)) {
            return true;
        }
    }
    return false;
}

static bool eq_nocase(struct bytes a, struct bytes b)
{
    if (a.len != b.len) {
        return false;
    }
    for (size_t i = 0; i < a.len; i++) {
        uint8_t x = a.ptr[i], y = b.ptr[i];
        x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
        y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
        if (x != y) {
            return false;
        }
    }
    return true;
}

static bool accept_matches(struct bytes accept, struct bytes type, struct bytes subtype)
{
    if (bytes_eq(accept, LIT("*/*"))) {
        return true;
    }
    size_t slash = find(accept, 0, '/');
    if (!eq_nocase(sub(accept, 0, slash), type)) {
        return false;
    }
    struct bytes asub = slash < accept.len ? sub(accept, slash + 1, accept.len) : LIT("");
    return is_star(asub) || eq_nocase(asub, subtype);
}

bool scope_allows_blob(const struct scope_set *s, struct bytes mime)
{
    if (s->transition_generic) {
        return true; /* reference ScopePermissionsTransition: every upload, whatever its type */
    }
    /* Content-Type parameters (";charset=...") do not take part */
    size_t semi = find(mime, 0, ';');
    while (semi > 0 && mime.ptr[semi - 1] == ' ') {
        semi--;
    }
    mime = sub(mime, 0, semi);
    size_t slash = find(mime, 0, '/');
    if (slash == mime.len) {
        return false;
    }
    struct bytes type = sub(mime, 0, slash), subtype = sub(mime, slash + 1, mime.len);
    if (!mime_name_valid(type) || !mime_name_valid(subtype)) {
        return false; /* also refuses a '*' or a second '/' in the request's type */
    }
    for (size_t i = 0; i < s->nperms; i++) {
        const struct scope_perm *p = &s->perms[i];
        if (p->kind != SCOPE_BLOB) {
            continue;
        }
        for (size_t k = 0; k < p->blob.accept.n; k++) {
            if (accept_matches(p->blob.accept.items[k], type, subtype)) {
                return true;
            }
        }
    }
    return false;
}

bool scope_allows_account(const struct scope_set *s, enum scope_account_attr attr,
                          enum scope_account_action action)
{
    if (s->transition_email && attr == SCOPE_ACCOUNT_EMAIL && action == SCOPE_ACCOUNT_READ) {
        return true;
    }
    for (size_t i = 0; i < s->nperms; i++) {
        const struct scope_perm *p = &s->perms[i];
        if (p->kind == SCOPE_ACCOUNT && p->account.attr == attr &&
            (p->account.action == SCOPE_ACCOUNT_MANAGE || action == SCOPE_ACCOUNT_READ)) {
            return true;
        }
    }
    return false;
}

bool scope_allows_identity(const struct scope_set *s, enum scope_identity_attr attr)
{
    for (size_t i = 0; i < s->nperms; i++) {
        const struct scope_perm *p = &s->perms[i];
        if (p->kind == SCOPE_IDENTITY &&
            (p->identity.attr == SCOPE_IDENTITY_ALL || p->identity.attr == attr)) {
            return true;
        }
    }
    return false;
}
