/* html.h - the one place where text becomes HTML: escaping, and the tiny template language
 * of the pages in admin-ui/ ({{name}} is replaced by the escaped value of name; there is no
 * way to insert unescaped text). Pure; thread-safe. */
#ifndef PDS_WEB_HTML_H
#define PDS_WEB_HTML_H

#include <stddef.h>

#include "core/bytes.h"
#include "core/err.h"

#define WEB_VAR_NAME_MAX 48 /* {{name}}: [a-z0-9_], at most this many characters */

struct web_var {
    const char *name;
    const char *value; /* NULL renders as empty */
};

/* Appends s with & < > " ' escaped, so the result is safe in element text and in quoted
 * attribute values alike. */
enum err web_html_escape(struct buf *b, const char *s) MUST_CHECK;

/* Renders tmpl into out: each {{name}} becomes the escaped value of the first var of that
 * name in vars[0..n). ERR_INVALID (unknown is set to the name, which points into tmpl) for a
 * name that no var has, so a typo in a page fails its test instead of rendering blank.
 * Text that is not a well-formed {{name}} is copied as it is. */
enum err web_template(struct bytes tmpl, const struct web_var *vars, size_t n, struct buf *out,
                      struct bytes *unknown) MUST_CHECK;

#endif
