/* sniff.h - recognising a blob's media type from its first bytes, as the reference does
 * (file-type): a recognised signature wins over the client's Content-Type; otherwise the
 * declared type stands. Never parses media beyond the signature. Pure; thread-safe. */
#ifndef PDS_BLOB_SNIFF_H
#define PDS_BLOB_SNIFF_H

#include <stddef.h>
#include <stdint.h>

#define SNIFF_HEAD_BYTES 64 /* bytes of the blob's start that sniffing looks at */

/* The media type whose signature head[0..n) starts with (a static string), or NULL when
 * none of the known signatures matches: images (JPEG, PNG, GIF, WebP, AVIF, HEIC/HEIF,
 * BMP, TIFF, ICO), video (MP4 and its kin, QuickTime, WebM, Matroska), audio (MP3, Ogg,
 * WAV, FLAC), PDF, gzip and zip. */
const char *sniff_mime(const uint8_t *head, size_t n);

#endif
