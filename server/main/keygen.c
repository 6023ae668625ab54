/* keygen.c - `pds keygen`: a new k256 key for PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX. */
#include <stdio.h>

#include "main/commands.h"

int cmd_keygen(int argc, char **argv)
{
    fprintf(stderr, "pds keygen: not built yet\n");
    return 1;
}
