/* test_utf8.c - UTF-8 validation per RFC 3629: every length, and overlongs, surrogates,
 * values past U+10FFFF, stray and missing continuation bytes refused. */
#include "unit/test.h"

#include "core/utf8.h"

static void test_utf8_valid_and_invalid(void)
{
    static const struct {
        const char *s;
        size_t len;
        bool ok;
    } v[] = {
        {"", 0, true},
        {"abc", 3, true},
        {"a\0b", 3, true},              /* NUL is a character */
        {"\xc2\x80", 2, true},          /* U+0080 */
        {"\xdf\xbf", 2, true},          /* U+07FF */
        {"\xe0\xa0\x80", 3, true},      /* U+0800 */
        {"\xed\x9f\xbf", 3, true},      /* U+D7FF */
        {"\xee\x80\x80", 3, true},      /* U+E000 */
        {"\xef\xbf\xbf", 3, true},      /* U+FFFF */
        {"\xf0\x90\x80\x80", 4, true},  /* U+10000 */
        {"\xf4\x8f\xbf\xbf", 4, true},  /* U+10FFFF */
        {"\x80", 1, false},             /* stray continuation */
        {"\xc0\x80", 2, false},         /* overlong NUL */
        {"\xc1\xbf", 2, false},         /* overlong */
        {"\xe0\x9f\xbf", 3, false},     /* overlong */
        {"\xf0\x8f\xbf\xbf", 4, false}, /* overlong */
        {"\xed\xa0\x80", 3, false},     /* U+D800 */
        {"\xed\xbf\xbf", 3, false},     /* U+DFFF */
        {"\xf4\x90\x80\x80", 4, false}, /* U+110000 */
        {"\xf5\x80\x80\x80", 4, false},
        {"\xf8\x88\x80\x80\x80", 5, false},
        {"\xff", 1, false},
        {"\xc2", 1, false},     /* cut */
        {"\xe2\x82", 2, false}, /* cut */
        {"\xc2\x41", 2, false}, /* non-continuation */
        {"a\xe2\x82\xac\xf0\x9f\x98", 8, false},
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        if (utf8_valid(bytes_of(v[i].s, v[i].len)) != v[i].ok) {
            CHECK(!"wrong verdict");
            fprintf(stderr, "  case %zu\n", i);
        }
    }
}

int main(void)
{
    RUN(test_utf8_valid_and_invalid);
    return test_report();
}
