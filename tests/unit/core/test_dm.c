/* test_dm.c - data-model values: constructors, copies vs borrows, lookups, and deep
 * equality (maps as sets of entries). */
#include "unit/test.h"

#include "core/dm.h"

static void test_dm_lookup_and_copy(void)
{
    struct arena a;
    arena_init(&a);
    char key[] = "text";
    char val[] = "hello";
    struct dm_value *m = dm_map(&a);
    dm_map_put(&a, m, "n", dm_int(&a, 5));
    dm_map_put_key(&a, m, BYTES_LIT("t\0x"), dm_bool(&a, true)); /* NUL inside a key */
    dm_map_put(&a, m, "copy", dm_cstr(&a, val));
    dm_map_put(&a, m, key, dm_string(&a, bytes_str(val)));
    for (int i = 0; i < 20; i++) { /* grow past the first capacity */
        dm_map_put(&a, m, "", dm_null(&a));
    }
    val[0] = 'j';
    CHECK(bytes_eq(dm_map_str(m, "copy"), BYTES_LIT("hello"))); /* copied */
    CHECK(bytes_eq(dm_map_str(m, "text"), BYTES_LIT("jello"))); /* borrowed */
    CHECK(dm_map_get(m, "n")->u.integer == 5);
    CHECK(dm_map_getb(m, BYTES_LIT("t\0x"))->kind == DM_BOOL);
    CHECK(dm_map_get(m, "t") == NULL);
    CHECK(dm_map_get(m, "missing") == NULL);
    CHECK(dm_map_str(m, "n").ptr == NULL); /* not a string */
    CHECK(dm_map_get(dm_int(&a, 1), "n") == NULL);
    CHECK(dm_map_get(NULL, "n") == NULL);
    CHECK_EQ(m->u.map.len, 24);
    struct dm_value *arr = dm_array(&a);
    for (int i = 0; i < 100; i++) {
        dm_array_push(&a, arr, dm_int(&a, i));
    }
    CHECK(arr->u.array.len == 100 && arr->u.array.items[99]->u.integer == 99);
    arena_clear(&a);
}

static void test_dm_equal(void)
{
    struct arena a;
    arena_init(&a);
    struct cid c1, c2;
    cid_compute(CID_CODEC_RAW, BYTES_LIT("x"), &c1);
    cid_compute(CID_CODEC_DAGCBOR, BYTES_LIT("x"), &c2);
    struct dm_value *m1 = dm_map(&a), *m2 = dm_map(&a);
    dm_map_put(&a, m1, "a", dm_int(&a, 1));
    dm_map_put(&a, m1, "b", dm_link(&a, &c1));
    dm_map_put(&a, m2, "b", dm_link(&a, &c1));
    dm_map_put(&a, m2, "a", dm_int(&a, 1));
    CHECK(dm_equal(m1, m2)); /* order does not matter */
    m2->u.map.entries[0].value = dm_link(&a, &c2);
    CHECK(!dm_equal(m1, m2));
    CHECK(!dm_equal(dm_string(&a, BYTES_LIT("x")), dm_bytes(&a, BYTES_LIT("x"))));
    CHECK(dm_equal(dm_bytes(&a, BYTES_LIT("x")), dm_bytes(&a, BYTES_LIT("x"))));
    CHECK(!dm_equal(dm_int(&a, 0), dm_bool(&a, false)));
    CHECK(!dm_equal(dm_null(&a), dm_bool(&a, false)));
    CHECK(dm_equal(dm_bool(&a, true), dm_bool(&a, true)));
    struct dm_value *a1 = dm_array(&a), *a2 = dm_array(&a);
    dm_array_push(&a, a1, dm_int(&a, 1));
    dm_array_push(&a, a1, dm_int(&a, 2));
    dm_array_push(&a, a2, dm_int(&a, 2));
    dm_array_push(&a, a2, dm_int(&a, 1));
    CHECK(!dm_equal(a1, a2)); /* arrays are ordered */
    struct dm_value *m3 = dm_map(&a);
    dm_map_put(&a, m3, "a", dm_int(&a, 1));
    CHECK(!dm_equal(m1, m3) && !dm_equal(m3, m1));
    arena_clear(&a);
}

int main(void)
{
    RUN(test_dm_lookup_and_copy);
    RUN(test_dm_equal);
    return test_report();
}
