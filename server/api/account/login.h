/* login.h - finding the account a sign-in names (createSession, the sign-in pages): by
 * email, DID or handle, as the reference reads identifiers. Request-scoped; thread-safe. */
#ifndef PDS_API_ACCOUNT_LOGIN_H
#define PDS_API_ACCOUNT_LOGIN_H

#include <stdbool.h>

#include "http/xrpc.h"

struct account_login {
    const char *did;
    const char *password_hash; /* NULL: the account has no password */
    bool takendown;
    bool deactivated;
};

/* The account identifier names: an email (has '@'), a DID or a handle, lower-cased as the
 * reference does. *found false when none. 0, or 500 set. */
int account_login_lookup(struct xrpc_req *rq, const char *identifier, bool *found,
                         struct account_login *out);

#endif
