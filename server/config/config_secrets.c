/* config_secrets.c - development secrets: on localhost or in dev mode, the secrets a
 * configuration lacks are read from, or generated once into, <data_dir>/secrets.env (mode
 * 0600); in production a missing one is an error naming the variable. */
#include "config/config_table.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/hex.h"

#define SECRET_HEX_BYTES 16 /* random bytes in a generated JWT secret or admin password */

/* secp256k1 group order n: a private key is an integer in [1, n-1]. */
static const uint8_t k256_order[32] = {
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36, 0x41, 0x41,
};

/* True for 64 hex digits encoding an integer in [1, n-1]; lower-cases the text. */
static bool rotation_key_valid(char *hex)
{
    uint8_t k[32];
    if (strlen(hex) != CONFIG_ROTATION_KEY_HEX_LEN) {
        return false;
    }
    for (size_t i = 0; i < 32; i++) {
        int hi = hex_digit((uint8_t)hex[2 * i]), lo = hex_digit((uint8_t)hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        k[i] = (uint8_t)(hi << 4 | lo);
        hex[2 * i] = (char)tolower((unsigned char)hex[2 * i]);
        hex[2 * i + 1] = (char)tolower((unsigned char)hex[2 * i + 1]);
    }
    bool zero = true;
    for (size_t i = 0; i < 32; i++) {
        zero = zero && k[i] == 0;
    }
    bool below = memcmp(k, k256_order, 32) < 0;
    explicit_bzero(k, sizeof k);
    return !zero && below;
}

/* Fills out with 2*nbytes hex digits of kernel randomness and a NUL. */
static void random_hex(char *out, size_t nbytes)
{
    uint8_t r[64];
    if (nbytes > sizeof r) {
        abort();
    }
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(r + got, nbytes - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            abort(); /* no kernel randomness: nothing safe to do */
        }
        got += (size_t)n;
    }
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = digits[r[i] >> 4];
        out[2 * i + 1] = digits[r[i] & 15];
    }
    out[2 * nbytes] = '\0';
    explicit_bzero(r, sizeof r);
}

struct secret_slot {
    const char *env;
    size_t offset;
};

static const struct secret_slot secret_slots[] = {
    {"PDS_JWT_SECRET", offsetof(struct config, jwt_secret)},
    {"PDS_ADMIN_PASSWORD", offsetof(struct config, admin_password)},
    {"PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX", offsetof(struct config, plc_rotation_key_hex)},
};

static char **slot_field(struct config *cfg, const struct secret_slot *s)
{
    return (char **)((char *)cfg + s->offset);
}

static enum err make_dir(const char *path, mode_t mode, char *why, size_t why_len)
{
    char tmp[PATH_MAX];
    if (strlen(path) >= sizeof tmp) {
        return config_fail(why, why_len, "path too long: \"%s\"", path);
    }
    memcpy(tmp, path, strlen(path) + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
                return config_fail(why, why_len, "could not create directory \"%s\": %s", tmp,
                                   strerror(errno));
            }
            *p = '/';
        }
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST) {
        return config_fail(why, why_len, "could not create directory \"%s\": %s", tmp,
                           strerror(errno));
    }
    return ERR_OK;
}

/* Reads KEY=VALUE lines of the secrets file into unset secret fields. */
static void secrets_read(struct config *cfg, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return;
    }
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *eq = strchr(line, '=');
        if (line[0] == '#' || !eq) {
            continue;
        }
        *eq = '\0';
        char *value = eq + 1;
        value[strcspn(value, "\r\n")] = '\0';
        for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
            char **field = slot_field(cfg, &secret_slots[i]);
            if (strcmp(line, secret_slots[i].env) == 0 && !*field && *value) {
                *field = xstrndup(value, strlen(value));
                cfg->secrets_from_file = true;
            }
        }
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
}

/* Writes all three secrets to path atomically (temporary file, then rename), mode 0600. */
static enum err secrets_write(struct config *cfg, const char *path, char *why, size_t why_len)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        return config_fail(why, why_len, "path too long: \"%s\"", path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return config_fail(why, why_len, "could not create \"%s\": %s", tmp, strerror(errno));
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return config_fail(why, why_len, "could not write \"%s\"", tmp);
    }
    fprintf(f, "# Secrets generated by `pds serve` for development (PDS_DEV_MODE or localhost).\n"
               "# Keep this file: the PLC rotation key and JWT secret keep accounts usable.\n"
               "# In production set these variables yourself.\n");
    for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
        fprintf(f, "%s=%s\n", secret_slots[i].env, *slot_field(cfg, &secret_slots[i]));
    }
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return config_fail(why, why_len, "could not write \"%s\": %s", path, strerror(errno));
    }
    return ERR_OK;
}

enum err config_secrets_resolve(struct config *cfg, char *why, size_t why_len)
{
    bool missing = false;
    for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
        missing = missing || !*slot_field(cfg, &secret_slots[i]);
    }
    if (missing && !cfg->dev_mode && !cfg->is_localhost) {
        for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
            if (!*slot_field(cfg, &secret_slots[i])) {
                return config_fail(why, why_len,
                                   "%s is not set (required unless PDS_DEV_MODE=true or "
                                   "PDS_HOSTNAME=localhost)",
                                   secret_slots[i].env);
            }
        }
    }
    if (missing) {
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", cfg->data_dir, CONFIG_SECRETS_FILE) >=
            sizeof path) {
            return config_fail(why, why_len, "PDS_DATA_DIRECTORY is too long");
        }
        enum err e = make_dir(cfg->data_dir, 0755, why, why_len);
        if (e) {
            return e;
        }
        secrets_read(cfg, path);
        bool generate = false;
        for (size_t i = 0; i < ARRAY_LEN(secret_slots); i++) {
            char **field = slot_field(cfg, &secret_slots[i]);
            if (*field) {
                continue;
            }
            bool is_key = secret_slots[i].offset == offsetof(struct config, plc_rotation_key_hex);
            char hex[CONFIG_ROTATION_KEY_HEX_LEN + 1];
            do {
                random_hex(hex, is_key ? CONFIG_ROTATION_KEY_HEX_LEN / 2 : SECRET_HEX_BYTES);
            } while (is_key && !rotation_key_valid(hex));
            *field = xstrndup(hex, strlen(hex));
            explicit_bzero(hex, sizeof hex);
            generate = true;
        }
        if (generate) {
            e = secrets_write(cfg, path, why, why_len);
            if (e) {
                return e;
            }
            cfg->secrets_created = true;
        }
    }
    if (!rotation_key_valid(cfg->plc_rotation_key_hex)) {
        return config_fail(
            why, why_len,
            "PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX must be 64 hex digits of a valid "
            "secp256k1 private key");
    }
    return ERR_OK;
}
