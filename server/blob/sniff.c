/* sniff.c - magic numbers of the media types people upload. */
#include "blob/sniff.h"

#include <stdbool.h>
#include <string.h>

#define FTYP_OFFSET 4 /* ISO BMFF: box size (4 bytes), then "ftyp", then the major brand */

struct magic {
    size_t offset;
    const char *bytes;
    size_t len;
    const char *mime;
};

#define M(off, lit, mime)                                                                          \
    {                                                                                              \
        (off), (lit), sizeof(lit) - 1, (mime)                                                      \
    }

/* Order matters only where one signature prefixes another (none below). */
static const struct magic magics[] = {
    M(0, "\xFF\xD8\xFF", "image/jpeg"),
    M(0, "\x89PNG\r\n\x1A\n", "image/png"),
    M(0, "GIF87a", "image/gif"),
    M(0, "GIF89a", "image/gif"),
    M(0, "II*\0", "image/tiff"),
    M(0, "MM\0*", "image/tiff"),
    M(0, "\0\0\1\0", "image/x-icon"),
    M(0, "%PDF-", "application/pdf"),
    M(0, "\x1F\x8B\x08", "application/gzip"),
    M(0, "PK\x03\x04", "application/zip"),
    M(0, "OggS", "audio/ogg"),
    M(0, "fLaC", "audio/x-flac"),
    M(0, "ID3", "audio/mpeg"),
};

#undef M

static bool at(const uint8_t *head, size_t n, size_t off, const char *lit, size_t len)
{
    return n >= off + len && memcmp(head + off, lit, len) == 0;
}

/* ISO base media files (MP4, MOV, AVIF, HEIC): "ftyp" and a major brand. */
static const char *sniff_ftyp(const uint8_t *head, size_t n)
{
    if (!at(head, n, FTYP_OFFSET, "ftyp", 4) || n < FTYP_OFFSET + 8) {
        return NULL;
    }
    const char *brand = (const char *)head + FTYP_OFFSET + 4;
    static const struct {
        const char *brand;
        const char *mime;
    } brands[] = {
        {"avif", "image/avif"},  {"avis", "image/avif"},  {"heic", "image/heic"},
        {"heix", "image/heic"},  {"heim", "image/heic"},  {"heis", "image/heic"},
        {"mif1", "image/heif"},  {"msf1", "image/heif"},  {"qt  ", "video/quicktime"},
        {"M4A ", "audio/x-m4a"}, {"M4V ", "video/x-m4v"}, {"3gp4", "video/3gpp"},
        {"3gp5", "video/3gpp"},  {"3g2a", "video/3gpp2"},
    };
    for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++) {
        if (memcmp(brand, brands[i].brand, 4) == 0) {
            return brands[i].mime;
        }
    }
    return "video/mp4"; /* isom, mp41, mp42, avc1, dash... */
}

/* RIFF containers: WebP images and WAV audio. */
static const char *sniff_riff(const uint8_t *head, size_t n)
{
    if (!at(head, n, 0, "RIFF", 4)) {
        return NULL;
    }
    if (at(head, n, 8, "WEBP", 4)) {
        return "image/webp";
    }
    if (at(head, n, 8, "WAVE", 4)) {
        return "audio/wav";
    }
    return NULL;
}

/* EBML (Matroska family): WebM when the doc type says so. */
static const char *sniff_ebml(const uint8_t *head, size_t n)
{
    if (!at(head, n, 0, "\x1A\x45\xDF\xA3", 4)) {
        return NULL;
    }
    for (size_t i = 4; i + 4 <= n; i++) {
        if (memcmp(head + i, "webm", 4) == 0) {
            return "video/webm";
        }
    }
    return "video/x-matroska";
}

/* MPEG audio without an ID3 tag: a frame sync (11 set bits) and layer III. */
static bool is_mp3_frame(const uint8_t *head, size_t n)
{
    return n >= 2 && head[0] == 0xFF && (head[1] & 0xE6) == 0xE2;
}

const char *sniff_mime(const uint8_t *head, size_t n)
{
    for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
        const struct magic *m = &magics[i];
        if (at(head, n, m->offset, m->bytes, m->len)) {
            return m->mime;
        }
    }
    const char *t = sniff_ftyp(head, n);
    if (!t) {
        t = sniff_riff(head, n);
    }
    if (!t) {
        t = sniff_ebml(head, n);
    }
    /* BMP: "BM", then the file size, then four reserved zero bytes */
    if (!t && at(head, n, 0, "BM", 2) && at(head, n, 6, "\0\0\0\0", 4) && n >= 14) {
        t = "image/bmp";
    }
    if (!t && is_mp3_frame(head, n)) {
        t = "audio/mpeg";
    }
    return t;
}
