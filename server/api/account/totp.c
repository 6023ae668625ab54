/* totp.c - TOTP enrolment and checks in account_totp / account_totp_recovery. */
#include "api/account/totp.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "api/common/app.h"
#include "core/sha256.h"
#include "crypto/seal.h"

/* A key of its own for TOTP secrets, derived from the seal key of signing keys. */
static void totp_key(uint8_t key[SEAL_KEY_BYTES])
{
    static const char label[] = "pds/account/totp/v1";
    crypto_generichash(key, SEAL_KEY_BYTES, (const uint8_t *)label, sizeof label - 1,
                       app_get()->seal_key, SEAL_KEY_BYTES);
}

static void recovery_hash(const char *code, char out[65])
{
    /* lower case, dashes and spaces left out: what the user typed, however they typed it */
    char norm[32];
    size_t n = 0;
    for (const char *p = code; *p && n < sizeof norm - 1; p++) {
        if (*p != '-' && *p != ' ') {
            norm[n++] = (char)tolower((unsigned char)*p);
        }
    }
    norm[n] = '\0';
    uint8_t d[SHA256_BYTES];
    sha256(norm, n, d);
    sodium_bin2hex(out, 65, d, sizeof d);
}

enum err account_totp_enabled(struct db *db, const char *did, bool *on)
{
    *on = false;
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    PGresult *r;
    enum err e = db_query(
        db, "SELECT 1 FROM account_totp WHERE did = $1 AND enabled_at IS NOT NULL", &p, &r);
    if (!e) {
        *on = PQntuples(r) == 1;
        PQclear(r);
    }
    return e;
}

enum err account_totp_begin(struct db *db, const char *did,
                            char secret_b32[TOTP_SECRET_B32_CHARS + 1])
{
    uint8_t secret[TOTP_SECRET_BYTES], key[SEAL_KEY_BYTES];
    randombytes_buf(secret, sizeof secret);
    totp_key(key);
    struct buf sealed;
    buf_init(&sealed, 256);
    enum err e = seal_box(key, bytes_of(secret, sizeof secret), &sealed);
    totp_base32(bytes_of(secret, sizeof secret), secret_b32);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(key, sizeof key);
    if (e) {
        buf_clear(&sealed);
        return e;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bytes(&p, buf_bytes(&sealed));
    int64_t n = 0;
    e = db_exec(db,
                "INSERT INTO account_totp (did, secret) VALUES ($1, $2) ON CONFLICT (did) DO"
                " UPDATE SET secret = EXCLUDED.secret, created_at = now(), last_step = 0"
                " WHERE account_totp.enabled_at IS NULL",
                &p, &n);
    buf_clear(&sealed);
    if (!e && n == 0) {
        e = ERR_CONFLICT;
    }
    if (e) {
        sodium_memzero(secret_b32, TOTP_SECRET_B32_CHARS + 1);
    }
    return e;
}

/* The secret of did (enabled or pending) into secret; *step the last used step. */
static enum err load(struct db *db, const char *did, bool enabled,
                     uint8_t secret[TOTP_SECRET_BYTES], uint64_t *step)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_bool(&p, enabled);
    PGresult *r;
    enum err e = db_query(db,
                          "SELECT secret, last_step FROM account_totp WHERE did = $1"
                          " AND (enabled_at IS NOT NULL) = $2",
                          &p, &r);
    if (e) {
        return e;
    }
    if (PQntuples(r) != 1) {
        PQclear(r);
        return ERR_NOT_FOUND;
    }
    uint8_t key[SEAL_KEY_BYTES];
    totp_key(key);
    size_t len = 0;
    e = seal_open(key, db_col_bytes(r, 0, 0), secret, TOTP_SECRET_BYTES, &len);
    sodium_memzero(key, sizeof key);
    *step = (uint64_t)db_col_i64(r, 0, 1);
    PQclear(r);
    return e ? e : len == TOTP_SECRET_BYTES ? ERR_OK : ERR_INVALID;
}

enum err account_totp_secret(struct db *db, struct arena *a, const char *did,
                             const char **secret_b32)
{
    uint8_t secret[TOTP_SECRET_BYTES];
    uint64_t step;
    enum err e = load(db, did, false, secret, &step);
    if (e == ERR_NOT_FOUND) {
        e = load(db, did, true, secret, &step);
    }
    if (e) {
        return e;
    }
    char *out = arena_alloc(a, TOTP_SECRET_B32_CHARS + 1);
    totp_base32(bytes_of(secret, sizeof secret), out);
    sodium_memzero(secret, sizeof secret);
    *secret_b32 = out;
    return ERR_OK;
}

/* Records the step of a good code, unless a concurrent sign-in used it first. */
static enum err use_step(struct db *db, const char *did, uint64_t step, bool *ok)
{
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_i64(&p, (int64_t)step);
    int64_t n = 0;
    enum err e = db_exec(
        db, "UPDATE account_totp SET last_step = $2 WHERE did = $1 AND last_step < $2", &p, &n);
    *ok = !e && n == 1;
    return e;
}

static bool code_ok(const uint8_t secret[TOTP_SECRET_BYTES], const char *code, uint64_t after,
                    uint64_t *step)
{
    return totp_check(bytes_of(secret, TOTP_SECRET_BYTES), code, (int64_t)time(NULL), after, step);
}

enum err account_totp_enable(struct db *db, const char *did, const char *code,
                             char codes[TOTP_RECOVERY_CODES][TOTP_RECOVERY_CODE_CHARS + 1],
                             bool *ok)
{
    *ok = false;
    uint8_t secret[TOTP_SECRET_BYTES];
    uint64_t last, step;
    enum err e = load(db, did, false, secret, &last);
    if (e == ERR_NOT_FOUND) {
        return ERR_OK;
    }
    bool good = !e && code_ok(secret, code, last, &step);
    sodium_memzero(secret, sizeof secret);
    if (e || !good) {
        return e;
    }
    if ((e = db_begin(db))) {
        return e;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_i64(&p, (int64_t)step);
    int64_t n = 0;
    e = db_exec(db,
                "UPDATE account_totp SET enabled_at = now(), last_step = $2 WHERE did = $1"
                " AND enabled_at IS NULL",
                &p, &n);
    if (!e) {
        db_params_init(&p);
        db_param_text(&p, did);
        e = db_exec(db, "DELETE FROM account_totp_recovery WHERE did = $1", &p, NULL);
    }
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789"; /* no 0/o, 1/l */
    for (int i = 0; i < TOTP_RECOVERY_CODES && !e && n == 1; i++) {
        for (int k = 0; k < TOTP_RECOVERY_CODE_CHARS; k++) {
            codes[i][k] = k == 5 ? '-' : alphabet[randombytes_uniform(sizeof alphabet - 1)];
        }
        codes[i][TOTP_RECOVERY_CODE_CHARS] = '\0';
        char hash[65];
        recovery_hash(codes[i], hash);
        db_params_init(&p);
        db_param_text(&p, did);
        db_param_text(&p, hash);
        e = db_exec(db, "INSERT INTO account_totp_recovery (did, code_hash) VALUES ($1, $2)", &p,
                    NULL);
    }
    if (e || n != 1) {
        db_rollback(db);
        return e;
    }
    if ((e = db_commit(db))) {
        return e;
    }
    *ok = true;
    return ERR_OK;
}

enum err account_totp_check(struct db *db, const char *did, const char *code, bool *ok)
{
    *ok = false;
    if (!code) {
        return ERR_OK;
    }
    uint8_t secret[TOTP_SECRET_BYTES];
    uint64_t last, step;
    enum err e = load(db, did, true, secret, &last);
    if (e == ERR_NOT_FOUND) {
        return ERR_OK;
    }
    bool good = !e && code_ok(secret, code, last, &step);
    sodium_memzero(secret, sizeof secret);
    if (e) {
        return e;
    }
    if (good) {
        return use_step(db, did, step, ok);
    }
    /* not a current code: perhaps a recovery code, which works once */
    char hash[65];
    recovery_hash(code, hash);
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    db_param_text(&p, hash);
    int64_t n = 0;
    e = db_exec(db, "DELETE FROM account_totp_recovery WHERE did = $1 AND code_hash = $2", &p, &n);
    *ok = !e && n == 1;
    return e;
}

enum err account_totp_disable(struct db *db, const char *did, const char *code, bool *ok)
{
    enum err e = account_totp_check(db, did, code, ok);
    if (e || !*ok) {
        return e;
    }
    struct db_params p;
    db_params_init(&p);
    db_param_text(&p, did);
    if ((e = db_begin(db))) {
        return e;
    }
    if ((e = db_exec(db, "DELETE FROM account_totp WHERE did = $1", &p, NULL)) ||
        (e = db_exec(db, "DELETE FROM account_totp_recovery WHERE did = $1", &p, NULL))) {
        db_rollback(db);
        return e;
    }
    return db_commit(db);
}
