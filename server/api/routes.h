/* routes.h - the program's whole route set: every API group's table (server/api/<group>/
 * routes.c) and the proxy as the fallback for NSIDs none of them serves. */
#ifndef PDS_API_ROUTES_H
#define PDS_API_ROUTES_H

#include "http/router.h"

/* Installs every table with router_install. Call once before http_server_start. */
void api_routes_install(void);

/* Every table, for tests and docs; *n gets the count. */
const struct route_table *const *api_route_tables(size_t *n);

#endif
