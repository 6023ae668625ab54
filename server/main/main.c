/* main.c - the pds command: dispatches subcommands (version, keygen, serve, config-doc). */
#include <stdio.h>
#include <string.h>

#include "main/commands.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: pds <command>\n"
               "  serve     run the server (configuration from PDS_* environment variables)\n"
               "  keygen    print a new k256 private key (hex) and its did:key\n"
               "  config-doc  print the configuration reference (Markdown)\n"
               "  version   print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("pds %s\n", PDS_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "keygen") == 0) {
        return cmd_keygen(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "config-doc") == 0) {
        return cmd_config_doc(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "serve") == 0) {
        return cmd_serve(argc - 1, argv + 1);
    }
    fprintf(stderr, "pds: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return 2;
}
