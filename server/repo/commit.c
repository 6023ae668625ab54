/* commit.c - repository commit objects. */
#include "repo/commit.h"

#include "core/dagcbor.h"
#include "core/syntax.h"

static enum err encode(const struct commit *c, bool with_sig, struct buf *out)
{
    enum err e;
    /* spec(data-model): keys by length then bytes: did, rev, sig, data, prev, version */
    if ((e = dagcbor_put_map(out, with_sig ? 6 : 5)) || (e = dagcbor_put_cstr(out, "did")) ||
        (e = dagcbor_put_text(out, c->did)) || (e = dagcbor_put_cstr(out, "rev")) ||
        (e = dagcbor_put_text(out, c->rev))) {
        return e;
    }
    if (with_sig && ((e = dagcbor_put_cstr(out, "sig")) ||
                     (e = dagcbor_put_bytes(out, bytes_of(c->sig, sizeof(c->sig)))))) {
        return e;
    }
    if ((e = dagcbor_put_cstr(out, "data")) || (e = dagcbor_put_link(out, &c->data)) ||
        (e = dagcbor_put_cstr(out, "prev"))) {
        return e;
    }
    e = c->has_prev ? dagcbor_put_link(out, &c->prev) : dagcbor_put_null(out);
    if (e || (e = dagcbor_put_cstr(out, "version"))) {
        return e;
    }
    return dagcbor_put_int(out, c->version);
}

enum err commit_encode_unsigned(const struct commit *c, struct buf *out)
{
    return encode(c, false, out);
}

enum err commit_encode(const struct commit *c, struct buf *out)
{
    return c->has_sig ? encode(c, true, out) : ERR_INVALID;
}

enum err commit_sign(struct commit *c, const struct sigkey *key)
{
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    enum err e = commit_encode_unsigned(c, &b);
    if (!e) {
        e = sigkey_sign(key, buf_bytes(&b), c->sig);
    }
    buf_clear(&b);
    c->has_sig = e == ERR_OK;
    return e;
}

enum err commit_create(struct bytes did, const struct cid *data, struct bytes rev,
                       const struct sigkey *key, struct buf *block, struct cid *cid)
{
    struct commit c = {.did = did, .version = COMMIT_VERSION, .data = *data, .rev = rev};
    enum err e = commit_sign(&c, key);
    if (e) {
        return e;
    }
    size_t start = block->len;
    if ((e = commit_encode(&c, block))) {
        return e;
    }
    cid_compute(CID_CODEC_DAGCBOR, bytes_of(block->ptr + start, block->len - start), cid);
    return ERR_OK;
}

enum err commit_decode(struct bytes block, struct arena *a, struct commit *out)
{
    struct dm_value *v;
    enum err e = dagcbor_decode(block, a, &v);
    if (e) {
        return e == ERR_TRUNCATED ? ERR_INVALID : e;
    }
    struct dm_value *did = dm_map_get(v, "did"), *rev = dm_map_get(v, "rev");
    struct dm_value *data = dm_map_get(v, "data"), *prev = dm_map_get(v, "prev");
    struct dm_value *version = dm_map_get(v, "version"), *sig = dm_map_get(v, "sig");
    if (v->kind != DM_MAP || !did || did->kind != DM_STRING || !rev || rev->kind != DM_STRING ||
        !data || data->kind != DM_LINK || !version || version->kind != DM_INT ||
        version->u.integer != COMMIT_VERSION || !sig || sig->kind != DM_BYTES ||
        sig->u.str.len != SIGKEY_SIG_BYTES || !prev ||
        (prev->kind != DM_NULL && prev->kind != DM_LINK)) {
        return ERR_INVALID;
    }
    if (!syntax_did_valid(did->u.str) || !syntax_tid_valid(rev->u.str)) {
        return ERR_INVALID;
    }
    memset(out, 0, sizeof(*out));
    out->did = did->u.str;
    out->rev = rev->u.str;
    out->data = data->u.link;
    out->version = version->u.integer;
    out->has_prev = prev->kind == DM_LINK;
    if (out->has_prev) {
        out->prev = prev->u.link;
    }
    out->has_sig = true;
    memcpy(out->sig, sig->u.str.ptr, SIGKEY_SIG_BYTES);
    return ERR_OK;
}

bool commit_verify(const struct commit *c, const struct sigkey *key)
{
    if (!c->has_sig) {
        return false;
    }
    struct buf b;
    buf_init(&b, BUF_MAX_DEFAULT);
    bool ok = commit_encode_unsigned(c, &b) == ERR_OK &&
              sigkey_verify(key, buf_bytes(&b), bytes_of(c->sig, sizeof(c->sig)));
    buf_clear(&b);
    return ok;
}
