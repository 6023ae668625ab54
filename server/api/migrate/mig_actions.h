/* mig_actions.h - private to server/api/migrate: what a user (through a page) or an
 * operator (through the admin API) may do to a job once the caller is known to be allowed:
 * confirm the plan, ask for the PLC code, give it, retry, cancel. Each sets the XRPC
 * response itself (the job as JSON, or an error in plain words) and returns its status.
 * Request-scoped. */
#ifndef PDS_API_MIGRATE_MIG_ACTIONS_H
#define PDS_API_MIGRATE_MIG_ACTIONS_H

#include "http/xrpc.h"

/* GET: the job's state for its page. */
int mig_action_status(struct xrpc_req *rq, int64_t id);
/* Body {handle, inviteCode?}: the user's choices; the job goes on. */
int mig_action_confirm(struct xrpc_req *rq, int64_t id);
/* Asks the old host to email the PLC code. */
int mig_action_request_token(struct xrpc_req *rq, int64_t id);
/* Body {token, rotationKey?}: the emailed code and an optional user-held rotation key
 * (a did:key: the private key never leaves the browser). */
int mig_action_plc(struct xrpc_req *rq, int64_t id);
/* Body {from?}: runs a failed job again, from step `from` (import_repo or blobs) if given. */
int mig_action_retry(struct xrpc_req *rq, int64_t id);
/* Stops the job before the identity moves: the old account is left as it was, the
 * unfinished copy here is deleted and the credentials are erased. */
int mig_action_cancel(struct xrpc_req *rq, int64_t id);

/* A new random job token for a page (MIG_ACCESS_TOKEN_LEN characters and a NUL). */
void mig_new_access_token(char out[64]);

/* Normalises a PDS base URL typed by a user or operator: http(s)://host[:port] without a
 * path, lower-cased host; https unless outbound fetches may reach private hosts
 * (PDS_DISABLE_SSRF_PROTECTION / dev mode). NULL (a message in why) when it is not one. */
char *mig_normalize_url(struct xrpc_req *rq, const char *url, char *why, size_t why_len);

#endif
