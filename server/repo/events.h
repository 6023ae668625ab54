/* events.h - the bodies of the non-commit stream events (#identity, #account, #sync), as
 * stored in the outbox: DAG-CBOR maps without `seq`, which the sequencer adds when it
 * numbers them. The #commit body comes from writes.h. Pure; thread-safe. */
#ifndef PDS_REPO_EVENTS_H
#define PDS_REPO_EVENTS_H

#include "core/cid.h"

/* Account statuses of #account (spec: account hosting status). */
#define EVENT_STATUS_TAKENDOWN   "takendown"
#define EVENT_STATUS_SUSPENDED   "suspended"
#define EVENT_STATUS_DELETED     "deleted"
#define EVENT_STATUS_DEACTIVATED "deactivated"

/* #identity {did, time, handle?}: "re-resolve this DID". handle may be NULL. */
enum err events_identity(const char *did, const char *handle, int64_t now_ms,
                         struct buf *out) MUST_CHECK;
/* #account {did, time, active, status?}: status NULL when active. */
enum err events_account(const char *did, bool active, const char *status, int64_t now_ms,
                        struct buf *out) MUST_CHECK;
/* #sync {did, rev, time, blocks}: blocks is a CAR holding only the signed commit block. */
enum err events_sync(const char *did, const char *rev, const struct cid *commit,
                     struct bytes commit_block, int64_t now_ms, struct buf *out) MUST_CHECK;

#endif
