/* repo_common.h - what the repo and sync endpoints share: finding an account by DID or
 * handle with its hosting status, the availability rules of public reads, record values
 * as JSON, and record validation against the loaded lexicons. Request-scoped. */
#ifndef PDS_API_COMMON_REPO_COMMON_H
#define PDS_API_COMMON_REPO_COMMON_H

#include "core/dm.h"
#include "http/xrpc.h"

struct api_account {
    const char *did;
    const char *handle; /* NULL when none */
    bool deactivated;
    bool takendown;
};

/* Looks ident (a DID or a handle) up. 0 with *found; or the error status already set. */
int api_account_find(struct xrpc_req *rq, const char *ident, bool *found, struct api_account *out);

/* Public repository reads (the reference's assertRepoAvailability): 400 RepoNotFound,
 * RepoTakendown or RepoDeactivated, unless the caller is the admin or the account itself. */
int api_repo_available(struct xrpc_req *rq, const char *ident, struct api_account *out);

/* A record block as its JSON value (links as $link, bytes as $bytes); NULL if not CBOR. */
json_t *api_record_json(struct arena *a, struct bytes cbor);

/* The #commit-independent record checks of create/put: collection NSID, rkey syntax and
 * the lexicon's key type, $type, and lexicon validation (validate: -1 absent, 0, 1) against
 * app_get()->lexicons. *status gets "valid", "unknown" (absent: no schema for the
 * collection) or NULL (validate 0: no status). 0 or the error status already set. */
int api_record_check(struct xrpc_req *rq, const char *collection, const char *rkey,
                     struct dm_value *record, int validate, const char **status);

/* The status JSON of a repository for getRepoStatus / listRepos. */
const char *api_account_status(const struct api_account *acct); /* NULL when active */

#endif
