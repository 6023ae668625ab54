/* html.h - the one place where text becomes HTML: escaping, and the tiny template language
 * of the pages in admin-ui/ ({{name}} is replaced by the escaped value of name; there is no
 * way to insert unescaped text; {{> path}} inserts another template, so pages share their
 * heads). Pure; thread-safe. */
#ifndef PDS_WEB_HTML_H
#define PDS_WEB_HTML_H

#include <stddef.h>

#include "core/bytes.h"
#include "core/embedded.h"
#include "core/err.h"

#define WEB_VAR_NAME_MAX 48 /* {{name}}: [a-z0-9_], at most this many characters */
/* {{> path}}: [a-z0-9_./-], at most this many characters */
#define WEB_INCLUDE_PATH_MAX 64
/* templates inside templates: a page, its area's frame, the common head, and one to spare */
#define WEB_INCLUDE_DEPTH_MAX 4

struct web_var {
    const char *name;
    const char *value; /* NULL renders as empty */
};

/* Appends s with & < > " ' escaped, so the result is safe in element text and in quoted
 * attribute values alike. */
enum err web_html_escape(struct buf *b, const char *s) MUST_CHECK;

/* Renders tmpl into out: each {{name}} becomes the escaped value of the first var of that
 * name in vars[0..n); each {{> path}} (one space after the '>') becomes the file of that
 * path in files[0..nfiles) (sorted by path, as embedded tables are; paths are from the
 * table's root, not from the including file), itself rendered with the same vars, so what
 * it holds is escaped by the same rules. Text that is not a well-formed tag is copied as it
 * is. Errors name the tag in *unknown (pointing into the template that holds it: "name", or
 * "> path" for an include), so a typo in a page fails its test instead of rendering blank:
 * ERR_INVALID for a name no var has or a path no file has; ERR_TOO_LARGE for includes
 * nested deeper than WEB_INCLUDE_DEPTH_MAX (a file including itself), or, with *unknown
 * empty, for out passing its maximum. */
enum err web_template(struct bytes tmpl, const struct web_var *vars, size_t n,
                      const struct embedded_file *files, size_t nfiles, struct buf *out,
                      struct bytes *unknown) MUST_CHECK;

#endif
