/* mig_lease.h - private to server/api/migrate: keeping the leases of the jobs this process
 * runs. One thread renews every held lease every few seconds on its own connection, so a
 * job stays ours while its worker waits on a long transfer, and stops being ours within
 * MIG_LEASE_MS of the process dying. A lease found lost (the job was cancelled, or taken
 * over after a stall) sets the job's stop flag. Thread-safe: a lock guards the table. */
#ifndef PDS_API_MIGRATE_MIG_LEASE_H
#define PDS_API_MIGRATE_MIG_LEASE_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/err.h"

/* Starts the renewing thread with its own connection to db_url. */
enum err mig_lease_start(const char *db_url) MUST_CHECK;
void mig_lease_stop(void);

/* Registers job id, leased to owner; stop is set if the lease is lost. Both pointers must
 * stay valid until mig_lease_drop. */
void mig_lease_hold(int64_t id, const char *owner, atomic_bool *stop);
void mig_lease_drop(int64_t id);

#endif
