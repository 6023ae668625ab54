/* test_chart.c - the console's SVG bar charts: one bar per point scaled to the largest,
 * every text escaped, bad sizes refused. */
#include "unit/test.h"

#include <string.h>

#include "web/chart.h"

static int count(const char *s, const char *what)
{
    int n = 0;
    for (const char *p = strstr(s, what); p; p = strstr(p + 1, what)) {
        n++;
    }
    return n;
}

static void test_chart_draws_a_bar_per_point(void)
{
    struct chart_point pts[] = {{"Mon", 2}, {"Tue", 0}, {"Wed", 4}};
    struct buf b;
    buf_init(&b, 1 << 16);
    CHECK(chart_bars_svg("Sign-ups", pts, 3, 300, 120, &b) == ERR_OK);
    const char *s = (const char *)b.ptr;
    CHECK(strncmp(s, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    CHECK_EQ(count(s, "<rect "), 3);
    CHECK(strstr(s, "<title>Wed: 4</title>"));
    CHECK(strstr(s, "height=\"0.00\""));  /* the zero bar */
    CHECK(strstr(s, "height=\"72.00\"")); /* the largest fills 120 - 26 - 22 */
    CHECK(strstr(s, "</svg>"));
    CHECK(!strstr(s, "style="));
    buf_clear(&b);
}

static void test_chart_escapes_text(void)
{
    struct chart_point pts[] = {{"<script>", 1}};
    struct buf b;
    buf_init(&b, 1 << 16);
    CHECK(chart_bars_svg("a & <b>", pts, 1, 300, 120, &b) == ERR_OK);
    const char *s = (const char *)b.ptr;
    CHECK(!strstr(s, "<script>"));
    CHECK(!strstr(s, "<b>"));
    CHECK(strstr(s, "&lt;script&gt;"));
    CHECK(strstr(s, "a &amp; &lt;b&gt;"));
    buf_clear(&b);
}

static void test_chart_refuses_bad_sizes(void)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    CHECK(chart_bars_svg("x", NULL, 0, 50, 120, &b) == ERR_INVALID);
    CHECK(chart_bars_svg("x", NULL, CHART_POINTS_MAX + 1, 300, 120, &b) == ERR_INVALID);
    CHECK(chart_bars_svg("empty", NULL, 0, 300, 120, &b) == ERR_OK);
    buf_clear(&b);
}

int main(void)
{
    RUN(test_chart_draws_a_bar_per_point);
    RUN(test_chart_escapes_text);
    RUN(test_chart_refuses_bad_sizes);
    return test_report();
}
