/* test_plc_client.c - plc_client against a real PLC directory: create a DID, read its
 * document, state and last op back, update it, have a bad op refused, tombstone it.
 * Skipped (neither passed nor failed; exit 0) unless PDS_TEST_PLC_URL names a throw-away
 * directory, e.g. the in-memory one tests/e2e/lib/plc.mjs starts. */
#include "identity/plc_client.h"

#include "identity/did_doc.h"
#include "identity/resolver.h"
#include "unit/test.h"

static struct plc_client pc;

struct account {
    struct sigkey rotation, signing;
    char did[PLC_DID_MAX];
    char last_cid[CID_STR_MAX];
};

static void genesis(struct account *a, const char *handle)
{
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &a->rotation), ERR_OK);
    CHECK_EQ(sigkey_generate(SIGKEY_K256, &a->signing), ERR_OK);
    char rk[SIGKEY_DID_KEY_MAX], sk[SIGKEY_DID_KEY_MAX];
    sigkey_did_key(&a->rotation, rk);
    sigkey_did_key(&a->signing, sk);
    struct plc_op op;
    plc_op_init(&op, PLC_OP_OPERATION);
    CHECK_EQ(plc_op_add_rotation_key(&op, rk), ERR_OK);
    CHECK_EQ(plc_op_set_verification_method(&op, "atproto", sk), ERR_OK);
    CHECK_EQ(plc_op_set_handle(&op, handle), ERR_OK);
    CHECK_EQ(plc_op_set_service(&op, "atproto_pds", "AtprotoPersonalDataServer",
                                "https://pds.example.com"),
             ERR_OK);
    CHECK_EQ(plc_op_sign(&op, &a->rotation), ERR_OK);
    CHECK_EQ(plc_op_did(&op, a->did), ERR_OK);
    CHECK_EQ(plc_op_cid_str(&op, a->last_cid), ERR_OK);
    json_t *j = plc_op_to_json(&op);
    char msg[PLC_ERROR_MESSAGE_MAX];
    enum err e = plc_submit(&pc, a->did, j, msg);
    if (e != ERR_OK) {
        fprintf(stderr, "submit: %s: %s\n", err_str(e), msg);
    }
    CHECK_EQ(e, ERR_OK);
    json_decref(j);
    plc_op_clear(&op);
}

static void test_plc_client_create_and_read_back(void)
{
    struct account a;
    genesis(&a, "alice.test");
    json_t *doc;
    CHECK_EQ(plc_get_document(&pc, a.did, &doc), ERR_OK);
    struct did_doc d;
    CHECK_EQ(did_doc_parse(doc, a.did, &d), ERR_OK);
    CHECK_STR(d.handle, "alice.test");
    CHECK(d.has_signing_key && sigkey_equal(&d.signing_key, &a.signing));
    CHECK_STR(d.pds_endpoint, "https://pds.example.com");
    did_doc_clear(&d);
    json_decref(doc);

    struct plc_op state, last;
    struct cid cid;
    CHECK_EQ(plc_get_data(&pc, a.did, &state), ERR_OK);
    CHECK_EQ(state.n_rotation_keys, 1);
    CHECK_STR(state.also_known_as[0], "at://alice.test");
    CHECK_EQ(plc_get_last_op(&pc, a.did, &last, &cid), ERR_OK);
    char cs[CID_STR_MAX];
    cid_format(&cid, cs);
    CHECK_STR(cs, a.last_cid);
    CHECK_EQ(plc_op_verify_genesis(&last, a.did), ERR_OK);

    /* update the handle: state -> edit -> prev -> sign -> submit */
    CHECK_EQ(plc_op_set_handle(&state, "alice2.test"), ERR_OK);
    CHECK_EQ(plc_op_set_prev(&state, cs), ERR_OK);
    CHECK_EQ(plc_op_sign(&state, &a.rotation), ERR_OK);
    json_t *j = plc_op_to_json(&state);
    CHECK_EQ(plc_submit(&pc, a.did, j, NULL), ERR_OK);
    json_decref(j);
    CHECK_EQ(plc_get_document(&pc, a.did, &doc), ERR_OK);
    CHECK_STR(json_string_value(json_array_get(json_object_get(doc, "alsoKnownAs"), 0)),
              "at://alice2.test");
    json_decref(doc);

    /* an update signed by a key that is not a rotation key: 400 with a message */
    CHECK_EQ(plc_op_set_handle(&state, "mallory.test"), ERR_OK);
    CHECK_EQ(plc_op_cid_str(&last, cs), ERR_OK);
    char ucid[CID_STR_MAX];
    struct plc_op u;
    struct cid uc;
    CHECK_EQ(plc_get_last_op(&pc, a.did, &u, &uc), ERR_OK);
    cid_format(&uc, ucid);
    CHECK_EQ(plc_op_verify(&u, (const char *const *)last.rotation_keys, last.n_rotation_keys, NULL),
             ERR_OK);
    CHECK_EQ(plc_op_set_prev(&state, ucid), ERR_OK);
    CHECK_EQ(plc_op_sign(&state, &a.signing), ERR_OK);
    j = plc_op_to_json(&state);
    char msg[PLC_ERROR_MESSAGE_MAX];
    CHECK_EQ(plc_submit(&pc, a.did, j, msg), ERR_INVALID);
    CHECK(msg[0] != '\0');
    printf("directory refused the bad op: %s\n", msg);
    json_decref(j);

    /* the resolver over the same directory */
    struct resolver_config cfg = {.plc_url = pc.url};
    struct resolver *r = resolver_new(&cfg);
    CHECK_EQ(resolver_resolve_atproto(r, a.did, false, &d), ERR_OK);
    CHECK_STR(d.handle, "alice2.test");
    did_doc_clear(&d);

    /* tombstone: the document is gone (410) */
    struct plc_op t;
    plc_op_init(&t, PLC_OP_TOMBSTONE);
    CHECK_EQ(plc_op_set_prev(&t, ucid), ERR_OK);
    CHECK_EQ(plc_op_sign(&t, &a.rotation), ERR_OK);
    j = plc_op_to_json(&t);
    CHECK_EQ(plc_submit(&pc, a.did, j, NULL), ERR_OK);
    json_decref(j);
    CHECK_EQ(plc_get_document(&pc, a.did, &doc), ERR_NOT_FOUND);
    CHECK_EQ(resolver_resolve_atproto(r, a.did, true, &d), ERR_NOT_FOUND);
    did_doc_clear(&d);
    resolver_free(r);

    plc_op_clear(&t);
    plc_op_clear(&u);
    plc_op_clear(&state);
    plc_op_clear(&last);
    sigkey_clear(&a.rotation);
    sigkey_clear(&a.signing);
}

static void test_plc_client_unknown_did(void)
{
    json_t *doc;
    CHECK_EQ(plc_get_document(&pc, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &doc), ERR_NOT_FOUND);
    struct plc_op op;
    struct cid c;
    CHECK_EQ(plc_get_last_op(&pc, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &op, &c), ERR_NOT_FOUND);
    plc_op_clear(&op);
    CHECK_EQ(plc_get_document(&pc, "not a did", &doc), ERR_INVALID);
    struct plc_client down = {"http://127.0.0.1:1", 1000};
    CHECK_EQ(plc_get_document(&down, "did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", &doc), ERR_UPSTREAM);
}

int main(void)
{
    const char *url = getenv("PDS_TEST_PLC_URL");
    if (!url || !*url) {
        printf("skipped: PDS_TEST_PLC_URL is not set (no PLC directory to talk to)\n");
        return 0;
    }
    pc.url = url;
    pc.timeout_ms = 5000;
    RUN(test_plc_client_create_and_read_back);
    RUN(test_plc_client_unknown_did);
    return test_report();
}
