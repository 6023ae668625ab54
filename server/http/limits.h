/* limits.h - starting and stopping the limiters together (rate limits, the host's event
 * budget, overload protection) and their background thread: once a second it settles the
 * host budget's pool and shares and flushes the refusal counts; once a minute it sweeps
 * expired counters. The thread has its own database connection. Start and stop from the
 * main thread, before and after the HTTP server. */
#ifndef PDS_HTTP_LIMITS_H
#define PDS_HTTP_LIMITS_H

#include <stddef.h>

#include "core/err.h"

struct config;

#define LIMITS_SWEEP_EVERY_MS (60 * 1000)

/* ERR_INVALID with a reason (naming the variable) in why for a bad PDS_RATE_LIMITS or
 * bypass list; ERR_INTERNAL when the thread cannot start. db_url NULL: no thread (tests). */
enum err limits_start(const struct config *cfg, const char *db_url, char *why,
                      size_t why_len) MUST_CHECK;
/* Joins the thread, gives this process's unused budget back, flushes counts. Idempotent. */
void limits_stop(void);

#endif
