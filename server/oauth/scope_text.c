/* scope_text.c - permissions in plain words. */
#include "oauth/scope_text.h"

#include <stdio.h>
#include <string.h>

#include "oauth/scope.h"

static const char *list_text(struct arena *a, const struct scope_list *l, const char *all)
{
    if (l->any_wildcard) {
        return all;
    }
    size_t n = 1;
    for (size_t i = 0; i < l->n; i++) {
        n += l->items[i].len + 2;
    }
    char *s = arena_alloc(a, n), *o = s;
    for (size_t i = 0; i < l->n; i++) {
        if (i) {
            *o++ = ',';
            *o++ = ' ';
        }
        memcpy(o, l->items[i].ptr, l->items[i].len);
        o += l->items[i].len;
    }
    *o = '\0';
    return s;
}

static const char *fmt(struct arena *a, const char *f, const char *x, const char *y)
{
    size_t n = strlen(f) + strlen(x) + (y ? strlen(y) : 0) + 1;
    char *s = arena_alloc(a, n);
    snprintf(s, n, f, x, y ? y : "");
    return s;
}

static const char *actions_text(unsigned acts)
{
    switch (acts) {
    case SCOPE_REPO_CREATE:
        return "Create";
    case SCOPE_REPO_UPDATE:
        return "Update";
    case SCOPE_REPO_DELETE:
        return "Delete";
    case SCOPE_REPO_CREATE | SCOPE_REPO_UPDATE:
        return "Create and update";
    case SCOPE_REPO_CREATE | SCOPE_REPO_DELETE:
        return "Create and delete";
    case SCOPE_REPO_UPDATE | SCOPE_REPO_DELETE:
        return "Update and delete";
    default:
        return "Create, update and delete";
    }
}

/* Title and detail of one granular permission. */
static void granular(struct arena *a, const struct scope_perm *p, const char **title,
                     const char **detail)
{
    switch (p->kind) {
    case SCOPE_REPO:
        *title = fmt(a, "%s records: %s", actions_text(p->repo.actions),
                     list_text(a, &p->repo.collection, "any kind"));
        *detail = "Changes the public data of your account (posts, likes, follows, profile...) "
                  "of these kinds. Everything in your repository is public.";
        break;
    case SCOPE_BLOB:
        *title = fmt(a, "Upload files: %s%s", list_text(a, &p->blob.accept, "any type"), NULL);
        *detail = "Uploads images, videos or other files to your account for use in records.";
        break;
    case SCOPE_RPC:
        *title = fmt(a, "Call %s on %s", list_text(a, &p->rpc.lxm, "any method"),
                     p->rpc.aud.len == 1 && p->rpc.aud.ptr[0] == '*'
                         ? "any service"
                         : arena_strndup(a, (const char *)p->rpc.aud.ptr, p->rpc.aud.len));
        *detail = "Makes requests to other services in your name, through this server.";
        break;
    case SCOPE_ACCOUNT:
        if (p->account.attr == SCOPE_ACCOUNT_EMAIL) {
            *title = p->account.action == SCOPE_ACCOUNT_MANAGE ? "See and change your email address"
                                                               : "See your email address";
            *detail = "Your email address is private: only apps you allow can see it.";
        } else {
            *title = p->account.action == SCOPE_ACCOUNT_MANAGE ? "Import a repository"
                                                               : "Read your repository status";
            *detail = "Replaces or adds to the data of your account from an export, as when "
                      "moving to this server.";
        }
        break;
    case SCOPE_IDENTITY:
        if (p->identity.attr == SCOPE_IDENTITY_HANDLE) {
            *title = "Change your handle";
            *detail = "Changes the name (like @alice.example.com) people find you by.";
        } else {
            *title = "Control your identity";
            *detail = "Changes your handle, your DID document and the keys and server it names: "
                      "an app with this can move or take over your account.";
        }
        break;
    default:
        *title = "A permission set";
        *detail = "A group of permissions defined by the app's publisher.";
        break;
    }
}

json_t *scope_text_list(struct arena *a, const char *scope)
{
    json_t *out = json_array();
    for (const char *p = scope ? scope : ""; *p;) {
        size_t len = strcspn(p, " ");
        const char *v = arena_strndup(a, p, len);
        p += len;
        p += strspn(p, " ");
        if (!len) {
            continue;
        }
        const char *title = NULL, *detail = NULL;
        bool required = false;
        struct scope_perm perm;
        if (strcmp(v, "atproto") == 0) {
            title = "Know who you are";
            detail = "Your account's DID and handle: always shared with an app you sign in to.";
            required = true;
        } else if (strcmp(v, "transition:generic") == 0) {
            title = "Act on your behalf, as an app password can";
            detail = "Post, like, follow, upload media and read your private data (preferences, "
                     "notifications) through other services. Not your chats, email or "
                     "account settings.";
        } else if (strcmp(v, "transition:chat.bsky") == 0) {
            title = "Read and send your chat messages";
            detail = "Your direct messages on Bluesky chat (needs \"Act on your behalf\").";
        } else if (strcmp(v, "transition:email") == 0) {
            title = "See your email address";
            detail = "Your email address and whether it is confirmed.";
        } else if (scope_perm_parse(a, bytes_str(v), &perm) == ERR_OK) {
            granular(a, &perm, &title, &detail);
        } else {
            continue; /* not a scope: grants nothing, so nothing to ask about */
        }
        json_array_append_new(out, json_pack("{s:s,s:s,s:s,s:b}", "scope", v, "title", title,
                                             "detail", detail, "required", required));
    }
    return out;
}
