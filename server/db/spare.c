/* spare.c - the idle connections of db/spare.h. */
#include "db/spare.h"

#include <pthread.h>
#include <string.h>

static struct {
    pthread_mutex_t lock; /* guards every field below */
    struct db kept[DB_SPARE_MAX];
    int n;
} spare = {.lock = PTHREAD_MUTEX_INITIALIZER};

void db_spare_take(struct db *db, const char *url, bool *from_spare)
{
    *from_spare = false;
    pthread_mutex_lock(&spare.lock);
    for (int i = spare.n; i-- > 0;) { /* the last one given back first */
        if (strcmp(db_url(&spare.kept[i]), url) == 0) {
            *db = spare.kept[i];
            spare.kept[i] = spare.kept[--spare.n];
            *from_spare = true;
            break;
        }
    }
    pthread_mutex_unlock(&spare.lock);
    if (!*from_spare) {
        db_init(db, url);
    }
}

void db_spare_give(struct db *db)
{
    if (db_reusable(db)) {
        pthread_mutex_lock(&spare.lock);
        bool kept = spare.n < DB_SPARE_MAX;
        if (kept) {
            spare.kept[spare.n++] = *db;
        }
        pthread_mutex_unlock(&spare.lock);
        if (kept) {
            memset(db, 0, sizeof(*db));
            return;
        }
    }
    db_clear(db);
}

void db_spare_close_all(void)
{
    pthread_mutex_lock(&spare.lock);
    while (spare.n > 0) {
        db_clear(&spare.kept[--spare.n]);
    }
    pthread_mutex_unlock(&spare.lock);
}
