/* html.c - HTML escaping and {{name}} templates. */
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

/* Length of the name of a well-formed "{{name}}" at t[i..), or 0. */
static size_t tag_at(struct bytes t, size_t i)
{
    if (i + 4 > t.len || t.ptr[i] != '{' || t.ptr[i + 1] != '{') {
        return 0;
    }
    size_t k = i + 2;
    while (k < t.len && k - (i + 2) < WEB_VAR_NAME_MAX && name_char(t.ptr[k])) {
        k++;
    }
    size_t len = k - (i + 2);
    if (len == 0 || k + 1 >= t.len || t.ptr[k] != '}' || t.ptr[k + 1] != '}') {
        return 0;
    }
    return len;
}

enum err web_template(struct bytes tmpl, const struct web_var *vars, size_t n, struct buf *out,
                      struct bytes *unknown)
{
    *unknown = (struct bytes){NULL, 0};
    size_t i = 0, copied = 0;
    while (i < tmpl.len) {
        size_t len = tag_at(tmpl, i);
        if (!len) {
            i++;
            continue;
        }
        struct bytes name = {tmpl.ptr + i + 2, len};
        const struct web_var *v = NULL;
        for (size_t k = 0; k < n && !v; k++) {
            if (bytes_eq(bytes_str(vars[k].name), name)) {
                v = &vars[k];
            }
        }
        if (!v) {
            *unknown = name;
            return ERR_INVALID;
        }
        enum err e = buf_append(out, tmpl.ptr + copied, i - copied);
        if (!e) {
            e = web_html_escape(out, v->value);
        }
        if (e) {
            return e;
        }
        i += len + 4;
        copied = i;
    }
    return buf_append(out, tmpl.ptr + copied, tmpl.len - copied);
}
