/* syntax.c - interop suite for syntax/ and the newer upstream-atproto syntax copies: every
 * vector line must be accepted (valid lists) or refused (invalid lists) by its validator. */
#include "interop.h"

#include "core/syntax.h"
#include "core/tid.h"

/* What a file's lines must do. */
struct syntax_case {
    const char *file;
    bool (*check)(struct bytes);
    bool want; /* true: the check accepts every line */
};

static void one_line(struct interop *t, struct bytes line, void *ctx)
{
    const struct syntax_case *c = ctx;
    bool got = c->check(line);
    interop_case(t, got == c->want, c->file, "%s \"%.*s\"", c->want ? "refused" : "accepted",
                 (int)(line.len > 200 ? 200 : line.len), (const char *)line.ptr);
}

/* A parse_invalid line is shaped like valid syntax: well-formed, but the strict check must
 * refuse it. */
static void language_parse_invalid_line(struct interop *t, struct bytes line, void *ctx)
{
    const char *file = ctx;
    interop_case(t, syntax_language_wellformed(line), file, "not well-formed \"%.*s\"",
                 (int)line.len, (const char *)line.ptr);
    interop_case(t, !syntax_language_valid(line), file, "strictly accepted \"%.*s\"", (int)line.len,
                 (const char *)line.ptr);
}

/* The TID validator and the TID parser must agree, and a parsed TID formats back. */
static void tid_roundtrip_line(struct interop *t, struct bytes line, void *ctx)
{
    const char *file = ctx;
    uint64_t v;
    char back[TID_STR_LEN + 1];
    bool ok = tid_parse(line, &v) == ERR_OK;
    if (ok) {
        tid_format(v, back);
    }
    interop_case(t, ok && bytes_eq(bytes_str(back), line), file, "tid round trip \"%.*s\"",
                 (int)line.len, (const char *)line.ptr);
}

static void tid_refused_line(struct interop *t, struct bytes line, void *ctx)
{
    uint64_t v;
    interop_case(t, tid_parse(line, &v) != ERR_OK, ctx, "tid_parse accepted \"%.*s\"",
                 (int)line.len, (const char *)line.ptr);
}

#define UP "upstream-atproto/interop-test-files/syntax/"

void interop_syntax(struct interop *t)
{
    static const struct syntax_case cases[] = {
        {"syntax/atidentifier_syntax_valid.txt", syntax_atidentifier_valid, true},
        {"syntax/atidentifier_syntax_invalid.txt", syntax_atidentifier_valid, false},
        {"syntax/aturi_syntax_valid.txt", syntax_aturi_valid, true},
        {"syntax/aturi_syntax_invalid.txt", syntax_aturi_valid, false},
        {"syntax/cid_syntax_valid.txt", syntax_cid_valid, true},
        {"syntax/cid_syntax_invalid.txt", syntax_cid_valid, false},
        {"syntax/datetime_syntax_valid.txt", syntax_datetime_valid, true},
        {"syntax/datetime_syntax_invalid.txt", syntax_datetime_valid, false},
        /* grammatical but impossible: both references reject these in the primary check */
        {"syntax/datetime_parse_invalid.txt", syntax_datetime_valid, false},
        {"syntax/did_syntax_valid.txt", syntax_did_valid, true},
        {"syntax/did_syntax_invalid.txt", syntax_did_valid, false},
        {"syntax/handle_syntax_valid.txt", syntax_handle_valid, true},
        {"syntax/handle_syntax_invalid.txt", syntax_handle_valid, false},
        {"syntax/nsid_syntax_valid.txt", syntax_nsid_valid, true},
        {"syntax/nsid_syntax_invalid.txt", syntax_nsid_valid, false},
        {"syntax/recordkey_syntax_valid.txt", syntax_rkey_valid, true},
        {"syntax/recordkey_syntax_invalid.txt", syntax_rkey_valid, false},
        {"syntax/tid_syntax_valid.txt", syntax_tid_valid, true},
        {"syntax/tid_syntax_invalid.txt", syntax_tid_valid, false},
        {UP "tid_syntax_valid.txt", syntax_tid_valid, true},
        {"syntax/uri_syntax_valid.txt", syntax_uri_valid, true},
        {"syntax/uri_syntax_invalid.txt", syntax_uri_valid, false},
        /* Language: the shared valid list passes both checks. The two repositories disagree
         * on JA and jaja (INDEX.md): the canonical "syntax invalid" list is the older,
         * single-strict-check view in which they fail, so it runs against the strict check;
         * the monorepo's newer list holds only tags that are not even well-formed (including
         * de-419-DE), so it runs against the well-formedness check. The parse_invalid lists
         * of both (the monorepo's adds JA and jaja) must be well-formed yet strictly invalid.
         * One pair of functions satisfies all five files. */
        {"syntax/language_syntax_valid.txt", syntax_language_valid, true},
        {"syntax/language_syntax_valid.txt", syntax_language_wellformed, true},
        {"syntax/language_syntax_invalid.txt", syntax_language_valid, false},
        {UP "language_syntax_invalid.txt", syntax_language_wellformed, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        interop_lines(t, cases[i].file, one_line, (void *)&cases[i]);
    }
    interop_lines(t, "syntax/language_parse_invalid.txt", language_parse_invalid_line,
                  "syntax/language_parse_invalid.txt");
    interop_lines(t, UP "language_parse_invalid.txt", language_parse_invalid_line,
                  UP "language_parse_invalid.txt");
    interop_lines(t, "syntax/tid_syntax_valid.txt", tid_roundtrip_line,
                  "syntax/tid_syntax_valid.txt");
    interop_lines(t, UP "tid_syntax_valid.txt", tid_roundtrip_line, UP "tid_syntax_valid.txt");
    interop_lines(t, "syntax/tid_syntax_invalid.txt", tid_refused_line,
                  "syntax/tid_syntax_invalid.txt");
}
