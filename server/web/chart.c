/* chart.c - SVG bar charts. Colours are presentation attributes, not style attributes, so
 * the SVG needs no inline CSS. */
#include "web/chart.h"

#include <stdio.h>

#include "web/html.h"

#define PAD_LEFT   48 /* room for the axis figures */
#define PAD_RIGHT  8
#define PAD_TOP    26 /* the title */
#define PAD_BOTTOM 22 /* the labels */
#define BAR_COLOR  "#1185fe"
#define TEXT_COLOR "#475467"
#define LINE_COLOR "#d0d5dd"

static enum err text_at(struct buf *out, double x, double y, const char *anchor, const char *s)
{
    enum err e = buf_appendf(out,
                             "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"11\" "
                             "font-family=\"sans-serif\" fill=\"" TEXT_COLOR "\">",
                             x, y, anchor);
    if (!e) {
        e = web_html_escape(out, s);
    }
    return e ? e : buf_append_str(out, "</text>");
}

/* A figure as the axis shows it: 12, 3.4k, 5.6M. */
static void figure(double v, char out[32])
{
    if (v >= 1e6) {
        snprintf(out, 32, "%.1fM", v / 1e6);
    } else if (v >= 1e4) {
        snprintf(out, 32, "%.1fk", v / 1e3);
    } else {
        snprintf(out, 32, "%.0f", v);
    }
}

enum err chart_bars_svg(const char *title, const struct chart_point *points, size_t n, int width,
                        int height, struct buf *out)
{
    if (n > CHART_POINTS_MAX || width < 100 || height < 60) {
        return ERR_INVALID;
    }
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        if (points[i].value > max) {
            max = points[i].value;
        }
    }
    double plot_w = width - PAD_LEFT - PAD_RIGHT, plot_h = height - PAD_TOP - PAD_BOTTOM;
    double base = PAD_TOP + plot_h;
    enum err e = buf_appendf(out,
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                             "viewBox=\"0 0 %d %d\" role=\"img\"><title>",
                             width, height, width, height);
    if (!e) {
        e = web_html_escape(out, title);
    }
    if (!e) {
        e = buf_append_str(out, "</title>");
    }
    if (!e) {
        e = text_at(out, PAD_LEFT, 15, "start", title);
    }
    char f[32];
    figure(max, f);
    if (!e) {
        e = text_at(out, PAD_LEFT - 6, PAD_TOP + 9, "end", f);
    }
    if (!e) {
        e = text_at(out, PAD_LEFT - 6, base, "end", "0");
    }
    if (!e) {
        e = buf_appendf(
            out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"" LINE_COLOR "\"/>",
            PAD_LEFT, base, width - PAD_RIGHT, base);
    }
    double slot = n ? plot_w / (double)n : plot_w;
    double bar = slot > 3 ? slot * 0.8 : slot;
    for (size_t i = 0; i < n && !e; i++) {
        double h = max > 0 ? points[i].value / max * plot_h : 0;
        if (points[i].value > 0 && h < 1) {
            h = 1; /* a non-zero value stays visible */
        }
        double x = PAD_LEFT + slot * (double)i + (slot - bar) / 2;
        e = buf_appendf(
            out,
            "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"" BAR_COLOR
            "\"><title>",
            x, base - h, bar, h);
        if (!e) {
            e = web_html_escape(out, points[i].label);
        }
        figure(points[i].value, f);
        if (!e) {
            e = buf_appendf(out, ": %s</title></rect>", f);
        }
    }
    /* labels under the first, middle and last bars */
    size_t marks[3] = {0, n / 2, n ? n - 1 : 0};
    const char *anchors[3] = {"start", "middle", "end"};
    for (size_t k = 0; k < 3 && n && !e; k++) {
        if (k == 1 && (n < 3)) {
            continue;
        }
        double x = k == 0   ? PAD_LEFT
                   : k == 2 ? width - PAD_RIGHT
                            : PAD_LEFT + slot * (double)marks[k] + slot / 2;
        e = text_at(out, x, height - 6, anchors[k], points[marks[k]].label);
    }
    return e ? e : buf_append_str(out, "</svg>\n");
}
