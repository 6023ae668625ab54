/* mig_store_view.c - migration jobs as JSON, for the pages and the admin API (mig_store.h):
 * a job with its steps, blob counters and blob errors; the job listing. Never the secrets. */
#include "api/migrate/mig_store.h"

#include <stdlib.h>

static void set_text(json_t *o, const char *k, const PGresult *r, int row, int col)
{
    const char *s = db_col_text(r, row, col);
    json_object_set_new(o, k, s ? json_string(s) : json_null());
}

static void set_json_col(json_t *o, const char *k, const PGresult *r, int row, int col)
{
    const char *s = db_col_text(r, row, col);
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    json_object_set_new(o, k, v ? v : json_null());
}

static void set_time(json_t *o, const char *k, const PGresult *r, int row, int col)
{
    if (db_col_null(r, row, col)) {
        json_object_set_new(o, k, json_null());
        return;
    }
    json_object_set_new(o, k, json_integer(db_col_time_us(r, row, col) / 1000));
}

#define JOB_COLUMNS                                                                                \
    "id, direction, did, state, step, created_by, old_url, new_url, old_handle, new_handle,"       \
    " email, rotation_key, plan, progress, error, error_code, attempts, created_at,"               \
    " updated_at, finished_at, secrets IS NOT NULL, next_run_at"

static json_t *job_row(const PGresult *r, int i)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_col_i64(r, i, 0)));
    set_text(o, "direction", r, i, 1);
    set_text(o, "did", r, i, 2);
    set_text(o, "state", r, i, 3);
    set_text(o, "step", r, i, 4);
    set_text(o, "createdBy", r, i, 5);
    set_text(o, "oldHost", r, i, 6);
    set_text(o, "newHost", r, i, 7);
    set_text(o, "oldHandle", r, i, 8);
    set_text(o, "newHandle", r, i, 9);
    set_text(o, "email", r, i, 10);
    set_text(o, "rotationKey", r, i, 11);
    set_json_col(o, "plan", r, i, 12);
    set_json_col(o, "progress", r, i, 13);
    set_text(o, "error", r, i, 14);
    set_text(o, "errorCode", r, i, 15);
    json_object_set_new(o, "attempts", json_integer(db_col_i64(r, i, 16)));
    set_time(o, "createdAt", r, i, 17);
    set_time(o, "updatedAt", r, i, 18);
    set_time(o, "finishedAt", r, i, 19);
    json_object_set_new(o, "holdsCredentials", json_boolean(db_col_bool(r, i, 20)));
    set_time(o, "nextRunAt", r, i, 21);
    return o;
}

json_t *mig_store_job_json(struct db *db, int64_t id)
{
    struct db_params p;
    db_params_init(&p);
    db_param_i64(&p, id);
    PGresult *r;
    if (db_query(db, "SELECT " JOB_COLUMNS " FROM migration_job WHERE id = $1", &p, &r)) {
        return NULL;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        return NULL;
    }
    json_t *o = job_row(r, 0);
    PQclear(r);
    if (db_query(db,
                 "SELECT name, detail, done_at FROM migration_step WHERE job_id = $1"
                 " ORDER BY done_at",
                 &p, &r)) {
        json_decref(o);
        return NULL;
    }
    json_t *done = json_object();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *d = json_object();
        set_json_col(d, "detail", r, i, 1);
        set_time(d, "doneAt", r, i, 2);
        json_object_set_new(done, db_col_text(r, i, 0), d);
    }
    PQclear(r);
    json_t *steps = json_array();
    for (int s = 0; s < MIG_STEP_COUNT; s++) {
        const char *name = mig_step_name((enum mig_step)s);
        json_t *d = json_object_get(done, name);
        json_t *row = json_pack("{s:s,s:b}", "name", name, "done", d != NULL);
        if (d) {
            json_object_set(row, "doneAt", json_object_get(d, "doneAt"));
            json_object_set(row, "detail", json_object_get(d, "detail"));
        }
        json_array_append_new(steps, row);
    }
    json_decref(done);
    json_object_set_new(o, "steps", steps);
    struct mig_blob_counts bc;
    if (mig_store_blob_counts(db, id, &bc) == ERR_OK) {
        json_object_set_new(o, "blobs",
                            json_pack("{s:I,s:I,s:I,s:I,s:I}", "total", (json_int_t)bc.total,
                                      "done", (json_int_t)bc.done, "totalBytes",
                                      (json_int_t)bc.total_bytes, "doneBytes",
                                      (json_int_t)bc.done_bytes, "failed", (json_int_t)bc.failed));
    }
    if (db_query(db,
                 "SELECT cid, error FROM migration_blob WHERE job_id = $1 AND NOT done"
                 " AND error IS NOT NULL ORDER BY cid LIMIT 20",
                 &p, &r) == ERR_OK) {
        json_t *bad = json_array();
        for (int i = 0; i < PQntuples(r); i++) {
            json_array_append_new(bad, json_pack("{s:s,s:s}", "cid", db_col_text(r, i, 0), "error",
                                                 db_col_text(r, i, 1)));
        }
        json_object_set_new(o, "blobErrors", bad);
        PQclear(r);
    }
    return o;
}

json_t *mig_store_list_json(struct db *db, const char *state, int64_t limit)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, state);
    db_param_i64(&p, limit);
    PGresult *r;
    if (db_query(db,
                 "SELECT " JOB_COLUMNS " FROM migration_job"
                 " WHERE $1::text IS NULL OR state = $1 ORDER BY id DESC LIMIT $2",
                 &p, &r)) {
        return NULL;
    }
    json_t *arr = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *o = job_row(r, i);
        json_object_del(o, "plan"); /* the listing stays short */
        json_array_append_new(arr, o);
    }
    PQclear(r);
    return arr;
}
