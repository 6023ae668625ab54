/* cli_files.c - file work for backup and restore: copying while hashing (SHA-256), hashing
 * in place, creating directories, and the hex forms of digests. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cid.h"
#include "core/hex.h"
#include "core/sha256.h"

#define COPY_CHUNK (256 << 10)

int cli_mkdirs(const char *path, unsigned mode)
{
    char *p = xstrndup(path, strlen(path));
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
                cli_error("could not create \"%s\": %s", p, strerror(errno));
                free(p);
                return CLI_FAIL;
            }
            *s = '/';
        }
    }
    int rc = mkdir(p, (mode_t)mode) != 0 && errno != EEXIST ? CLI_FAIL : CLI_OK;
    if (rc) {
        cli_error("could not create \"%s\": %s", p, strerror(errno));
    }
    free(p);
    return rc;
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reads fd to its end into the hash (and into out_fd when >= 0). */
static int pump(int fd, int out_fd, struct sha256_ctx *h, uint64_t *size, const char *what)
{
    static uint8_t chunk[COPY_CHUNK];
    *size = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            cli_error("could not read \"%s\": %s", what, strerror(errno));
            return CLI_FAIL;
        }
        if (n == 0) {
            return CLI_OK;
        }
        sha256_update(h, chunk, (size_t)n);
        *size += (uint64_t)n;
        for (ssize_t off = 0; out_fd >= 0 && off < n;) {
            ssize_t w = write(out_fd, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                cli_error("could not write a copy of \"%s\": %s", what, strerror(errno));
                return CLI_FAIL;
            }
            off += w;
        }
    }
}

int cli_copy_file(const char *src, const char *dst, unsigned mode, uint8_t sha[32], uint64_t *size)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        return errno == ENOENT
                   ? CLI_MISSING
                   : (cli_error("could not open \"%s\": %s", src, strerror(errno)), CLI_FAIL);
    }
    const char *slash = strrchr(dst, '/');
    if (slash) {
        char *dir = xstrndup(dst, (size_t)(slash - dst));
        int rc = cli_mkdirs(dir, 0700);
        free(dir);
        if (rc) {
            close(in);
            return rc;
        }
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
    if (out < 0) {
        cli_error("could not create \"%s\": %s", dst, strerror(errno));
        close(in);
        return CLI_FAIL;
    }
    struct sha256_ctx h;
    sha256_init(&h);
    int rc = pump(in, out, &h, size, src);
    sha256_final(&h, sha);
    if (!rc && fsync(out) != 0) {
        cli_error("could not write \"%s\" to disk: %s", dst, strerror(errno));
        rc = CLI_FAIL;
    }
    close(in);
    if (close(out) != 0 && !rc) {
        cli_error("could not write \"%s\": %s", dst, strerror(errno));
        rc = CLI_FAIL;
    }
    return rc;
}

int cli_hash_file(const char *path, uint8_t sha[32], uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT
                   ? CLI_MISSING
                   : (cli_error("could not open \"%s\": %s", path, strerror(errno)), CLI_FAIL);
    }
    struct sha256_ctx h;
    sha256_init(&h);
    int rc = pump(fd, -1, &h, size, path);
    sha256_final(&h, sha);
    close(fd);
    return rc;
}

int cli_write_file(const char *path, const char *text, unsigned mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    size_t n = strlen(text);
    bool ok = fd >= 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) {
        ok = false;
    }
    if (!ok) {
        cli_error("could not write \"%s\": %s", path, strerror(errno));
    }
    return ok ? CLI_OK : CLI_FAIL;
}

bool cli_unhex(const char *s, uint8_t *out, size_t max, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2 || len / 2 > max) {
        return false;
    }
    for (size_t i = 0; i < len / 2; i++) {
        int hi = hex_digit((uint8_t)s[2 * i]), lo = hex_digit((uint8_t)s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return true;
}

const uint8_t *cli_cid_sha256(const struct cid *cid)
{
    /* spec(cid): the multihash ends the CID: 0x12 (sha2-256), 0x20 (32 bytes), digest */
    if (cid->len < 34 || cid->bytes[cid->len - 34] != 0x12 || cid->bytes[cid->len - 33] != 0x20) {
        return NULL;
    }
    return cid->bytes + cid->len - 32;
}
