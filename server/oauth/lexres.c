/* lexres.c - resolving a Lexicon from the network and checking its proof. */
#include "oauth/lexres.h"

#include <stdio.h>
#include <string.h>

#include "blob/httppull.h"
#include "core/arena.h"
#include "core/dagcbor.h"
#include "core/ipldjson.h"
#include "core/lexicon.h"
#include "identity/resolver.h"
#include "repo/blockmap.h"
#include "repo/car.h"
#include "repo/commit.h"
#include "repo/mst.h"

static enum err fail(char *why, size_t why_len, enum err e, const char *msg)
{
    if (why) {
        snprintf(why, why_len, "%s", msg);
    }
    return e;
}

enum err lexres_dns_name(const char *nsid, char *out, size_t out_len)
{
    if (!syntax_nsid_valid(bytes_str(nsid))) {
        return ERR_INVALID;
    }
    /* the authority is every segment before the name, read right to left */
    size_t w = (size_t)snprintf(out, out_len, "%s", LEXRES_DNS_PREFIX);
    const char *end = strrchr(nsid, '.');
    bool first = true;
    while (end) {
        const char *start = end;
        while (start > nsid && start[-1] != '.') {
            start--;
        }
        int n = snprintf(out + w, w < out_len ? out_len - w : 0, "%s%.*s", first ? "" : ".",
                         (int)(end - start), start);
        w += (size_t)n;
        if (w >= out_len) {
            return ERR_INVALID;
        }
        first = false;
        end = start > nsid ? start - 1 : NULL;
    }
    /* NSID authorities are case-insensitive; DNS names are written lower-case */
    for (char *p = out; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p + 32);
        }
    }
    return ERR_OK;
}

static void url_escape(struct buf *b, const char *s, enum err *e)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p && !*e; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~:", *p)) {
            *e = buf_append_byte(b, *p);
        } else {
            char pct[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            *e = buf_append(b, pct, 3);
        }
    }
}

/* GET the record proof. ERR_NOT_FOUND when the PDS says there is no such record. */
static enum err fetch_proof(const struct lexres_config *c, const char *pds, const char *did,
                            const char *nsid, struct buf *car, char *why, size_t why_len)
{
    struct buf url;
    buf_init(&url, 8192);
    enum err e = buf_appendf(&url, "%s/xrpc/com.atproto.sync.getRecord?did=", pds);
    url_escape(&url, did, &e);
    if (!e) {
        e = buf_append_str(&url, "&collection=" LEXRES_SCHEMA_COLLECTION "&rkey=");
    }
    url_escape(&url, nsid, &e);
    if (e) {
        buf_clear(&url);
        return fail(why, why_len, ERR_INVALID, "PDS URL too long");
    }
    struct httppull_opts o = {
        .method = "GET",
        .url = (const char *)url.ptr,
        .body_fd = -1,
        .headers_timeout_ms = LEXRES_TIMEOUT_MS,
        .body_timeout_ms = LEXRES_TIMEOUT_MS,
        .max_body_bytes = LEXRES_PROOF_MAX_BYTES,
        .ssrf_protect = c->ssrf_protect,
    };
    struct httppull *p = NULL;
    bool timed_out = false;
    char reason[256] = "";
    e = httppull_start(&o, &p, &timed_out, reason, sizeof reason);
    buf_clear(&url);
    if (e) {
        return fail(why, why_len, ERR_UPSTREAM, "could not reach the Lexicon's PDS");
    }
    long status = httppull_status(p);
    buf_reset(car);
    e = httppull_read_all(p, car);
    httppull_free(p);
    if (e) {
        return fail(why, why_len, e == ERR_TOO_LARGE ? ERR_INVALID : ERR_UPSTREAM,
                    "could not read the Lexicon's record proof");
    }
    if (status == 400 || status == 404) {
        return fail(why, why_len, ERR_NOT_FOUND, "no Lexicon schema record for this NSID");
    }
    if (status != 200) {
        return fail(why, why_len, ERR_UPSTREAM, "the Lexicon's PDS failed");
    }
    return ERR_OK;
}

struct proof {
    struct blockmap blocks;
    struct cid root;
    bool has_root;
};

static enum err on_header(void *ctx, const struct cid *roots, size_t n)
{
    struct proof *pf = ctx;
    if (n < 1) {
        return ERR_INVALID;
    }
    pf->root = roots[0];
    pf->has_root = true;
    return ERR_OK;
}

static enum err on_block(void *ctx, const struct cid *cid, struct bytes data)
{
    blockmap_put(&((struct proof *)ctx)->blocks, cid, data);
    return ERR_OK;
}

/* The record's JSON from a verified proof: commit by did signed by key, MST path to
 * collection/nsid. */
static enum err verify_proof(struct bytes car, const char *did, const struct did_doc *doc,
                             const char *nsid, struct arena *a, struct cid *record_cid,
                             json_t **record, char *why, size_t why_len)
{
    struct proof pf;
    memset(&pf, 0, sizeof pf);
    blockmap_init(&pf.blocks);
    enum err e = car_read_all(car, CAR_VERIFY, on_header, on_block, &pf);
    const struct blockmap_entry *root =
        e || !pf.has_root ? NULL : blockmap_get(&pf.blocks, &pf.root);
    struct commit cm;
    if (!root || commit_decode(bytes_of(root->data, root->len), a, &cm) != ERR_OK) {
        blockmap_clear(&pf.blocks);
        return fail(why, why_len, ERR_INVALID, "malformed record proof");
    }
    if (!bytes_eq(cm.did, bytes_str(did)) || !doc->has_signing_key ||
        !commit_verify(&cm, &doc->signing_key)) {
        blockmap_clear(&pf.blocks);
        return fail(why, why_len, ERR_INVALID,
                    "the record proof's commit is not signed by its DID");
    }
    char key[sizeof LEXRES_SCHEMA_COLLECTION + SYNTAX_NSID_MAX_LEN + 2];
    snprintf(key, sizeof key, "%s/%s", LEXRES_SCHEMA_COLLECTION, nsid);
    struct mst *t = mst_load(blockmap_source(&pf.blocks), &cm.data);
    e = t ? mst_get(t, bytes_str(key), record_cid) : ERR_MISSING;
    mst_free(t);
    const struct blockmap_entry *rec = e ? NULL : blockmap_get(&pf.blocks, record_cid);
    struct dm_value *v = NULL;
    if (!rec || dagcbor_decode(bytes_of(rec->data, rec->len), a, &v) != ERR_OK) {
        blockmap_clear(&pf.blocks);
        return fail(why, why_len, e == ERR_NOT_FOUND ? ERR_NOT_FOUND : ERR_INVALID,
                    e == ERR_NOT_FOUND ? "the record proof shows no Lexicon record"
                                       : "the record proof is incomplete");
    }
    *record = ipldjson_to_json(v);
    blockmap_clear(&pf.blocks);
    return *record ? ERR_OK : fail(why, why_len, ERR_INVALID, "unreadable Lexicon record");
}

/* The record must be a Lexicon document (lexicon: 1, a valid schema) with id == nsid. */
static enum err check_document(const json_t *rec, const char *nsid, char *why, size_t why_len)
{
    const json_t *version = json_object_get(rec, "lexicon");
    const json_t *id = json_object_get(rec, "id");
    if (!json_is_integer(version) || json_integer_value(version) != 1 || !json_is_string(id)) {
        return fail(why, why_len, ERR_NOT_FOUND, "the record is not a Lexicon document");
    }
    if (strcmp(json_string_value(id), nsid) != 0) {
        return fail(why, why_len, ERR_NOT_FOUND,
                    "the Lexicon document's id does not match the NSID");
    }
    char msg[LEXICON_MSG_MAX];
    if (lexicon_check(rec, msg) != ERR_OK) {
        return fail(why, why_len, ERR_NOT_FOUND, "the record is not a valid Lexicon document");
    }
    return ERR_OK;
}

enum err lexres_resolve(const struct lexres_config *c, const char *nsid, struct lexres_result *out,
                        char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    char did[RESOLVER_DID_MAX];
    char dns[SYNTAX_NSID_MAX_LEN + sizeof LEXRES_DNS_PREFIX];
    if (lexres_dns_name(nsid, dns, sizeof dns) != ERR_OK) {
        return fail(why, why_len, ERR_INVALID, "not a valid NSID");
    }
    if (c->authority_did) {
        snprintf(did, sizeof did, "%s", c->authority_did);
    } else {
        enum err e = resolver_txt_did(c->resolver, dns, did);
        if (e) {
            return fail(why, why_len, e == ERR_UPSTREAM ? ERR_UPSTREAM : ERR_NOT_FOUND,
                        "could not resolve a DID authority for the NSID");
        }
    }
    struct did_doc doc;
    enum err e = resolver_resolve_atproto(c->resolver, did, false, &doc);
    if (e || !doc.pds_endpoint) {
        if (!e) {
            did_doc_clear(&doc);
        }
        return fail(why, why_len, e == ERR_UPSTREAM ? ERR_UPSTREAM : ERR_NOT_FOUND,
                    "could not resolve the Lexicon authority's DID document");
    }
    struct buf car;
    buf_init(&car, LEXRES_PROOF_MAX_BYTES);
    struct arena a;
    arena_init(&a);
    struct cid rcid;
    json_t *rec = NULL;
    e = fetch_proof(c, doc.pds_endpoint, did, nsid, &car, why, why_len);
    if (!e) {
        e = verify_proof(bytes_of(car.ptr, car.len), did, &doc, nsid, &a, &rcid, &rec, why,
                         why_len);
    }
    if (e == ERR_INVALID && rec == NULL) {
        /* the key may have rotated since the document was cached: once more, fresh */
        struct did_doc fresh;
        if (resolver_resolve_atproto(c->resolver, did, true, &fresh) == ERR_OK) {
            if (fresh.pds_endpoint &&
                !fetch_proof(c, fresh.pds_endpoint, did, nsid, &car, why, why_len)) {
                e = verify_proof(bytes_of(car.ptr, car.len), did, &fresh, nsid, &a, &rcid, &rec,
                                 why, why_len);
            }
            did_doc_clear(&fresh);
        }
    }
    if (!e) {
        e = check_document(rec, nsid, why, why_len);
    }
    if (!e) {
        snprintf(out->uri, sizeof out->uri, "at://%s/%s/%s", did, LEXRES_SCHEMA_COLLECTION, nsid);
        cid_format(&rcid, out->cid);
        out->doc = rec;
        rec = NULL;
    }
    json_decref(rec);
    arena_clear(&a);
    buf_clear(&car);
    did_doc_clear(&doc);
    return e;
}
