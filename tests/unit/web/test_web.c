/* test_web.c - the web layer's pure parts: HTML escaping, {{name}} and {{> path}}
 * templates, form bodies, cookies and CSRF tokens. */
#include "unit/test.h"

#include <string.h>

#include "config/config.h"
#include "http/form.h"
#include "web/csrf.h"
#include "web/html.h"
#include "web/web.h"

static void test_html_escape_covers_text_and_attributes(void)
{
    struct buf b;
    buf_init(&b, 1024);
    CHECK(web_html_escape(&b, "<a href=\"x\" onclick='y'>&amp;</a>") == ERR_OK);
    CHECK_STR((const char *)b.ptr,
              "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    buf_clear(&b);
}

static void test_template_substitutes_escaped_values(void)
{
    const struct web_var vars[] = {{"name", "<b>Al & Bo</b>"}, {"empty", NULL}};
    struct buf b;
    buf_init(&b, 1024);
    struct bytes unknown;
    CHECK(web_template(BYTES_LIT("Hi {{name}}!{{empty}} {{ name }} {{Name}} {x}} {{"), vars, 2,
                       NULL, 0, &b, &unknown) == ERR_OK);
    CHECK_STR((const char *)b.ptr,
              "Hi &lt;b&gt;Al &amp; Bo&lt;/b&gt;! {{ name }} {{Name}} {x}} {{");
    buf_clear(&b);
}

static void test_template_refuses_unknown_names(void)
{
    struct buf b;
    buf_init(&b, 1024);
    struct bytes unknown;
    CHECK(web_template(BYTES_LIT("a {{missing_var}} b"), NULL, 0, NULL, 0, &b, &unknown) ==
          ERR_INVALID);
    CHECK(bytes_eq(unknown, BYTES_LIT("missing_var")));
    buf_clear(&b);
}

#define FILE_OF(path, text)                                                                        \
    {                                                                                              \
        path, (const uint8_t *)(text), sizeof(text) - 1, 0                                         \
    }

/* sorted by path, as the generated tables are */
static const struct embedded_file files[] = {
    FILE_OF("a/deep1.html", "1{{> a/deep2.html}}"),
    FILE_OF("a/deep2.html", "2{{> a/deep3.html}}"),
    FILE_OF("a/deep3.html", "3{{> a/deep4.html}}"),
    FILE_OF("a/deep4.html", "4{{> a/deep5.html}}"),
    FILE_OF("a/deep5.html", "5"),
    FILE_OF("a/frame.html", "<main>{{> common/head.html}}<h1>{{title}}</h1>"),
    FILE_OF("a/self.html", "again {{> a/self.html}}"),
    FILE_OF("a/typo.html", "<p>{{tilte}}</p>"),
    FILE_OF("common/head.html", "<title>{{title}} &amp; co</title>"),
};

static enum err render(const char *tmpl, struct buf *b, struct bytes *unknown)
{
    const struct web_var vars[] = {{"title", "<Tom & \"Jo\">"}};
    buf_clear(b);
    buf_init(b, 1024);
    return web_template(bytes_str(tmpl), vars, ARRAY_LEN(vars), files, ARRAY_LEN(files), b,
                        unknown);
}

static void test_template_includes_files_with_the_same_escaping(void)
{
    struct buf b;
    buf_init(&b, 1024);
    struct bytes unknown;
    /* nested two deep; the included text is ours (copied), its {{name}}s escaped */
    CHECK(render("[{{> a/frame.html}}]", &b, &unknown) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "[<main><title>&lt;Tom &amp; &quot;Jo&quot;&gt; &amp; co</title>"
                                   "<h1>&lt;Tom &amp; &quot;Jo&quot;&gt;</h1>]");
    CHECK(unknown.len == 0);
    /* a value that looks like an include stays text */
    const struct web_var sneaky[] = {{"v", "{{> common/head.html}}"}};
    buf_clear(&b);
    buf_init(&b, 1024);
    CHECK(web_template(BYTES_LIT("{{v}}"), sneaky, 1, files, ARRAY_LEN(files), &b, &unknown) ==
          ERR_OK);
    CHECK_STR((const char *)b.ptr, "{{&gt; common/head.html}}");
    /* not well-formed includes are copied as they are */
    CHECK(render("{{>common/head.html}} {{>  a}} {{> }} {{> A/B}} {{> a/frame.html", &b,
                 &unknown) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "{{>common/head.html}} {{>  a}} {{> }} {{> A/B}} {{> "
                                   "a/frame.html");
    buf_clear(&b);
}

static void test_template_includes_to_a_fixed_depth(void)
{
    struct buf b;
    buf_init(&b, 1024);
    struct bytes unknown;
    /* a page and four nested files: the deepest allowed */
    CHECK(render("0{{> a/deep2.html}}", &b, &unknown) == ERR_OK);
    CHECK_STR((const char *)b.ptr, "02345");
    CHECK(render("0{{> a/deep1.html}}", &b, &unknown) == ERR_TOO_LARGE);
    CHECK(bytes_eq(unknown, BYTES_LIT("> a/deep5.html")));
    CHECK(render("{{> a/self.html}}", &b, &unknown) == ERR_TOO_LARGE);
    CHECK(bytes_eq(unknown, BYTES_LIT("> a/self.html")));
    buf_clear(&b);
}

static void test_template_refuses_unknown_files(void)
{
    struct buf b;
    buf_init(&b, 1024);
    struct bytes unknown;
    CHECK(render("x {{> common/nope.html}}", &b, &unknown) == ERR_INVALID);
    CHECK(bytes_eq(unknown, BYTES_LIT("> common/nope.html")));
    /* no normalisation: only a table's own paths name files */
    CHECK(render("{{> a/../common/head.html}}", &b, &unknown) == ERR_INVALID);
    CHECK(bytes_eq(unknown, BYTES_LIT("> a/../common/head.html")));
    /* without a table nothing can be included */
    buf_clear(&b);
    buf_init(&b, 1024);
    CHECK(web_template(BYTES_LIT("{{> common/head.html}}"), NULL, 0, NULL, 0, &b, &unknown) ==
          ERR_INVALID);
    /* an unknown name inside an included file is named too */
    CHECK(render("{{> a/typo.html}}", &b, &unknown) == ERR_INVALID);
    CHECK(bytes_eq(unknown, BYTES_LIT("tilte")));
    buf_clear(&b);
}

static void test_form_parse_decodes_and_refuses_nul(void)
{
    struct arena a;
    arena_init(&a);
    struct xrpc_param *p;
    size_t n;
    CHECK(form_parse(&a, BYTES_LIT("a=1&b=x+y%20z&&c&d=%zz&a=2"), 16, &p, &n) == ERR_OK);
    CHECK(n == 5);
    CHECK_STR(form_get(p, n, "a"), "1");
    CHECK_STR(form_get(p, n, "b"), "x y z");
    CHECK_STR(form_get(p, n, "c"), "");
    CHECK_STR(form_get(p, n, "d"), "%zz");
    CHECK_STR(p[4].value, "2");
    CHECK(form_get(p, n, "e") == NULL);
    CHECK(form_parse(&a, BYTES_LIT("a=x%00y"), 16, &p, &n) == ERR_INVALID);
    CHECK(form_parse(&a, BYTES_LIT("a%00=1"), 16, &p, &n) == ERR_INVALID);
    CHECK(form_parse(&a, BYTES_LIT("a&b&c"), 2, &p, &n) == ERR_TOO_LARGE);
    arena_clear(&a);
}

static void test_csrf_token_depends_on_key_and_device(void)
{
    struct config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.jwt_secret = "secret-one";
    CHECK(web_init(&cfg) == ERR_OK);
    char t1[WEB_CSRF_TOKEN_LEN + 1], t2[WEB_CSRF_TOKEN_LEN + 1], t3[WEB_CSRF_TOKEN_LEN + 1];
    web_csrf_token("device-a", t1);
    web_csrf_token("device-b", t2);
    CHECK(strlen(t1) == WEB_CSRF_TOKEN_LEN);
    CHECK(strcmp(t1, t2) != 0);
    cfg.jwt_secret = "secret-two";
    CHECK(web_init(&cfg) == ERR_OK);
    web_csrf_token("device-a", t3);
    CHECK(strcmp(t1, t3) != 0);
    cfg.jwt_secret = NULL;
    CHECK(web_init(&cfg) == ERR_INVALID);
    web_clear();
}

int main(void)
{
    RUN(test_html_escape_covers_text_and_attributes);
    RUN(test_template_substitutes_escaped_values);
    RUN(test_template_refuses_unknown_names);
    RUN(test_template_includes_files_with_the_same_escaping);
    RUN(test_template_includes_to_a_fixed_depth);
    RUN(test_template_refuses_unknown_files);
    RUN(test_form_parse_decodes_and_refuses_nul);
    RUN(test_csrf_token_depends_on_key_and_device);
    return test_report();
}
