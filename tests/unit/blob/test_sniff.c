/* test_sniff.c - media types recognised from the first bytes; unknown content yields NULL
 * (the declared type then stands). */
#include "unit/test.h"

#include "blob/sniff.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static void test_sniff_known_signatures(void)
{
    CHECK_STR(sniff_mime(S("\xFF\xD8\xFF\xE0\0\x10JFIF")), "image/jpeg");
    CHECK_STR(sniff_mime(S("\x89PNG\r\n\x1A\n\0\0\0\rIHDR")), "image/png");
    CHECK_STR(sniff_mime(S("GIF89a\1\0\1\0")), "image/gif");
    CHECK_STR(sniff_mime(S("RIFF\x24\0\0\0WEBPVP8 ")), "image/webp");
    CHECK_STR(sniff_mime(S("RIFF\x24\0\0\0WAVEfmt ")), "audio/wav");
    CHECK_STR(sniff_mime(S("\0\0\0\x20"
                           "ftypisom\0\0\2\0")),
              "video/mp4");
    CHECK_STR(sniff_mime(S("\0\0\0\x1C"
                           "ftypavif\0\0\0\0")),
              "image/avif");
    CHECK_STR(sniff_mime(S("\0\0\0\x18"
                           "ftypheic\0\0\0\0")),
              "image/heic");
    CHECK_STR(sniff_mime(S("\0\0\0\x14"
                           "ftypqt  \0\0\0\0")),
              "video/quicktime");
    CHECK_STR(sniff_mime(S("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x84webm")), "video/webm");
    CHECK_STR(sniff_mime(S("\x1A\x45\xDF\xA3\x9F\x42\x86\x81\x01\x42\x82\x88matroska")),
              "video/x-matroska");
    CHECK_STR(sniff_mime(S("%PDF-1.7\n")), "application/pdf");
    CHECK_STR(sniff_mime(S("ID3\4\0\0\0\0\0\0")), "audio/mpeg");
    CHECK_STR(sniff_mime(S("\xFF\xFB\x90\x64")), "audio/mpeg");
    CHECK_STR(sniff_mime(S("BM\x36\0\0\0\0\0\0\0\x36\0\0\0")), "image/bmp");
}

static void test_sniff_unknown_is_null(void)
{
    CHECK(sniff_mime(S("hello, world")) == NULL);
    CHECK(sniff_mime(S("{\"a\":1}")) == NULL);
    CHECK(sniff_mime(S("BMW is a car brand")) == NULL);
    CHECK(sniff_mime(S("\xFF\xD8")) == NULL); /* too short for JPEG */
    CHECK(sniff_mime(S("RIFF")) == NULL);
    CHECK(sniff_mime(NULL, 0) == NULL);
}

int main(void)
{
    RUN(test_sniff_known_signatures);
    RUN(test_sniff_unknown_is_null);
    return test_report();
}
