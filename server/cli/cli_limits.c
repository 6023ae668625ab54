/* cli_limits.c - the rate limits in pdsadmin: the summary lines of `pdsadmin status`, and
 * `pdsadmin rate-limits`: every limit with its counts, the host's event budget and the
 * accounts held to their share, overload protection, and each relay's view of this host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char *s_of(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static long long i_of(json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static double f_of(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void print_budget(json_t *b)
{
    json_t *t = json_object_get(b, "target"), *u = json_object_get(b, "used");
    printf("Host budget:  %s; account limit %lld (%s): %lld/s, %lld/h, %lld/day;"
           " used %.1f in the last second, %.0f in the hour, %.0f in the day\n",
           json_is_true(json_object_get(b, "enforced")) ? "kept" : "counted, not enforced",
           i_of(b, "accountLimit"), s_of(b, "accountLimitSource"), i_of(t, "perSecond"),
           i_of(t, "perHour"), i_of(t, "perDay"), f_of(u, "second"), f_of(u, "hour"),
           f_of(u, "day"));
    json_t *share = json_object_get(b, "fairSharePerSecond");
    json_t *slowed = json_object_get(b, "slowedAccounts");
    if (json_is_number(share)) {
        printf("              fair share %.2f events/s; %zu account%s slowed\n",
               json_number_value(share), json_array_size(slowed),
               json_array_size(slowed) == 1 ? "" : "s");
    }
    size_t i;
    json_t *a;
    json_array_foreach(slowed, i, a)
    {
        printf("              slowed: %s asks %.2f/s, gets %.2f/s, %lld refused\n", s_of(a, "did"),
               f_of(a, "demandPerSecond"), f_of(a, "sharePerSecond"), i_of(a, "refused"));
    }
}

static void print_overload(json_t *o)
{
    json_t *in = json_object_get(o, "inFlight");
    printf("Overload:     %s; limit %.1f in flight (now %lld reads, %lld sign-ins, %lld writes,"
           " %lld bulk); database %.2f ms (baseline %.2f ms)%s\n",
           json_is_true(json_object_get(o, "enabled")) ? "on" : "off", f_of(o, "limit"),
           i_of(in, "read"), i_of(in, "auth"), i_of(in, "write"), i_of(in, "bulk"),
           f_of(o, "dbLatencyRecentMs"), f_of(o, "dbLatencyBaselineMs"),
           json_is_true(json_object_get(o, "congested")) ? ", congested" : "");
}

static void print_relays(json_t *relays)
{
    size_t i;
    json_t *r;
    json_array_foreach(relays, i, r)
    {
        json_t *a = json_object_get(r, "accounts");
        printf("Relay:        %s: %s", s_of(r, "url"),
               json_object_get(r, "status") ? s_of(r, "status") : "status unknown");
        if (json_object_get(r, "accountLimit")) {
            printf(", account limit %lld", i_of(r, "accountLimit"));
        }
        if (json_object_get(r, "error")) {
            printf(" (%s)", s_of(r, "error"));
        }
        printf("; %lld checked, %lld throttled, %lld behind, %lld not found, %lld repaired\n",
               i_of(a, "checked"), i_of(a, "throttled"), i_of(a, "behind"), i_of(a, "notFound"),
               i_of(a, "repairs"));
        for (const char *const *k = (const char *const[]){"warning", "hostWarning", NULL}; *k;
             k++) {
            if (json_object_get(r, *k)) {
                printf("              WARNING: %s\n", s_of(r, *k));
            }
        }
    }
}

void cli_print_limits_summary(json_t *rl)
{
    if (!json_is_object(rl)) {
        return;
    }
    json_t *refused = json_object_get(rl, "refused");
    long long total = 0;
    const char *k;
    json_t *v;
    json_object_foreach(refused, k, v)
    {
        total += (long long)json_integer_value(v);
    }
    printf("Rate limits:  %s; %lld refused request%s",
           json_is_true(json_object_get(rl, "enabled")) ? "on" : "off", total,
           total == 1 ? "" : "s");
    const char *sep = " (";
    json_object_foreach(refused, k, v)
    {
        printf("%s%s %lld", sep, k, (long long)json_integer_value(v));
        sep = ", ";
    }
    printf("%s\n", total ? ")" : "");
    print_budget(json_object_get(rl, "hostBudget"));
    print_overload(json_object_get(rl, "overload"));
    print_relays(json_object_get(rl, "relays"));
}

int cli_rate_limits(struct cli *c, int argc, char **argv)
{
    if (argc != 1) {
        cli_error("usage: pdsadmin rate-limits [--json]");
        return CLI_USAGE;
    }
    json_t *out = NULL;
    int rc = cli_xrpc(c, "_rateLimits", NULL, NULL, true, &out);
    if (rc != CLI_OK) {
        return rc;
    }
    if (c->json) {
        json_dumpf(out, stdout, JSON_INDENT(2));
        putchar('\n');
        json_decref(out);
        return CLI_OK;
    }
    printf("%-30s %9s %8s %9s %9s\n", "LIMIT", "POINTS", "WINDOW", "ADMITTED", "REFUSED");
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(out, "limits"), i, l)
    {
        char window[16] = "-", points[24] = "-";
        if (json_object_get(l, "points")) {
            long long w = i_of(l, "windowSeconds");
            if (w % 86400 == 0) {
                snprintf(window, sizeof window, "%lldd", w / 86400);
            } else if (w % 3600 == 0) {
                snprintf(window, sizeof window, "%lldh", w / 3600);
            } else if (w % 60 == 0) {
                snprintf(window, sizeof window, "%lldm", w / 60);
            } else {
                snprintf(window, sizeof window, "%llds", w);
            }
            snprintf(points, sizeof points, "%lld%s", i_of(l, "points"),
                     json_is_false(json_object_get(l, "enabled")) ? " off" : "");
        }
        printf("%-30s %9s %8s %9lld %9lld\n", s_of(l, "name"), points, window, i_of(l, "admitted"),
               i_of(l, "refused"));
    }
    printf("\n");
    print_budget(json_object_get(out, "hostBudget"));
    print_overload(json_object_get(out, "overload"));
    json_t *relays = json_object_get(out, "relays");
    print_relays(relays);
    json_t *r;
    json_array_foreach(relays, i, r)
    {
        size_t j;
        json_t *d;
        json_array_foreach(json_object_get(r, "throttledAccounts"), j, d)
        {
            printf("              throttled at %s: %s\n", s_of(r, "url"), json_string_value(d));
        }
        json_array_foreach(json_object_get(r, "behindAccounts"), j, d)
        {
            printf("              behind at %s: %s\n", s_of(r, "url"), json_string_value(d));
        }
    }
    json_decref(out);
    return CLI_OK;
}
