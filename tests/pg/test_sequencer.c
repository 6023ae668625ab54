/* test_sequencer.c - the outbox sequencer in a real PostgreSQL: numbers start above the wall
 * clock; writers that commit out of id order never make a polling reader skip or repeat a
 * seq, with one sequencer or two at once; pruning, account deletion, cursors, frames, and the
 * listener thread. */
#include "unit/test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/dagcbor.h"
#include "db/migrate.h"
#include "db/outbox.h"
#include "db/sequencer.h"
#include "pg/pg_test.h"
#include "repo/events.h"

#define WRITERS           8
#define WRITES_PER_WRITER 60
#define SLEEP_MAX_US      3000
#define TWO_TO_53         ((int64_t)1 << 53)
#define HOUR_MS           (3600 * 1000)

static char *url;
static char dbname[64];

static void fresh_db(void)
{
    if (url) {
        pgtest_drop_db(dbname);
        free(url);
    }
    url = pgtest_create_db(dbname);
    struct db db;
    db_init(&db, url);
    if (migrate_run(&db, migrations_embedded, migrations_embedded_len, NULL)) {
        fprintf(stderr, "migrations failed\n");
        exit(1);
    }
    db_clear(&db);
}

static int64_t wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

static int64_t scalar(struct db *db, const char *sql)
{
    PGresult *r;
    if (db_query(db, sql, NULL, &r)) {
        return -1;
    }
    int64_t v = db_col_null(r, 0, 0) ? -1 : db_col_i64(r, 0, 0);
    PQclear(r);
    return v;
}

/* Inserts one #account event for did, created `age_ms` ago; inside a transaction if open. */
static enum err insert_event(struct db *db, const char *did, int64_t age_ms)
{
    struct buf body;
    buf_init(&body, BUF_MAX_DEFAULT);
    enum err e = events_account(did, true, NULL, 1795512233000, &body);
    if (!e) {
        struct db_params p;
        db_params_init(&p);
        db_param_text(&p, did);
        db_param_bytes(&p, buf_bytes(&body));
        db_param_i64(&p, age_ms);
        e = db_exec(db,
                    "INSERT INTO repo_seq (did, event_type, event, created_at) "
                    "VALUES ($1, 'account', $2, now() - $3::bigint * interval '1 ms')",
                    &p, NULL);
    }
    buf_clear(&body);
    return e;
}

static void test_sequencer_starts_above_wall_clock(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    int64_t before = wall_us();
    CHECK(insert_event(&db, "did:plc:a", 0) == ERR_OK);
    CHECK(insert_event(&db, "did:plc:a", 0) == ERR_OK);
    int64_t n = 0, head = 0;
    CHECK(sequencer_step(&db, &n, &head) == ERR_OK);
    CHECK_EQ(n, 2);
    CHECK(head > before);
    CHECK(head < TWO_TO_53);
    CHECK_EQ(scalar(&db, "SELECT min(seq) FROM repo_seq"), head - 1);
    /* nothing left: a step numbers nothing and keeps the head */
    CHECK(sequencer_step(&db, &n, &head) == ERR_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(head, 0);
    int64_t h = 0;
    CHECK(outbox_head(&db, &h, NULL) == ERR_OK);
    CHECK_EQ(h, scalar(&db, "SELECT max(seq) FROM repo_seq"));
    db_clear(&db);
}

/* Concurrent writers with sleeps between INSERT and COMMIT (so ids commit out of order), a
 * reader polling `seq > last`, and one or two sequencer threads. */
struct race {
    atomic_int writers_left;
    atomic_bool failed;
    int64_t *seen; /* the reader's sequence */
    size_t nseen;
    size_t naive_seen; /* rows seen by a reader that follows the bigserial id instead */
};

static void *writer_main(void *arg)
{
    struct race *rc = arg;
    struct db db;
    db_init(&db, url);
    unsigned seed = (unsigned)(uintptr_t)&db ^ (unsigned)time(NULL);
    for (int i = 0; i < WRITES_PER_WRITER; i++) {
        if (db_begin(&db) || insert_event(&db, "did:plc:writer", 0)) {
            atomic_store(&rc->failed, true);
            db_rollback(&db);
            continue;
        }
        usleep((useconds_t)(rand_r(&seed) % SLEEP_MAX_US));
        if (db_commit(&db)) {
            atomic_store(&rc->failed, true);
        }
    }
    db_clear(&db);
    atomic_fetch_sub(&rc->writers_left, 1);
    return NULL;
}

/* Polls like a firehose reader; records every seq in the order seen. */
static void *reader_main(void *arg)
{
    struct race *rc = arg;
    struct db db;
    db_init(&db, url);
    int64_t last = 0, last_id = 0;
    size_t total = WRITERS * WRITES_PER_WRITER;
    int idle_after_done = 0;
    for (;;) {
        bool done = atomic_load(&rc->writers_left) == 0;
        idle_after_done += done;
        struct db_params p;
        db_params_init(&p);
        db_param_i64(&p, last);
        PGresult *r;
        if (db_query(&db, "SELECT seq FROM repo_seq WHERE seq > $1 ORDER BY seq", &p, &r)) {
            atomic_store(&rc->failed, true);
            break;
        }
        for (int i = 0; i < PQntuples(r) && rc->nseen < total; i++) {
            last = db_col_i64(r, i, 0);
            rc->seen[rc->nseen++] = last;
        }
        PQclear(r);
        /* the naive reader: ids are taken at INSERT, so a reader past id N never sees an
         * id below N that commits later */
        db_params_init(&p);
        db_param_i64(&p, last_id);
        if (db_query(&db, "SELECT id FROM repo_seq WHERE id > $1 ORDER BY id", &p, &r)) {
            atomic_store(&rc->failed, true);
            break;
        }
        for (int i = 0; i < PQntuples(r); i++) {
            last_id = db_col_i64(r, i, 0);
            rc->naive_seen++;
        }
        PQclear(r);
        if (rc->nseen == total || idle_after_done > 20000) { /* 4 s after the writers */
            break;
        }
        usleep(200);
    }
    db_clear(&db);
    return NULL;
}

/* A sequencer without the thread: steps back to back until the writers are done. */
static void *stepper_main(void *arg)
{
    struct race *rc = arg;
    struct db db;
    db_init(&db, url);
    while (atomic_load(&rc->writers_left) > 0) {
        int64_t n;
        if (sequencer_step(&db, &n, NULL)) {
            atomic_store(&rc->failed, true);
            break;
        }
    }
    db_clear(&db);
    return NULL;
}

static void run_race(int sequencers)
{
    fresh_db();
    struct race rc = {.seen = calloc(WRITERS * WRITES_PER_WRITER, sizeof(int64_t))};
    atomic_init(&rc.writers_left, WRITERS);
    atomic_init(&rc.failed, false);
    struct sequencer *seq[2] = {NULL, NULL};
    for (int i = 0; i < sequencers; i++) {
        CHECK(sequencer_start(url, 0, &seq[i]) == ERR_OK);
    }
    pthread_t w[WRITERS], rd, steppers[2];
    for (int i = 0; i < sequencers - 1; i++) { /* more sequencers, racing without pause */
        pthread_create(&steppers[i], NULL, stepper_main, &rc);
        pthread_create(&steppers[i + 1], NULL, stepper_main, &rc);
    }
    pthread_create(&rd, NULL, reader_main, &rc);
    for (int i = 0; i < WRITERS; i++) {
        pthread_create(&w[i], NULL, writer_main, &rc);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(w[i], NULL);
    }
    pthread_join(rd, NULL);
    for (int i = 0; i < sequencers - 1; i++) {
        pthread_join(steppers[i], NULL);
        pthread_join(steppers[i + 1], NULL);
    }
    for (int i = 0; i < sequencers; i++) {
        sequencer_stop(seq[i]);
    }
    CHECK(!atomic_load(&rc.failed));
    size_t total = WRITERS * WRITES_PER_WRITER;
    CHECK_EQ(rc.nseen, total);

    /* The reader saw exactly the final order: every seq once, in order, nothing skipped.
     * Numbering is dense here (nothing deleted), so each seq is its predecessor + 1. */
    struct db db;
    db_init(&db, url);
    PGresult *r;
    CHECK(db_query(&db, "SELECT seq, id FROM repo_seq ORDER BY seq", NULL, &r) == ERR_OK);
    CHECK_EQ(PQntuples(r), total);
    int out_of_id_order = 0;
    for (int i = 0; i < PQntuples(r) && (size_t)i < rc.nseen; i++) {
        CHECK_EQ(rc.seen[i], db_col_i64(r, i, 0));
        if (i > 0) {
            CHECK_EQ(rc.seen[i], rc.seen[i - 1] + 1);
            out_of_id_order += db_col_i64(r, i, 1) < db_col_i64(r, i - 1, 1);
        }
    }
    /* the race this guards against really happened: some row committed (and was
     * numbered) after a row with a higher id */
    printf("  %d of %zu rows were numbered after a row with a higher id; a reader following "
           "the id missed %zu\n",
           out_of_id_order, total, total - rc.naive_seen);
    CHECK(out_of_id_order > 0);
    CHECK(rc.naive_seen < total);
    PQclear(r);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM repo_seq WHERE seq IS NULL"), 0);
    db_clear(&db);
    free(rc.seen);
}

static void test_sequencer_reader_never_skips(void)
{
    run_race(1);
}

/* Two sequencer threads and two more connections stepping back to back. */
static void test_sequencer_two_at_once_no_duplicates_or_gaps(void)
{
    run_race(2);
}

static void test_sequencer_prunes_and_resumes(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    for (int i = 0; i < 5; i++) {
        CHECK(insert_event(&db, "did:plc:old", 2 * HOUR_MS) == ERR_OK);
    }
    int64_t n, head_old;
    CHECK(sequencer_step(&db, &n, &head_old) == ERR_OK);
    for (int i = 0; i < 3; i++) {
        CHECK(insert_event(&db, "did:plc:new", 0) == ERR_OK);
    }
    int64_t head;
    CHECK(sequencer_step(&db, &n, &head) == ERR_OK);
    CHECK_EQ(n, 3);

    /* before pruning: a cursor before the old events is outdated (they are older than the
     * window) and continues from the first event inside it */
    struct outbox_resume rs;
    CHECK(outbox_resume(&db, 0, HOUR_MS, &rs) == ERR_OK);
    CHECK(!rs.future && rs.outdated);
    CHECK_EQ(rs.start_after, head_old);
    CHECK(outbox_resume(&db, head + 1, HOUR_MS, &rs) == ERR_OK);
    CHECK(rs.future);
    CHECK(outbox_resume(&db, head, HOUR_MS, &rs) == ERR_OK);
    CHECK(!rs.future && !rs.outdated);
    CHECK_EQ(rs.start_after, head);

    int64_t deleted = 0;
    CHECK(outbox_prune(&db, HOUR_MS, &deleted) == ERR_OK);
    CHECK_EQ(deleted, 5);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM repo_seq"), 3);
    int64_t h, pruned;
    CHECK(outbox_head(&db, &h, &pruned) == ERR_OK);
    CHECK_EQ(h, head);
    CHECK_EQ(pruned, head_old);
    /* after: the cursor is below what was pruned, so it is still outdated */
    CHECK(outbox_resume(&db, head_old - 1, HOUR_MS, &rs) == ERR_OK);
    CHECK(rs.outdated);
    CHECK_EQ(rs.start_after, head_old);
    CHECK(outbox_resume(&db, head_old, HOUR_MS, &rs) == ERR_OK);
    CHECK(!rs.outdated);

    /* prune everything: numbering continues above the old head, never restarts */
    CHECK(db_exec(&db, "UPDATE repo_seq SET created_at = now() - interval '3 hours'", NULL, NULL) ==
          ERR_OK);
    CHECK(outbox_prune(&db, HOUR_MS, &deleted) == ERR_OK);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM repo_seq"), 0);
    CHECK(insert_event(&db, "did:plc:new", 0) == ERR_OK);
    CHECK(sequencer_step(&db, &n, &h) == ERR_OK);
    CHECK_EQ(h, head + 1);
    db_clear(&db);
}

static void test_outbox_delete_account_never_reuses_seq(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    CHECK(insert_event(&db, "did:plc:keep", 0) == ERR_OK);
    CHECK(insert_event(&db, "did:plc:gone", 0) == ERR_OK);
    CHECK(insert_event(&db, "did:plc:gone", 0) == ERR_OK);
    int64_t n, head;
    CHECK(sequencer_step(&db, &n, &head) == ERR_OK);
    CHECK(db_begin(&db) == ERR_OK);
    CHECK(outbox_delete_account_events(&db, "did:plc:gone") == ERR_OK);
    CHECK(insert_event(&db, "did:plc:gone", 0) == ERR_OK); /* the #account deleted event */
    CHECK(db_commit(&db) == ERR_OK);
    CHECK(sequencer_step(&db, &n, NULL) == ERR_OK);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM repo_seq WHERE did = 'did:plc:gone'"), 1);
    /* the deleted rows held the highest seqs; the new one is still above them */
    CHECK_EQ(scalar(&db, "SELECT seq FROM repo_seq WHERE did = 'did:plc:gone'"), head + 1);
    db_clear(&db);
}

static void test_outbox_read_builds_frames(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    for (int i = 0; i < 4; i++) {
        CHECK(insert_event(&db, "did:plc:frames", 0) == ERR_OK);
    }
    int64_t n, head;
    CHECK(sequencer_step(&db, &n, &head) == ERR_OK);
    struct outbox_page page;
    CHECK(outbox_read(&db, head - 4, 3, 1 << 20, &page) == ERR_OK);
    CHECK_EQ(page.n, 3);
    CHECK_EQ(page.head, head);
    CHECK_EQ(page.events[0].seq, head - 3);
    struct arena a;
    arena_init(&a);
    struct bytes in = bytes_of(page.events[0].frame, page.events[0].frame_len);
    struct dm_value *hdr = NULL, *body = NULL;
    CHECK(dagcbor_decode_prefix(&in, &a, &hdr) == ERR_OK);
    CHECK(dagcbor_decode(in, &a, &body) == ERR_OK);
    if (hdr && body) {
        CHECK(bytes_eq(dm_map_str(hdr, "t"), BYTES_LIT("#account")));
        CHECK_EQ(dm_map_get(hdr, "op")->u.integer, 1);
        CHECK_EQ(dm_map_get(body, "seq")->u.integer, head - 3);
        CHECK(bytes_eq(dm_map_str(body, "did"), BYTES_LIT("did:plc:frames")));
    }
    arena_clear(&a);
    outbox_page_clear(&page);
    /* a byte cap smaller than one body still returns one event */
    CHECK(outbox_read(&db, 0, 10, 1, &page) == ERR_OK);
    CHECK_EQ(page.n, 1);
    outbox_page_clear(&page);
    /* past the head: empty, with the head */
    CHECK(outbox_read(&db, head, 10, 1 << 20, &page) == ERR_OK);
    CHECK_EQ(page.n, 0);
    CHECK_EQ(page.head, head);
    outbox_page_clear(&page);
    db_clear(&db);
}

struct collected {
    pthread_mutex_t lock;
    int64_t seqs[64];
    size_t n;
};

static void on_page(void *ctx, struct outbox_page *page)
{
    struct collected *c = ctx;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < page->n && c->n < ARRAY_LEN(c->seqs); i++) {
        c->seqs[c->n++] = page->events[i].seq;
    }
    pthread_mutex_unlock(&c->lock);
}

static void test_outbox_listener_follows_new_events(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    CHECK(insert_event(&db, "did:plc:before", 0) == ERR_OK);
    int64_t n, head;
    CHECK(sequencer_step(&db, &n, &head) == ERR_OK);
    struct collected c = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct outbox_listener *l = NULL;
    struct sequencer *s = NULL;
    CHECK(outbox_listener_start(url, head, on_page, &c, &l) == ERR_OK);
    CHECK(sequencer_start(url, 0, &s) == ERR_OK);
    for (int i = 0; i < 10; i++) {
        CHECK(insert_event(&db, "did:plc:after", 0) == ERR_OK);
    }
    for (int i = 0; i < 500; i++) { /* notifications make this fast; 5 s at most */
        pthread_mutex_lock(&c.lock);
        size_t got = c.n;
        pthread_mutex_unlock(&c.lock);
        if (got >= 10) {
            break;
        }
        usleep(10000);
    }
    sequencer_stop(s);
    outbox_listener_stop(l);
    CHECK_EQ(c.n, 10);
    for (size_t i = 0; i < c.n; i++) {
        CHECK_EQ(c.seqs[i], head + 1 + (int64_t)i);
    }
    db_clear(&db);
}

/* The thread prunes at start-up, in batches, between its numbering steps. */
static void test_sequencer_thread_prunes_in_batches(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    CHECK(db_exec(&db,
                  "INSERT INTO repo_seq (did, event_type, event, created_at) "
                  "SELECT 'did:plc:old', 'account', '\\xa0'::bytea, now() - interval '2 hours' "
                  "FROM generate_series(1, 2500)",
                  NULL, NULL) == ERR_OK);
    int64_t n;
    CHECK(sequencer_step(&db, &n, NULL) == ERR_OK);
    CHECK_EQ(n, 2500);
    for (int i = 0; i < 3; i++) {
        CHECK(insert_event(&db, "did:plc:new", 0) == ERR_OK);
    }
    struct sequencer *s = NULL;
    CHECK(sequencer_start(url, HOUR_MS, &s) == ERR_OK);
    int64_t left = -1;
    for (int i = 0; i < 100 && left != 3; i++) { /* 5 s at most */
        usleep(50000);
        left = scalar(&db, "SELECT count(*) FROM repo_seq");
    }
    sequencer_stop(s);
    CHECK_EQ(left, 3);
    CHECK_EQ(scalar(&db, "SELECT count(seq) FROM repo_seq WHERE did = 'did:plc:new'"), 3);
    db_clear(&db);
}

/* Writers do not NOTIFY (see migrations/0003): sequencer_wake alone makes the sequencer
 * number at once, well before its one-second poll. */
static void test_sequencer_wake_numbers_at_once(void)
{
    fresh_db();
    struct db db;
    db_init(&db, url);
    CHECK_EQ(scalar(&db, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'repo_seq'::regclass"),
             0);
    struct sequencer *s = NULL;
    CHECK(sequencer_start(url, 0, &s) == ERR_OK);
    usleep(100000); /* now in its poll wait, which ends about 1 s after start */
    CHECK(insert_event(&db, "did:plc:wake", 0) == ERR_OK);
    sequencer_wake();
    int64_t numbered = 0;
    for (int i = 0; i < 30 && numbered == 0; i++) { /* 300 ms at most */
        usleep(10000);
        numbered = scalar(&db, "SELECT count(seq) FROM repo_seq");
    }
    CHECK_EQ(numbered, 1);
    sequencer_stop(s);
    sequencer_wake(); /* no sequencer: a no-op */
    db_clear(&db);
}

int main(void)
{
    pgtest_connect_admin();
    db_set_commit_hook(sequencer_wake); /* as pds serve does: commits wake the sequencer */
    RUN(test_sequencer_starts_above_wall_clock);
    RUN(test_sequencer_reader_never_skips);
    RUN(test_sequencer_two_at_once_no_duplicates_or_gaps);
    RUN(test_sequencer_prunes_and_resumes);
    RUN(test_outbox_delete_account_never_reuses_seq);
    RUN(test_outbox_read_builds_frames);
    RUN(test_outbox_listener_follows_new_events);
    RUN(test_sequencer_thread_prunes_in_batches);
    RUN(test_sequencer_wake_numbers_at_once);
    pgtest_drop_db(dbname);
    pgtest_disconnect_admin();
    free(url);
    return test_report();
}
