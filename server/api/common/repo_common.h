/* repo_common.h - what the repo and sync endpoints share: finding an account by DID or
 * handle with its hosting status, the availability rules of public reads, record values
 * as JSON, and record validation against the loaded lexicons. Request-scoped. */
#ifndef PDS_API_COMMON_REPO_COMMON_H
#define PDS_API_COMMON_REPO_COMMON_H

#include "core/dm.h"
#include "db/db.h"
#include "http/xrpc.h"

struct api_account {
    const char *did;
    const char *handle; /* NULL when none */
    bool deactivated;
    bool takendown;
};

/* Looks ident (a DID or a handle) up. 0 with *found; or the error status already set. */
int api_account_find(struct xrpc_req *rq, const char *ident, bool *found, struct api_account *out);
/* The one parameter that finds ident (a DID, else a normalised handle) for a statement that
 * selects the account by did or by handle (*by_did says which). 0 when ident is neither. */
int api_account_param(struct xrpc_req *rq, const char *ident, struct db_params *p, bool *by_did);

/* How a public read treats an account that is not active. Each is what the reference does
 * for the methods named (packages/pds/src/api/com/atproto/repo and sync):
 * - API_READ_ACTIVE: repo.getRecord, repo.listRecords. The reference looks the repo up with
 *   getDidForActor, which skips deactivated and taken-down accounts, and has no auth: an
 *   inactive account is answered as if it did not exist here (the caller words it).
 * - API_READ_PUBLIC: repo.describeRepo, assertRepoAvailability(isAdminOrSelf = false):
 *   400 RepoNotFound, RepoTakendown or RepoDeactivated for everyone, its owner too.
 * - API_READ_OWNER: sync.getRecord, getBlocks, getLatestCommit, getHead, getCheckout:
 *   assertRepoAvailability(isUserOrAdmin): as PUBLIC, except that the admin (Basic) or the
 *   account's own access token reads on. The token is checked first, as the reference's
 *   auth verifier runs before the handler: a bad one fails the call whatever the account.
 * - API_READ_OWNER_TAKENDOWN: sync.getRepo, getBlob, listBlobs: as OWNER, and a
 *   com.atproto.takendown token (a taken-down account's session) counts as the owner's.
 * - API_READ_STATUS: sync.getRepoStatus: any account that exists, RepoNotFound otherwise.
 * A deleted account has no row left: RepoNotFound (PUBLIC, OWNER*, STATUS). */
enum api_read {
    API_READ_ACTIVE,
    API_READ_PUBLIC,
    API_READ_OWNER,
    API_READ_OWNER_TAKENDOWN,
    API_READ_STATUS,
};

/* The one availability check of every public repository read. 0 with *out filled when the
 * read may go on; for API_READ_ACTIVE also 0 with out->did NULL when there is no active
 * account (the caller answers); otherwise the error status already set. */
int api_repo_available(struct xrpc_req *rq, const char *ident, enum api_read how,
                       struct api_account *out);

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
