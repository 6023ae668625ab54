/* err.h - the one result type of every fallible function in the server.
 * Codes are only ever appended (curl's rule): a retired code stays, renamed ERR_OBSOLETE_n. */
#ifndef PDS_CORE_ERR_H
#define PDS_CORE_ERR_H

#define MUST_CHECK        __attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_LEN(a)      (sizeof(a) / sizeof((a)[0]))

enum err {
    ERR_OK = 0,
    ERR_INVALID,      /* input is malformed or breaks a rule */
    ERR_TOO_LARGE,    /* input or output passes a named limit */
    ERR_NOT_FOUND,    /* the thing asked for does not exist */
    ERR_CONFLICT,     /* a precondition (swap, uniqueness) did not hold */
    ERR_AUTH,         /* missing or bad credentials */
    ERR_FORBIDDEN,    /* credentials fine, action not allowed */
    ERR_RATE_LIMITED, /* over a rate limit */
    ERR_UPSTREAM,     /* a remote service failed or answered badly */
    ERR_DB,           /* the database failed */
    ERR_INTERNAL,     /* a bug or a resource failure of ours */
    ERR_TRUNCATED,    /* input ended early: more bytes may complete it */
    ERR_UNSUPPORTED,  /* well-formed but not something we accept (e.g. a codec) */
    ERR_MISSING,      /* a block the operation needs is not in the store (never stored, or
                         collected after a concurrent commit: re-read the root and retry) */
};

/* Returns a short lower-case name for logs and tests ("invalid", "too large"). */
const char *err_str(enum err e);

#endif
