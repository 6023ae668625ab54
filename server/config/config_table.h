/* config_table.h - private to server/config: the settings table's row shape, the table, and
 * the small helpers its readers share (loading in config.c, dev secrets in config_secrets.c,
 * the generated reference in config_doc.c). Not for use outside this folder. */
#ifndef PDS_CONFIG_CONFIG_TABLE_H
#define PDS_CONFIG_CONFIG_TABLE_H

#include <stddef.h>

#include "config/config.h"
#include "core/err.h"

enum cfg_kind {
    CFG_STR,    /* free text */
    CFG_URL,    /* text; a trailing "/" is dropped */
    CFG_INT,    /* int, decimal */
    CFG_I64,    /* int64_t, decimal (bytes, counts, milliseconds) */
    CFG_BOOL,   /* "true"/"1" or "false"/"0" */
    CFG_LIST,   /* comma-separated list */
    CFG_SECRET, /* text, never logged or printed */
};

enum cfg_section {
    SEC_SERVICE,
    SEC_STORAGE,
    SEC_IDENTITY,
    SEC_INVITES,
    SEC_EMAIL,
    SEC_FIREHOSE,
    SEC_UPSTREAM,
    SEC_RATE,
    SEC_FETCH,
    SEC_MIGRATION,
    SEC_SECRETS,
    SEC_LOG,
};

/* Section titles, indexed by enum cfg_section. */
extern const char *const config_section_titles[];
extern const size_t config_section_count;

/* One row per setting. dflt is the literal default (parsed like the variable would be);
 * NULL means "unset" or, when dflt_doc is given, a default derived in derive_defaults. */
struct cfg_row {
    const char *env;
    enum cfg_kind kind;
    size_t offset;
    const char *dflt;
    const char *dflt_doc; /* shown in the doc instead of dflt */
    const char *unit;
    enum cfg_section section;
    const char *meaning;
};

extern const struct cfg_row config_table[];
extern const size_t config_table_len;

/* Writes the formatted reason into why and returns ERR_INVALID. */
enum err config_fail(char *why, size_t why_len, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* Dev secrets: fills the missing secrets of cfg from, or generates them once into,
 * <data_dir>/secrets.env; in production a missing secret is an error naming it. Checks the
 * rotation key in every case. */
enum err config_secrets_resolve(struct config *cfg, char *why, size_t why_len) MUST_CHECK;

#endif
