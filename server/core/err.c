/* err.c - names of the result codes, for logs and test output. */
#include "core/err.h"

const char *err_str(enum err e)
{
    switch (e) {
    case ERR_OK:
        return "ok";
    case ERR_INVALID:
        return "invalid";
    case ERR_TOO_LARGE:
        return "too large";
    case ERR_NOT_FOUND:
        return "not found";
    case ERR_CONFLICT:
        return "conflict";
    case ERR_AUTH:
        return "authentication failed";
    case ERR_FORBIDDEN:
        return "forbidden";
    case ERR_RATE_LIMITED:
        return "rate limited";
    case ERR_UPSTREAM:
        return "upstream failure";
    case ERR_DB:
        return "database failure";
    case ERR_INTERNAL:
        return "internal error";
    case ERR_TRUNCATED:
        return "truncated";
    case ERR_UNSUPPORTED:
        return "unsupported";
    case ERR_MISSING:
        return "missing block";
    }
    return "unknown error";
}
