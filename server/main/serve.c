/* serve.c - `pds serve`: configuration, database, HTTP server. */
#include <stdio.h>

#include "main/commands.h"

int cmd_serve(int argc, char **argv)
{
    fprintf(stderr, "pds serve: not built yet\n");
    return 1;
}
