/* firehose.c - interop suite for firehose/commit-proof-fixtures.json: build each tree,
 * apply the commit, check both roots, check that our covering proof holds every block the
 * fixture requires, and invert the commit in every order using only the proof blocks. */
#include "interop.h"

#include "repo/mst.h"

#define FIREHOSE_MAX_OPS 8 /* the fixtures have at most a handful of operations */

static bool cid_str_is(const struct cid *c, const char *want)
{
    char s[CID_STR_MAX];
    cid_format(c, s);
    return want && strcmp(s, want) == 0;
}

static struct bytes jbytes(json_t *s)
{
    return bytes_of(json_string_value(s), json_string_length(s));
}

/* Inverse operation k of the commit: deleting an added key or re-adding a deleted one. */
struct inverse {
    struct bytes key;
    bool is_add; /* true: the commit added it, so invert by deleting */
};

static bool invert_in_order(const struct blockmap *proof, const struct cid *after,
                            const struct inverse *ops, const size_t *order, size_t n,
                            const struct cid *leaf, const char *want_before)
{
    struct mst *m = mst_load(blockmap_source(proof), after);
    bool ok = true;
    for (size_t k = 0; k < n && ok; k++) {
        const struct inverse *op = &ops[order[k]];
        ok = (op->is_add ? mst_delete(m, op->key) : mst_add(m, op->key, leaf)) == ERR_OK;
    }
    struct cid root;
    ok = ok && mst_root(m, NULL, &root) == ERR_OK && cid_str_is(&root, want_before);
    mst_free(m);
    return ok;
}

/* Heap's algorithm over all orders of the inverse operations. */
static bool all_orders(const struct blockmap *proof, const struct cid *after,
                       const struct inverse *ops, size_t n, const struct cid *leaf,
                       const char *want_before, long *orders)
{
    size_t order[FIREHOSE_MAX_OPS] = {0}, c[FIREHOSE_MAX_OPS] = {0};
    for (size_t i = 0; i < n; i++) {
        order[i] = i;
    }
    bool ok = invert_in_order(proof, after, ops, order, n, leaf, want_before);
    (*orders)++;
    size_t i = 1;
    while (i < n && ok) {
        if (c[i] < i) {
            size_t j = i % 2 == 0 ? 0 : c[i], tmp = order[j];
            order[j] = order[i];
            order[i] = tmp;
            ok = invert_in_order(proof, after, ops, order, n, leaf, want_before);
            (*orders)++;
            c[i]++;
            i = 1;
        } else {
            c[i] = 0;
            i++;
        }
    }
    return ok;
}

static void run_fixture(struct interop *t, const char *f, json_t *fx)
{
    const char *name = json_string_value(json_object_get(fx, "comment"));
    struct cid leaf;
    if (cid_parse_str(json_string_value(json_object_get(fx, "leafValue")), &leaf)) {
        interop_case(t, false, f, "%s: bad leafValue", name);
        return;
    }
    struct blockmap store;
    blockmap_init(&store);
    struct mst *m = mst_new(blockmap_source(&store));
    size_t i;
    json_t *k;
    bool ok = true;
    json_array_foreach(json_object_get(fx, "keys"), i, k) ok = ok && !mst_add(m, jbytes(k), &leaf);
    struct cid before, after;
    ok = ok && !mst_root(m, &store, &before);
    interop_case(
        t, ok && cid_str_is(&before, json_string_value(json_object_get(fx, "rootBeforeCommit"))), f,
        "%s: root before commit", name);

    struct inverse ops[FIREHOSE_MAX_OPS];
    size_t nops = 0;
    json_array_foreach(json_object_get(fx, "adds"), i, k)
    {
        ok = ok && !mst_add(m, jbytes(k), &leaf);
        if (nops < FIREHOSE_MAX_OPS) {
            ops[nops++] = (struct inverse){jbytes(k), true};
        }
    }
    json_array_foreach(json_object_get(fx, "dels"), i, k)
    {
        ok = ok && !mst_delete(m, jbytes(k));
        if (nops < FIREHOSE_MAX_OPS) {
            ops[nops++] = (struct inverse){jbytes(k), false};
        }
    }
    ok = ok && !mst_root(m, &store, &after);
    interop_case(
        t, ok && cid_str_is(&after, json_string_value(json_object_get(fx, "rootAfterCommit"))), f,
        "%s: root after commit", name);

    struct blockmap proof;
    blockmap_init(&proof);
    for (size_t n = 0; n < nops && ok; n++) {
        ok = !mst_covering_proof(m, ops[n].key, &proof);
    }
    json_t *want;
    bool has_all = ok;
    json_array_foreach(json_object_get(fx, "blocksInProof"), i, want)
    {
        struct cid c;
        has_all =
            has_all && !cid_parse_str(json_string_value(want), &c) && blockmap_has(&proof, &c);
    }
    interop_case(t, has_all, f, "%s: proof holds every required block", name);

    long orders = 0;
    bool inverted =
        ok && all_orders(&proof, &after, ops, nops, &leaf,
                         json_string_value(json_object_get(fx, "rootBeforeCommit")), &orders);
    interop_case(t, inverted, f, "%s: inversion from proof blocks alone (%ld orders)", name,
                 orders);
    blockmap_clear(&proof);
    mst_free(m);
    blockmap_clear(&store);
}

void interop_firehose(struct interop *t)
{
    const char *f = "firehose/commit-proof-fixtures.json";
    json_t *j = interop_json(t, f);
    size_t i;
    json_t *fx;
    json_array_foreach(j, i, fx) run_fixture(t, f, fx);
    json_decref(j);
}
