/* car.h - CAR v1 files (content-addressed archives): a streaming writer and a streaming,
 * hostile-input-safe reader. Pure: no I/O of its own (sinks and callbacks do it); one
 * writer or reader belongs to one thread at a time.
 *
 * spec(repository): varint(len H) ‖ H, H = DAG-CBOR {"roots":[link,…],"version":1};
 * then per block varint(len CID + len data) ‖ binary CID (no 0x00 prefix) ‖ data. */
#ifndef PDS_REPO_CAR_H
#define PDS_REPO_CAR_H

#include "core/bytes.h"
#include "core/cid.h"

#define CAR_VERSION 1
/* Largest block data we read or write. Records are at most 1 MiB and MST nodes and commits
 * a few KiB, so 2 MiB leaves headroom without letting one section pin much memory. */
#define CAR_BLOCK_MAX_BYTES ((size_t)2 << 20)
/* Largest header. A root link costs 41 bytes, so 64 KiB holds ~1,500 roots; atproto uses
 * one (the commit). */
#define CAR_HEADER_MAX_BYTES ((size_t)64 << 10)
/* Largest section (varint length excluded): a CID plus the largest block. */
#define CAR_SECTION_MAX_BYTES (CAR_BLOCK_MAX_BYTES + CID_BYTES_MAX)

/* Where a writer's bytes go. Returning non-ERR_OK stops the writer with that error. */
typedef enum err (*car_sink_fn)(void *ctx, const uint8_t *p, size_t n);

/* A sink that appends to the struct buf given as ctx (its max applies: ERR_TOO_LARGE). */
enum err car_sink_buf(void *ctx, const uint8_t *p, size_t n) MUST_CHECK;

struct car_writer {
    car_sink_fn _sink;
    void *_ctx;
    enum err _err;   /* sticky: the first failure, returned by every later call */
    uint64_t bytes;  /* bytes handed to the sink so far */
    uint64_t blocks; /* blocks written so far */
};

/* Starts a CAR: writes the header with roots (nroots may be 0) through sink. The writer
 * holds no memory; there is nothing to clear. ERR_TOO_LARGE past CAR_HEADER_MAX_BYTES,
 * or the sink's error. */
enum err car_writer_begin(struct car_writer *w, car_sink_fn sink, void *ctx,
                          const struct cid *roots, size_t nroots) MUST_CHECK;
/* Writes one block section. Does not check that cid matches data (callers compute it).
 * ERR_TOO_LARGE past CAR_BLOCK_MAX_BYTES, or the sink's (sticky) error. */
/* A writer for sections only, into a sink that already holds the header (a CAR written
 * in several sittings, such as a streamed export). */
void car_writer_continue(struct car_writer *w, car_sink_fn sink, void *ctx);
enum err car_writer_block(struct car_writer *w, const struct cid *cid,
                          struct bytes data) MUST_CHECK;

/* Reader callbacks. Views (roots, cid, data) are valid only during the call. Returning
 * non-ERR_OK stops the reader; car_reader_feed returns that error. */
typedef enum err (*car_header_fn)(void *ctx, const struct cid *roots, size_t nroots);
typedef enum err (*car_block_fn)(void *ctx, const struct cid *cid, struct bytes data);

enum car_flags {
    CAR_VERIFY = 1u << 0, /* recompute each block's sha2-256 CID; mismatch is ERR_INVALID,
                             a hash other than sha2-256 is ERR_UNSUPPORTED */
};

/* An incremental reader. Feed it chunks of any size; it calls on_header once with the
 * roots and then on_block for each complete section, in file order. It buffers at most one
 * section (≤ CAR_SECTION_MAX_BYTES + a varint), however large the file.
 * Refuses (ERR_INVALID): a header length of 0, a header that is not strict DAG-CBOR or
 * not exactly {"roots":[links…],"version":1}, a section too short for its CID, a CID that
 * does not parse, a non-minimal varint. ERR_TOO_LARGE: a header or section past the
 * limits above. After any error the reader stays failed and returns that error. */
struct car_reader {
    unsigned flags;
    car_header_fn _on_header; /* may be NULL */
    car_block_fn _on_block;   /* may be NULL */
    void *_ctx;
    struct buf _pending; /* bytes of the incomplete section at the end of the last chunk */
    enum err _err;
    bool _have_header;
    uint64_t bytes;  /* bytes consumed so far */
    uint64_t blocks; /* blocks delivered so far */
};

void car_reader_init(struct car_reader *r, unsigned flags, car_header_fn on_header,
                     car_block_fn on_block, void *ctx);
/* Frees the reader's buffer; safe on a cleared reader. */
void car_reader_clear(struct car_reader *r);
/* Consumes chunk (which need not outlive the call). */
enum err car_reader_feed(struct car_reader *r, struct bytes chunk) MUST_CHECK;
/* Says the input ended: ERR_TRUNCATED if the header never came or a section is
 * incomplete; otherwise ERR_OK (or the earlier error). */
enum err car_reader_finish(struct car_reader *r) MUST_CHECK;

/* Reads a whole CAR held in memory: init, feed, finish, clear. */
enum err car_read_all(struct bytes car, unsigned flags, car_header_fn on_header,
                      car_block_fn on_block, void *ctx) MUST_CHECK;

#endif
