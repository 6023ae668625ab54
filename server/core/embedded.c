/* embedded.c - lookups in tables of files compiled into the binary. */
#include "core/embedded.h"

#include <string.h>

const struct embedded_file *embedded_find(const struct embedded_file *table, size_t n,
                                          const char *path)
{
    /* the generator sorts the table by path */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(table[mid].path, path);
        if (c == 0) {
            return &table[mid];
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}
