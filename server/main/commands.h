/* commands.h - the pds subcommands, one file each. Each returns the process exit code. */
#ifndef PDS_MAIN_COMMANDS_H
#define PDS_MAIN_COMMANDS_H

int cmd_keygen(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_config_doc(int argc, char **argv); /* config.c: docs/configuration.md to stdout */

#endif
