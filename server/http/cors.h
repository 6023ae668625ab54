/* cors.h - CORS headers on every response and the answer to preflight (OPTIONS) requests:
 * any origin may call the API, as with the reference PDS. Pure; thread-safe. */
#ifndef PDS_HTTP_CORS_H
#define PDS_HTTP_CORS_H

struct MHD_Response;

#define CORS_MAX_AGE_S 86400 /* browsers may cache a preflight answer for a day */

/* Adds Access-Control-Allow-Origin and -Expose-Headers to r. */
void cors_add(struct MHD_Response *r);

/* Adds the preflight headers to r (an empty 204 response): allowed methods, and allowed
 * headers (the request's Access-Control-Request-Headers when given, else our list). */
void cors_add_preflight(struct MHD_Response *r, const char *requested_headers);

#endif
