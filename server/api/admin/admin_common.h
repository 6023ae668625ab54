/* admin_common.h - what the com.atproto.admin.* handlers share: SQL text for the lexicon's
 * views (com.atproto.admin.defs#accountView, com.atproto.server.defs#inviteCode), built as
 * JSON by PostgreSQL, and array parameters. Request-scoped helpers; thread-safe. */
#ifndef PDS_API_ADMIN_ADMIN_COMMON_H
#define PDS_API_ADMIN_ADMIN_COMMON_H

#include "http/xrpc.h"

/* A timestamptz column as the reference prints datetimes: "2024-05-01T12:00:00.123Z". */
#define ADMIN_SQL_TIME(col)                                                                        \
    "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* clang-format off */
/* The uses of the invite_code row aliased c, newest first, as a JSON array. */
#define ADMIN_SQL_INVITE_USES \
    "coalesce((SELECT json_agg(json_build_object('usedBy', u.used_by, 'usedAt', " \
    ADMIN_SQL_TIME("u.used_at") ") ORDER BY u.used_at DESC, u.used_by)" \
    " FROM invite_code_use u WHERE u.code = c.code), '[]'::json)"

/* com.atproto.server.defs#inviteCode of the invite_code row aliased c. */
#define ADMIN_SQL_INVITE_VIEW \
    "json_build_object('code', c.code, 'available', c.available_uses, 'disabled', c.disabled," \
    " 'forAccount', c.for_account, 'createdBy', c.created_by," \
    " 'createdAt', " ADMIN_SQL_TIME("c.created_at") ", 'uses', " ADMIN_SQL_INVITE_USES ")"

/* com.atproto.admin.defs#accountView of the account row aliased a, as text, with two fields
 * of ours: repoBytes and blobBytes (the account's stored repository blocks and permanent
 * blobs). NULL fields are left out, as the lexicon wants. */
#define ADMIN_SQL_ACCOUNT_VIEW \
    "json_strip_nulls(json_build_object('did', a.did," \
    " 'handle', coalesce(a.handle, 'handle.invalid'), 'email', a.email," \
    " 'indexedAt', " ADMIN_SQL_TIME("a.created_at") "," \
    " 'emailConfirmedAt', " ADMIN_SQL_TIME("a.email_confirmed_at") "," \
    " 'deactivatedAt', " ADMIN_SQL_TIME("a.deactivated_at") "," \
    " 'invitesDisabled', a.invites_disabled, 'repoBytes', a.repo_bytes," \
    " 'blobBytes', a.blob_bytes," \
    " 'invites', coalesce((SELECT json_agg(" ADMIN_SQL_INVITE_VIEW \
    " ORDER BY c.created_at DESC, c.code) FROM invite_code c WHERE c.for_account = a.did)," \
    " '[]'::json)," \
    " 'invitedBy', (SELECT " ADMIN_SQL_INVITE_VIEW " FROM invite_code c" \
    " JOIN invite_code_use iu ON iu.code = c.code WHERE iu.used_by = a.did" \
    " ORDER BY iu.used_at LIMIT 1)))::text"
/* clang-format on */

/* Adds a text[] parameter (binary array) holding items[0..n) to p; its storage lives in
 * rq->arena. */
void admin_param_text_array(struct xrpc_req *rq, struct db_params *p, const char *const *items,
                            size_t n);

/* Parses a JSON text that PostgreSQL produced; NULL (logged) if it is not JSON. */
json_t *admin_json_column(struct xrpc_req *rq, const char *text);

/* The JSON documents in the first column of the first max rows of r (every row when max is
 * negative), as one array; NULL if one does not parse (logged; the caller answers 500). */
json_t *admin_json_rows(struct xrpc_req *rq, const PGresult *r, int max);

/* 0 with *found telling whether an account row for did exists; or 500 already set. */
int admin_account_exists(struct xrpc_req *rq, const char *did, bool *found);

/* The takedown reference to store for a statusAttr {applied, ref?}: NULL to lift a
 * takedown; ref when given; else the current time in the datetime format (as the
 * reference). 400 (set) when the object is malformed; else 0. */
int admin_takedown_ref(struct xrpc_req *rq, json_t *status, bool *applied, const char **ref);

#endif
