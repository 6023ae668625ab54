/* webaccount.h - the pages' account endpoints: signing a browser in and out (password and
 * second factor: the email code or a TOTP code), used by the OAuth authorize page and
 * /account; and /account itself: the apps an account authorized, the browsers signed in,
 * app passwords, TOTP on and off. Every JSON endpoint carries the page's CSRF token and
 * answers only for an account signed in on this browser (web/session.h). Handlers run on
 * HTTP worker threads with their request's state only; the route table is routes.c. */
#ifndef PDS_API_WEBACCOUNT_WEBACCOUNT_H
#define PDS_API_WEBACCOUNT_WEBACCOUNT_H

#include <jansson.h>

#include "http/router.h"
#include "http/xrpc.h"

extern const struct route_table api_webaccount_routes;

int api_web_sign_in(struct xrpc_req *rq);             /* POST /account/sign-in */
int api_web_sign_out(struct xrpc_req *rq);            /* POST /account/sign-out */
int api_web_account_page(struct xrpc_req *rq);        /* GET /account */
int api_web_account_sessions(struct xrpc_req *rq);    /* GET /account/sessions */
int api_web_account_data(struct xrpc_req *rq);        /* GET /account/data?did= */
int api_web_revoke_app(struct xrpc_req *rq);          /* POST /account/revoke-app */
int api_web_revoke_device(struct xrpc_req *rq);       /* POST /account/revoke-device */
int api_web_revoke_app_password(struct xrpc_req *rq); /* POST /account/revoke-app-password */
int api_web_totp_start(struct xrpc_req *rq);          /* POST /account/totp/start */
int api_web_totp_qr(struct xrpc_req *rq);             /* GET /account/totp/qr.svg?did= */
int api_web_totp_enable(struct xrpc_req *rq);         /* POST /account/totp/enable */
int api_web_totp_disable(struct xrpc_req *rq);        /* POST /account/totp/disable */

/* The shared preamble: page headers, the CSRF check, the JSON body (NULL for GET), and for
 * did (from the body or the query) a fresh sign-in on this browser: 401 LoginRequired
 * otherwise. 0 and *body / *did set, or the error set. */
int webaccount_begin(struct xrpc_req *rq, json_t **body, const char **did);

#endif
