/* lexicons.c - loads the shipped schemas (the embedded table lexicon_files, generated from
 * lexicons/ by pds_embed) and an operator's extra directory into one catalog. */
#include "api/common/lexicons.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/bytes.h"
#include "core/embedded.h"
#include "core/lexicon.h"

#define LEXICONS_DIR_DEPTH_MAX 8 /* NSID folders are at most this deep */
#define LEXICONS_PATH_MAX      4096

extern const struct embedded_file lexicon_files[];
extern const size_t lexicon_files_len;

static bool is_json(const char *name)
{
    size_t n = strlen(name);
    return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static enum err read_file(const char *path, struct buf *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return ERR_NOT_FOUND;
    }
    enum err e = ERR_OK;
    uint8_t chunk[8192];
    size_t got;
    while (!e && (got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        e = buf_append(b, chunk, got);
    }
    if (!e && ferror(f)) {
        e = ERR_INTERNAL;
    }
    fclose(f);
    return e;
}

/* Adds every *.json under dir (recursively). The same id twice keeps the first. */
static enum err load_dir(struct lexicon_catalog *c, const char *dir, int depth, size_t *added,
                         char *why, size_t why_len)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(why, why_len, "cannot open lexicon directory \"%s\"", dir);
        return ERR_INVALID;
    }
    enum err e = ERR_OK;
    struct dirent *de;
    while (!e && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            continue;
        }
        char path[LEXICONS_PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(path, &st) != 0) {
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (depth < LEXICONS_DIR_DEPTH_MAX) {
                e = load_dir(c, path, depth + 1, added, why, why_len);
            }
            continue;
        }
        if (!is_json(de->d_name)) {
            continue;
        }
        struct buf b;
        buf_init(&b, LEXICONS_FILE_MAX);
        char msg[LEXICON_MSG_MAX] = "";
        e = read_file(path, &b);
        if (!e) {
            e = lexicon_catalog_add_text(c, buf_bytes(&b), msg);
            if (e == ERR_OK) {
                (*added)++;
            } else if (e == ERR_CONFLICT) {
                e = ERR_OK;
            }
        }
        if (e) {
            snprintf(why, why_len, "lexicon \"%s\": %s", path, *msg ? msg : err_str(e));
            e = ERR_INVALID;
        }
        buf_clear(&b);
    }
    closedir(d);
    return e;
}

static enum err load_shipped(struct lexicon_catalog *c, struct lexicons_info *info, char *why,
                             size_t why_len)
{
    for (size_t i = 0; i < lexicon_files_len; i++) {
        const struct embedded_file *f = &lexicon_files[i];
        if (!is_json(f->path)) {
            continue;
        }
        char msg[LEXICON_MSG_MAX] = "";
        enum err e = lexicon_catalog_add_text(c, bytes_of(f->data, f->len), msg);
        if (e == ERR_CONFLICT) {
            continue; /* the operator's copy of this id came first and wins */
        }
        if (e) {
            snprintf(why, why_len, "shipped lexicon \"%s\": %s", f->path, *msg ? msg : err_str(e));
            return ERR_INVALID;
        }
        info->shipped++;
    }
    const struct embedded_file *src = embedded_find(lexicon_files, lexicon_files_len, "SOURCE");
    size_t n = src ? src->len : 0;
    while (n > 0 && (src->data[n - 1] == '\n' || src->data[n - 1] == '\r')) {
        n--;
    }
    snprintf(info->source, sizeof(info->source), "%.*s", (int)n,
             src ? (const char *)src->data : "");
    return ERR_OK;
}

enum err lexicons_load(const char *extra_dir, struct lexicon_catalog **out,
                       struct lexicons_info *info, char *why, size_t why_len)
{
    memset(info, 0, sizeof(*info));
    struct lexicon_catalog *c = lexicon_catalog_new();
    enum err e = ERR_OK;
    if (extra_dir && *extra_dir) {
        e = load_dir(c, extra_dir, 0, &info->extra, why, why_len);
    }
    if (!e) {
        e = load_shipped(c, info, why, why_len);
    }
    if (e) {
        lexicon_catalog_free(c);
        *out = NULL;
        return e;
    }
    *out = c;
    return ERR_OK;
}
