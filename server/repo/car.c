/* car.c - CAR v1: a streaming writer through a sink, and an incremental reader that
 * buffers at most one section and refuses anything outside the format or our limits. */
#include "repo/car.h"

#include <stdlib.h>

#include "core/arena.h"
#include "core/dagcbor.h"
#include "core/varint.h"

/* ---- writer ---- */

enum err car_sink_buf(void *ctx, const uint8_t *p, size_t n)
{
    return buf_append((struct buf *)ctx, p, n);
}

static enum err writer_emit(struct car_writer *w, const uint8_t *p, size_t n)
{
    if (w->_err) {
        return w->_err;
    }
    enum err e = w->_sink(w->_ctx, p, n);
    if (e) {
        w->_err = e;
        return e;
    }
    w->bytes += n;
    return ERR_OK;
}

/* spec(repository): header keys in DAG-CBOR order, "roots" (5 bytes) before "version" (7). */
static enum err header_encode(const struct cid *roots, size_t nroots, struct buf *out)
{
    enum err e;
    if ((e = dagcbor_put_map(out, 2)) || (e = dagcbor_put_cstr(out, "roots")) ||
        (e = dagcbor_put_array(out, nroots))) {
        return e;
    }
    for (size_t i = 0; i < nroots; i++) {
        if ((e = dagcbor_put_link(out, &roots[i]))) {
            return e;
        }
    }
    if ((e = dagcbor_put_cstr(out, "version")) || (e = dagcbor_put_uint(out, CAR_VERSION))) {
        return e;
    }
    return ERR_OK;
}

enum err car_writer_begin(struct car_writer *w, car_sink_fn sink, void *ctx,
                          const struct cid *roots, size_t nroots)
{
    *w = (struct car_writer){._sink = sink, ._ctx = ctx};
    struct buf h;
    buf_init(&h, CAR_HEADER_MAX_BYTES);
    enum err e = header_encode(roots, nroots, &h);
    if (!e) {
        uint8_t prefix[VARINT_MAX_BYTES];
        size_t n = varint_write(h.len, prefix);
        e = writer_emit(w, prefix, n);
        if (!e) {
            e = writer_emit(w, h.ptr, h.len);
        }
    }
    buf_clear(&h);
    w->_err = e;
    return e;
}

void car_writer_continue(struct car_writer *w, car_sink_fn sink, void *ctx)
{
    *w = (struct car_writer){._sink = sink, ._ctx = ctx};
}

enum err car_writer_block(struct car_writer *w, const struct cid *cid, struct bytes data)
{
    if (w->_err) {
        return w->_err;
    }
    if (data.len > CAR_BLOCK_MAX_BYTES) {
        return ERR_TOO_LARGE; /* our reader would refuse it; not sticky: the CAR is intact */
    }
    /* varint(len) and the CID in one small write, then the data without a copy */
    uint8_t head[VARINT_MAX_BYTES + CID_BYTES_MAX];
    size_t n = varint_write((uint64_t)cid->len + data.len, head);
    memcpy(head + n, cid->bytes, cid->len);
    n += cid->len;
    enum err e = writer_emit(w, head, n);
    if (!e && data.len > 0) {
        e = writer_emit(w, data.ptr, data.len);
    }
    if (!e) {
        w->blocks++;
    }
    return e;
}

/* ---- reader ---- */

void car_reader_init(struct car_reader *r, unsigned flags, car_header_fn on_header,
                     car_block_fn on_block, void *ctx)
{
    *r = (struct car_reader){
        .flags = flags, ._on_header = on_header, ._on_block = on_block, ._ctx = ctx};
    /* one whole section plus its length varint, never more */
    buf_init(&r->_pending, CAR_SECTION_MAX_BYTES + VARINT_MAX_BYTES);
}

void car_reader_clear(struct car_reader *r)
{
    buf_clear(&r->_pending);
}

/* Reads a section length at *in and checks it against the limits before any byte of the
 * section is buffered. ERR_TRUNCATED when the varint itself is incomplete. */
static enum err section_len(const struct car_reader *r, struct bytes *in, uint64_t *len)
{
    enum err e = varint_read(in, len);
    if (e) {
        return e;
    }
    if (*len == 0) {
        return ERR_INVALID; /* spec(repository): a zero-length header or section is an error */
    }
    uint64_t max = r->_have_header ? CAR_SECTION_MAX_BYTES : CAR_HEADER_MAX_BYTES;
    return *len > max ? ERR_TOO_LARGE : ERR_OK;
}

/* The header must be exactly {"roots":[link…],"version":1}: CARv2's pragma
 * ({"version":2}) and unknown keys are refused rather than guessed at. */
static enum err read_header(struct car_reader *r, struct bytes sec)
{
    struct arena a;
    arena_init(&a);
    struct dm_value *v = NULL;
    struct cid *roots = NULL;
    enum err e = dagcbor_decode(sec, &a, &v);
    if (e == ERR_TRUNCATED) {
        e = ERR_INVALID; /* the section is complete, so the value inside it is not */
    }
    if (e) {
        goto out;
    }
    const struct dm_value *rv = dm_map_get(v, "roots");
    const struct dm_value *ver = dm_map_get(v, "version");
    if (v->kind != DM_MAP || v->u.map.len != 2 || !rv || rv->kind != DM_ARRAY || !ver ||
        ver->kind != DM_INT || ver->u.integer != CAR_VERSION) {
        e = ERR_INVALID;
        goto out;
    }
    size_t n = rv->u.array.len; /* bounded by CAR_HEADER_MAX_BYTES */
    roots = xmalloc((n ? n : 1) * sizeof(*roots));
    for (size_t i = 0; i < n; i++) {
        if (rv->u.array.items[i]->kind != DM_LINK) {
            e = ERR_INVALID;
            goto out;
        }
        roots[i] = rv->u.array.items[i]->u.link;
    }
    r->_have_header = true;
    if (r->_on_header) {
        e = r->_on_header(r->_ctx, roots, n);
    }
out:
    free(roots);
    arena_clear(&a);
    return e;
}

/* Checks data against a sha2-256 CID of the CID's own codec. */
static enum err verify_block(const struct cid *cid, struct bytes data)
{
    struct bytes cur = cid_bytes(cid);
    uint64_t version, codec, mh;
    if (varint_read(&cur, &version) || varint_read(&cur, &codec) || varint_read(&cur, &mh)) {
        return ERR_INVALID; /* cannot happen: cid_read accepted these bytes */
    }
    if (mh != CID_MH_SHA256) {
        return ERR_UNSUPPORTED;
    }
    struct cid want;
    cid_compute(codec, data, &want);
    return cid_equal(&want, cid) ? ERR_OK : ERR_INVALID;
}

static enum err read_block(struct car_reader *r, struct bytes sec)
{
    struct cid cid;
    enum err e = cid_read(&sec, &cid);
    if (e == ERR_TRUNCATED) {
        return ERR_INVALID; /* the section is shorter than its CID */
    }
    if (e) {
        return e;
    }
    if (sec.len > CAR_BLOCK_MAX_BYTES) {
        return ERR_TOO_LARGE;
    }
    if ((r->flags & CAR_VERIFY) && (e = verify_block(&cid, sec))) {
        return e;
    }
    r->blocks++;
    return r->_on_block ? r->_on_block(r->_ctx, &cid, sec) : ERR_OK;
}

static enum err read_section(struct car_reader *r, struct bytes sec)
{
    return r->_have_header ? read_block(r, sec) : read_header(r, sec);
}

static struct bytes advance(struct bytes in, size_t n)
{
    return (struct bytes){in.ptr + n, in.len - n};
}

/* Completes the section begun in _pending from the front of *in. Only as many bytes as
 * the section needs are copied; a varint split across chunks is completed byte by byte,
 * and checked after every byte so a bad length fails as soon as it would if read whole. */
static enum err complete_pending(struct car_reader *r, struct bytes *in)
{
    while (r->_pending.len > 0) {
        struct bytes p = buf_bytes(&r->_pending);
        uint64_t len;
        enum err e = section_len(r, &p, &len);
        if (e == ERR_TRUNCATED) {
            if (in->len == 0) {
                return ERR_OK;
            }
            if ((e = buf_append(&r->_pending, in->ptr, 1))) {
                return e;
            }
            *in = advance(*in, 1);
            continue;
        }
        if (e) {
            return e;
        }
        size_t head = r->_pending.len - p.len;
        size_t total = head + (size_t)len; /* ≤ the buffer's max: checked by section_len */
        size_t take = total - r->_pending.len;
        if (take > in->len) {
            take = in->len;
        }
        if ((e = buf_append(&r->_pending, in->ptr, take))) {
            return e;
        }
        *in = advance(*in, take);
        if (r->_pending.len < total) {
            return ERR_OK; /* the chunk is used up */
        }
        e = read_section(r, (struct bytes){r->_pending.ptr + head, (size_t)len});
        buf_reset(&r->_pending);
        if (e) {
            return e;
        }
    }
    return ERR_OK;
}

static enum err feed(struct car_reader *r, struct bytes in)
{
    enum err e = complete_pending(r, &in);
    if (e) {
        return e;
    }
    /* whole sections straight from the chunk, without copying */
    while (in.len > 0) {
        struct bytes p = in;
        uint64_t len;
        e = section_len(r, &p, &len);
        if (e == ERR_TRUNCATED || (!e && p.len < len)) {
            return buf_append(&r->_pending, in.ptr, in.len); /* bounded: see section_len */
        }
        if (e) {
            return e;
        }
        if ((e = read_section(r, (struct bytes){p.ptr, (size_t)len}))) {
            return e;
        }
        in = advance(p, (size_t)len);
    }
    return ERR_OK;
}

enum err car_reader_feed(struct car_reader *r, struct bytes chunk)
{
    if (r->_err) {
        return r->_err;
    }
    if (chunk.len == 0) {
        return ERR_OK; /* nothing to do, and chunk.ptr may be NULL */
    }
    r->bytes += chunk.len;
    enum err e = feed(r, chunk);
    if (e) {
        r->_err = e;
        buf_clear(&r->_pending); /* a failed reader holds no memory */
    }
    return e;
}

enum err car_reader_finish(struct car_reader *r)
{
    if (r->_err) {
        return r->_err;
    }
    if (!r->_have_header || r->_pending.len > 0) {
        r->_err = ERR_TRUNCATED;
    }
    return r->_err;
}

enum err car_read_all(struct bytes car, unsigned flags, car_header_fn on_header,
                      car_block_fn on_block, void *ctx)
{
    struct car_reader r;
    car_reader_init(&r, flags, on_header, on_block, ctx);
    enum err e = car_reader_feed(&r, car);
    if (!e) {
        e = car_reader_finish(&r);
    }
    car_reader_clear(&r);
    return e;
}
