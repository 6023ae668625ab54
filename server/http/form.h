/* form.h - application/x-www-form-urlencoded text (a query string, or a form body such as an
 * OAuth PAR or token request) split into name/value pairs, decoded as URLSearchParams reads
 * them ("+" is a space, %XX a byte). Pure; allocates from the caller's arena. */
#ifndef PDS_HTTP_FORM_H
#define PDS_HTTP_FORM_H

#include <stddef.h>

#include "core/arena.h"
#include "core/bytes.h"
#include "core/err.h"
#include "http/xrpc.h"

/* Splits text on '&' into at most max pairs (*out an arena array, *n the count; empty pieces
 * skipped). ERR_TOO_LARGE past max pairs; ERR_INVALID when a name or value decodes to a NUL
 * byte (a value cut at the NUL would be read as something else than was sent). */
enum err form_parse(struct arena *a, struct bytes text, size_t max, struct xrpc_param **out,
                    size_t *n) MUST_CHECK;

/* The first value of name among n pairs, NULL when absent. */
const char *form_get(const struct xrpc_param *p, size_t n, const char *name);

#endif
