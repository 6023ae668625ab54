/* cli_common.c - the small helpers every pdsadmin command uses: errors, prompts, random
 * passwords, option parsing. Needs nothing else of the program, so every file may use it. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define PROMPT_LINE_MAX 1024

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pdsadmin: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_random_password(char out[CLI_PASSWORD_CHARS + 1])
{
    /* 62 symbols; bytes at or above 248 (= 4 * 62) are redrawn so every symbol is equally
     * likely: about 143 bits for 24 characters */
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t filled = 0;
    while (filled < CLI_PASSWORD_CHARS) {
        unsigned char r[64];
        ssize_t n = getrandom(r, sizeof(r), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            abort(); /* no kernel randomness: nothing safe to do */
        }
        for (ssize_t i = 0; i < n && filled < CLI_PASSWORD_CHARS; i++) {
            if (r[i] < 248) {
                out[filled++] = alphabet[r[i] % 62];
            }
        }
        explicit_bzero(r, sizeof(r));
    }
    out[CLI_PASSWORD_CHARS] = '\0';
}

char *cli_prompt(const char *prompt)
{
    fputs(prompt, stderr);
    fflush(stderr);
    char line[PROMPT_LINE_MAX];
    if (!fgets(line, sizeof(line), stdin)) {
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return xstrndup(line, strlen(line));
}

bool cli_confirm(const char *question)
{
    char *answer = cli_prompt(question);
    bool yes = answer &&
               (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0);
    free(answer);
    return yes;
}

static void remove_arg(int *argc, char **argv, int i, int count)
{
    for (int k = i; k + count <= *argc; k++) {
        argv[k] = argv[k + count];
    }
    *argc -= count;
}

bool cli_take_flag(int *argc, char **argv, const char *name)
{
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            remove_arg(argc, argv, i, 1);
            return true;
        }
    }
    return false;
}

int cli_take_option(int *argc, char **argv, const char *name, const char **value)
{
    *value = NULL;
    size_t n = strlen(name);
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], name) == 0) {
            if (i + 1 >= *argc) {
                cli_error("%s needs a value", name);
                return CLI_USAGE;
            }
            *value = argv[i + 1];
            remove_arg(argc, argv, i, 2);
            return CLI_OK;
        }
        if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=') {
            *value = argv[i] + n + 1;
            remove_arg(argc, argv, i, 1);
            return CLI_OK;
        }
    }
    return CLI_OK;
}
