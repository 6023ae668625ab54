/* events.c - #identity, #account and #sync bodies, keys in DAG-CBOR order. */
#include "repo/events.h"

#include "core/dagcbor.h"
#include "repo/car.h"
#include "repo/writes.h"

enum err events_identity(const char *did, const char *handle, int64_t now_ms, struct buf *out)
{
    char when[32];
    repo_format_time(now_ms, when);
    enum err e;
    if ((e = dagcbor_put_map(out, handle ? 3 : 2)) || (e = dagcbor_put_cstr(out, "did")) ||
        (e = dagcbor_put_cstr(out, did)) || (e = dagcbor_put_cstr(out, "time")) ||
        (e = dagcbor_put_cstr(out, when))) {
        return e;
    }
    if (handle && ((e = dagcbor_put_cstr(out, "handle")) || (e = dagcbor_put_cstr(out, handle)))) {
        return e;
    }
    return ERR_OK;
}

enum err events_account(const char *did, bool active, const char *status, int64_t now_ms,
                        struct buf *out)
{
    char when[32];
    repo_format_time(now_ms, when);
    enum err e;
    if ((e = dagcbor_put_map(out, status ? 4 : 3)) || (e = dagcbor_put_cstr(out, "did")) ||
        (e = dagcbor_put_cstr(out, did)) || (e = dagcbor_put_cstr(out, "time")) ||
        (e = dagcbor_put_cstr(out, when)) || (e = dagcbor_put_cstr(out, "active")) ||
        (e = dagcbor_put_bool(out, active))) {
        return e;
    }
    if (status && ((e = dagcbor_put_cstr(out, "status")) || (e = dagcbor_put_cstr(out, status)))) {
        return e;
    }
    return ERR_OK;
}

enum err events_sync(const char *did, const char *rev, const struct cid *commit,
                     struct bytes commit_block, int64_t now_ms, struct buf *out)
{
    char when[32];
    repo_format_time(now_ms, when);
    struct buf car;
    buf_init(&car, BUF_MAX_DEFAULT);
    struct car_writer w;
    enum err e = car_writer_begin(&w, car_sink_buf, &car, commit, 1);
    if (!e) {
        e = car_writer_block(&w, commit, commit_block);
    }
    if (!e && !(e = dagcbor_put_map(out, 4)) && !(e = dagcbor_put_cstr(out, "did")) &&
        !(e = dagcbor_put_cstr(out, did)) && !(e = dagcbor_put_cstr(out, "rev")) &&
        !(e = dagcbor_put_cstr(out, rev)) && !(e = dagcbor_put_cstr(out, "time")) &&
        !(e = dagcbor_put_cstr(out, when)) && !(e = dagcbor_put_cstr(out, "blocks"))) {
        e = dagcbor_put_bytes(out, buf_bytes(&car));
    }
    buf_clear(&car);
    return e;
}
