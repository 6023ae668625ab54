/* runner.c - runs every interop suite and fails unless every vector file was read and
 * every case passed. */
#include "interop.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define INTEROP_MAX_FILE_BYTES (16u << 20) /* the largest vector file is a few hundred KB */

/* Suites are weak so the runner links while a suite is missing, and says so. */
#pragma weak interop_syntax
#pragma weak interop_crypto
#pragma weak interop_data_model
#pragma weak interop_mst
#pragma weak interop_firehose
#pragma weak interop_car
#pragma weak interop_lexicon
#pragma weak interop_permission

char *interop_read(struct interop *t, const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        interop_case(t, false, rel, "cannot open %s", path);
        return NULL;
    }
    struct buf b;
    buf_init(&b, INTEROP_MAX_FILE_BYTES);
    uint8_t chunk[65536];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_append(&b, chunk, n)) {
            ok = false;
            break;
        }
    }
    fclose(f);
    if (!ok) {
        buf_clear(&b);
        interop_case(t, false, rel, "file too large");
        return NULL;
    }
    bool seen = false;
    for (size_t i = 0; i < t->nread; i++) {
        seen = seen || strcmp(t->read[i], rel) == 0;
    }
    if (!seen) {
        t->read = xrealloc(t->read, (t->nread + 1) * sizeof(*t->read));
        t->read[t->nread++] = xstrndup(rel, strlen(rel));
        t->files++;
    }
    return (char *)buf_take(&b, len);
}

json_t *interop_json(struct interop *t, const char *rel)
{
    size_t len;
    char *text = interop_read(t, rel, &len);
    if (!text) {
        return NULL;
    }
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    free(text);
    if (!j) {
        interop_case(t, false, rel, "bad JSON: %s", jerr.text);
    }
    return j;
}

long interop_lines(struct interop *t, const char *rel,
                   void (*fn)(struct interop *t, struct bytes line, void *ctx), void *ctx)
{
    size_t len;
    char *text = interop_read(t, rel, &len);
    if (!text) {
        return 0;
    }
    long count = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            struct bytes line = {(const uint8_t *)text + start, i - start};
            if (line.len > 0 && line.ptr[0] != '#') {
                fn(t, line, ctx);
                count++;
            }
            start = i + 1;
        }
    }
    free(text);
    return count;
}

void interop_case(struct interop *t, bool ok, const char *file, const char *fmt, ...)
{
    t->cases++;
    if (ok) {
        return;
    }
    t->failures++;
    t->case_failures++;
    fprintf(stderr, "FAIL %s: ", file);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Every file under the vector folder must have been read by some suite. */
static void check_all_read(struct interop *t, const char *rel_dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", t->dir, *rel_dir ? "/" : "", rel_dir);
    DIR *d = opendir(path);
    if (!d) {
        interop_case(t, false, rel_dir, "cannot list %s", path);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char rel[4096], full[8192];
        snprintf(rel, sizeof(rel), "%s%s%s", rel_dir, *rel_dir ? "/" : "", de->d_name);
        snprintf(full, sizeof(full), "%s/%s", t->dir, rel);
        struct stat st;
        if (stat(full, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            check_all_read(t, rel);
            continue;
        }
        if (strcmp(rel, "INDEX.md") == 0) {
            continue; /* prose, not vectors */
        }
        bool seen = false;
        for (size_t i = 0; i < t->nread && !seen; i++) {
            seen = strcmp(t->read[i], rel) == 0;
        }
        if (!seen) {
            t->failures++;
            fprintf(stderr, "FAIL %s: no suite read this vector file\n", rel);
        }
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    struct interop t = {0};
    t.dir = argc > 1 ? argv[1] : "../shared/interop";
    struct {
        const char *name;
        void (*fn)(struct interop *);
    } suites[] = {
        {"syntax", interop_syntax},         {"crypto", interop_crypto},
        {"data-model", interop_data_model}, {"mst", interop_mst},
        {"firehose", interop_firehose},     {"car", interop_car},
        {"lexicon", interop_lexicon},       {"permission", interop_permission},
    };
    for (size_t i = 0; i < ARRAY_LEN(suites); i++) {
        if (!suites[i].fn) {
            t.failures++;
            fprintf(stderr, "FAIL suite %s is not built\n", suites[i].name);
            continue;
        }
        long before_cases = t.cases, before_fail = t.failures;
        suites[i].fn(&t);
        printf("interop %-10s %5ld cases, %ld failed\n", suites[i].name, t.cases - before_cases,
               t.failures - before_fail);
    }
    check_all_read(&t, "");
    printf("interop: %d files read, %ld cases checked, %ld failures\n", t.files, t.cases,
           t.failures);
    printf("%ld passed, %ld failed\n", t.cases - t.case_failures, t.failures);
    for (size_t i = 0; i < t.nread; i++) {
        free(t.read[i]);
    }
    free(t.read);
    return t.failures == 0 && t.cases > 0 ? 0 : 1;
}
