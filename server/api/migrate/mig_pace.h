/* mig_pace.h - how fast a migration may talk to another host. One decision point,
 * mig_pace_interval_ms, says how long apart two requests to a host must be; today it is
 * the operator's PDS_MIGRATION_REQUESTS_PER_SECOND, and it is where a host budget from the
 * rate-limit work (our limits, and the relays' per-host budget for the events our imports
 * cause) will be consulted. Thread-safe: one lock around a small table of hosts. */
#ifndef PDS_API_MIGRATE_MIG_PACE_H
#define PDS_API_MIGRATE_MIG_PACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct config;

/* What a request is for, so the budget can tell them apart. */
enum mig_pace_kind {
    MIG_PACE_CALL, /* an XRPC call (JSON) */
    MIG_PACE_BLOB, /* a blob download or upload */
    MIG_PACE_REPO, /* a whole repository export or import */
};

/* Sets the configuration the pace is read from (before the workers start). */
void mig_pace_init(const struct config *cfg);

/* Milliseconds that must separate two requests of this kind to host (a base URL); 0 means
 * no pacing. The one place the pace is decided. */
int64_t mig_pace_interval_ms(const char *host, enum mig_pace_kind kind);

/* Waits until a request of this kind to host may go, and books its slot. Returns early
 * (false) when *stop becomes true; stop may be NULL. */
bool mig_pace_wait(const char *host, enum mig_pace_kind kind, const atomic_bool *stop);

/* Sleeps ms milliseconds in short naps, returning false early when *stop becomes true. */
bool mig_sleep_ms(int64_t ms, const atomic_bool *stop);

#endif
