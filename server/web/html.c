/* html.c - HTML escaping and {{name}} / {{> path}} templates. */
#include "web/html.h"

#include <string.h>

enum err web_html_escape(struct buf *b, const char *s)
{
    if (!s) {
        return ERR_OK;
    }
    for (const char *p = s; *p; p++) {
        const char *rep = NULL;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&#39;";
            break;
        default:
            break;
        }
        enum err e = rep ? buf_append_str(b, rep) : buf_append_byte(b, (uint8_t)*p);
        if (e) {
            return e;
        }
    }
    return ERR_OK;
}

static bool name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool path_char(uint8_t c)
{
    return name_char(c) || c == '.' || c == '/' || c == '-';
}

/* The tag at t[i..): "{{" + prefix + at most max characters that pass ok + "}}". Its inner
 * text (prefix included) in *inner and its whole length returned; 0 when there is none. */
static size_t tag_at(struct bytes t, size_t i, const char *prefix, bool (*ok)(uint8_t), size_t max,
                     struct bytes *inner)
{
    size_t pn = strlen(prefix);
    if (i + 4 + pn > t.len || t.ptr[i] != '{' || t.ptr[i + 1] != '{' ||
        memcmp(t.ptr + i + 2, prefix, pn) != 0) {
        return 0;
    }
    size_t from = i + 2 + pn, k = from;
    while (k < t.len && k - from < max && ok(t.ptr[k])) {
        k++;
    }
    if (k == from || k + 1 >= t.len || t.ptr[k] != '}' || t.ptr[k + 1] != '}') {
        return 0;
    }
    *inner = (struct bytes){t.ptr + i + 2, k - (i + 2)};
    return k + 2 - i;
}

struct render {
    const struct web_var *vars;
    size_t n;
    const struct embedded_file *files;
    size_t nfiles;
    struct buf *out;
    struct bytes *unknown;
};

static const struct web_var *var_named(const struct render *r, struct bytes name)
{
    for (size_t k = 0; k < r->n; k++) {
        if (bytes_eq(bytes_str(r->vars[k].name), name)) {
            return &r->vars[k];
        }
    }
    return NULL;
}

/* tag is "> path" */
static const struct embedded_file *file_named(const struct render *r, struct bytes tag)
{
    char path[WEB_INCLUDE_PATH_MAX + 1];
    memcpy(path, tag.ptr + 2, tag.len - 2); /* tag_at bounds it by WEB_INCLUDE_PATH_MAX */
    path[tag.len - 2] = '\0';
    return r->files ? embedded_find(r->files, r->nfiles, path) : NULL;
}

static enum err render(const struct render *r, struct bytes tmpl, int depth)
{
    size_t i = 0, copied = 0;
    while (i < tmpl.len) {
        struct bytes tag;
        size_t len = tag_at(tmpl, i, "", name_char, WEB_VAR_NAME_MAX, &tag);
        bool include = false;
        if (!len) {
            len = tag_at(tmpl, i, "> ", path_char, WEB_INCLUDE_PATH_MAX, &tag);
            include = len > 0;
        }
        if (!len) {
            i++;
            continue;
        }
        const struct web_var *v = include ? NULL : var_named(r, tag);
        const struct embedded_file *f = include ? file_named(r, tag) : NULL;
        if (!v && !f) {
            *r->unknown = tag;
            return ERR_INVALID;
        }
        if (f && depth == WEB_INCLUDE_DEPTH_MAX) {
            *r->unknown = tag;
            return ERR_TOO_LARGE;
        }
        enum err e = buf_append(r->out, tmpl.ptr + copied, i - copied);
        if (!e) {
            e = f ? render(r, bytes_of(f->data, f->len), depth + 1)
                  : web_html_escape(r->out, v->value);
        }
        if (e) {
            return e;
        }
        i += len;
        copied = i;
    }
    return buf_append(r->out, tmpl.ptr + copied, tmpl.len - copied);
}

enum err web_template(struct bytes tmpl, const struct web_var *vars, size_t n,
                      const struct embedded_file *files, size_t nfiles, struct buf *out,
                      struct bytes *unknown)
{
    *unknown = (struct bytes){NULL, 0};
    const struct render r = {vars, n, files, nfiles, out, unknown};
    return render(&r, tmpl, 0);
}
