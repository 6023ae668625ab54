/* config_doc.c - `pds config-doc`: the configuration reference (Markdown) to stdout. */
#include <stdio.h>

#include "config/config.h"
#include "main/commands.h"

int cmd_config_doc(int argc, char **argv)
{
    config_write_doc(stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}
