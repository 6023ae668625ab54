/* chart.h - the small charts of the admin console, drawn by the server as SVG documents
 * (served as images, so no script draws them and the page's CSP stays strict): a bar chart
 * of a series of counts, such as sign-ups per day or writes per minute.
 * Pure; thread-safe. */
#ifndef PDS_WEB_CHART_H
#define PDS_WEB_CHART_H

#include <stddef.h>

#include "core/bytes.h"
#include "core/err.h"

#define CHART_POINTS_MAX 400 /* bars in one chart */

struct chart_point {
    const char *label; /* shown under the first, middle and last bars, and in each tooltip */
    double value;      /* >= 0 */
};

/* Appends an SVG document (width x height pixels) of one bar per point, scaled so the
 * largest value fills the height, with title above, the largest value and 0 on the axis,
 * and a <title> tooltip per bar ("label: value"). Every text is XML-escaped. ERR_INVALID
 * for more than CHART_POINTS_MAX points or a size under 100 x 60; ERR_TOO_LARGE past out's
 * maximum. */
enum err chart_bars_svg(const char *title, const struct chart_point *points, size_t n, int width,
                        int height, struct buf *out) MUST_CHECK;

#endif
