/* test_proxy_header.c - atproto-proxy header syntax (the reference's parseProxyHeader
 * messages) and the PROTECTED / PRIVILEGED method lists of service auth and proxying. */
#include "unit/test.h"

#include "api/proxy/proxy.h"
#include "api/server/service_auth.h"

static void test_proxy_header_parse(void)
{
    char did[PROXY_DID_MAX], svc[PROXY_SERVICE_MAX];
    CHECK(api_proxy_parse_header("did:web:api.bsky.app#bsky_appview", did, svc) == NULL);
    CHECK_STR(did, "did:web:api.bsky.app");
    CHECK_STR(svc, "bsky_appview");
    CHECK(api_proxy_parse_header("did:plc:abc#atproto_labeler", did, svc) == NULL);
    CHECK_STR(svc, "atproto_labeler");
    static const struct {
        const char *value, *why;
    } bad[] = {
        {"#svc", "no did specified in proxy header"},
        {"did:web:x", "no service id specified in proxy header"},
        {"did:web:x#", "no service id specified in proxy header"},
        {"did:web:x#a#b", "invalid proxy header format"},
        {"did:web:x #a", "proxy header cannot contain spaces"},
        {"did:web:x#a b", "proxy header cannot contain spaces"},
        {"", "no service id specified in proxy header"},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        CHECK_STR(api_proxy_parse_header(bad[i].value, did, svc), bad[i].why);
    }
    char huge[PROXY_DID_MAX + 16];
    memset(huge, 'a', sizeof huge);
    huge[sizeof huge - 3] = '#';
    huge[sizeof huge - 2] = 'x';
    huge[sizeof huge - 1] = '\0';
    CHECK_STR(api_proxy_parse_header(huge, did, svc), "invalid proxy header format");
}

static void test_lxm_lists(void)
{
    CHECK(api_lxm_is_protected("com.atproto.server.getSession"));
    CHECK(api_lxm_is_protected("com.atproto.SERVER.getsession")); /* case-insensitive */
    CHECK(api_lxm_is_protected("com.atproto.identity.signPlcOperation"));
    CHECK(!api_lxm_is_protected("com.atproto.server.createSession"));
    CHECK(!api_lxm_is_protected(NULL));
    CHECK(api_lxm_is_privileged("chat.bsky.convo.sendMessage"));
    CHECK(api_lxm_is_privileged("com.atproto.server.createAccount"));
    CHECK(!api_lxm_is_privileged("app.bsky.feed.getTimeline"));
}

int main(void)
{
    RUN(test_proxy_header_parse);
    RUN(test_lxm_lists);
    return test_report();
}
