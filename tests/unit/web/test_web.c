/* test_web.c - the web layer's pure parts: HTML escaping, {{name}} templates, form bodies,
 * cookies and CSRF tokens. */
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
    CHECK(web_template(BYTES_LIT("Hi {{name}}!{{empty}} {{ name }} {{Name}} {x}} {{"), vars, 2, &b,
                       &unknown) == ERR_OK);
    CHECK_STR((const char *)b.ptr,
              "Hi &lt;b&gt;Al &amp; Bo&lt;/b&gt;! {{ name }} {{Name}} {x}} {{");
    buf_clear(&b);
}

static void test_template_refuses_unknown_names(void)
{
    struct buf b;
    buf_init(&b, 1024);
    struct bytes unknown;
    CHECK(web_template(BYTES_LIT("a {{missing_var}} b"), NULL, 0, &b, &unknown) == ERR_INVALID);
    CHECK(bytes_eq(unknown, BYTES_LIT("missing_var")));
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
    RUN(test_form_parse_decodes_and_refuses_nul);
    RUN(test_csrf_token_depends_on_key_and_device);
    return test_report();
}
