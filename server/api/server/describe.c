/* describe.c - com.atproto.server.*: service description, and (later) accounts, sessions,
 * app passwords, invite codes and email flows. */
#include "api/server/server.h"

#include "config/config.h"

/* com.atproto.server.describeServer */
int api_server_describe_server(struct xrpc_req *rq)
{
    const struct config *cfg = rq->cfg;
    json_t *domains = json_array();
    for (size_t i = 0; i < cfg->handle_domains.len; i++) {
        json_array_append_new(domains, json_string(cfg->handle_domains.items[i]));
    }
    json_t *links = json_object();
    if (cfg->privacy_policy_url) {
        json_object_set_new(links, "privacyPolicy", json_string(cfg->privacy_policy_url));
    }
    if (cfg->terms_of_service_url) {
        json_object_set_new(links, "termsOfService", json_string(cfg->terms_of_service_url));
    }
    json_t *contact = json_object();
    if (cfg->contact_email_address) {
        json_object_set_new(contact, "email", json_string(cfg->contact_email_address));
    }
    json_t *body =
        json_pack("{s:s, s:o, s:b, s:b, s:o, s:o}", "did", cfg->service_did, "availableUserDomains",
                  domains, "inviteCodeRequired", cfg->invite_required, "phoneVerificationRequired",
                  0, "links", links, "contact", contact);
    /* the reference advertises PDS_BLOB_UPLOAD_LIMIT here (issue 4) */
    json_object_set_new(body, "blobUploadLimit", json_integer(cfg->blob_upload_limit));
    return xrpc_reply_json(rq, 200, body);
}
