/* config_describe.c - the settings as the admin console shows them: every row of the
 * table with its current value, secrets replaced by whether they are set. */
#include "config/config.h"

#include <stdio.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_table.h"
#include "core/bytes.h"

#define SECRET_SET "(set, hidden)"

/* The field's value as text (malloc'd), or NULL when unset. */
static char *value_text(const struct config *cfg, const struct cfg_row *row)
{
    const char *field = (const char *)cfg + row->offset;
    char num[32];
    switch (row->kind) {
    case CFG_STR:
    case CFG_URL:
    case CFG_SECRET: {
        const char *s = *(char *const *)field;
        if (!s) {
            return NULL;
        }
        return row->kind == CFG_SECRET ? xstrndup(SECRET_SET, strlen(SECRET_SET))
                                       : xstrndup(s, strlen(s));
    }
    case CFG_INT:
        snprintf(num, sizeof num, "%d", *(const int *)field);
        return xstrndup(num, strlen(num));
    case CFG_I64:
        snprintf(num, sizeof num, "%lld", (long long)*(const int64_t *)field);
        return xstrndup(num, strlen(num));
    case CFG_BOOL:
        return xstrndup(*(const bool *)field ? "true" : "false", 5);
    case CFG_LIST: {
        const struct config_list *l = (const struct config_list *)field;
        struct buf b;
        buf_init(&b, 1 << 16);
        for (size_t i = 0; i < l->len; i++) {
            if (buf_appendf(&b, "%s%s", i ? "," : "", l->items[i]) != ERR_OK) {
                break;
            }
        }
        size_t n;
        char *out = (char *)buf_take(&b, &n);
        return out ? out : xstrndup("", 0);
    }
    }
    return NULL;
}

json_t *config_describe(const struct config *cfg)
{
    json_t *list = json_array();
    for (size_t i = 0; i < config_table_len; i++) {
        const struct cfg_row *row = &config_table[i];
        char *value = value_text(cfg, row);
        const char *env = getenv(row->env);
        json_t *o =
            json_pack("{s:s,s:s,s:b,s:b,s:s}", "name", row->env, "section",
                      config_section_titles[row->section], "secret", row->kind == CFG_SECRET,
                      "fromEnvironment", env && *env, "meaning", row->meaning);
        json_object_set_new(o, "value", value ? json_string(value) : json_null());
        if (value) {
            explicit_bzero(value, strlen(value));
            free(value);
        }
        json_array_append_new(list, o);
    }
    return list;
}
