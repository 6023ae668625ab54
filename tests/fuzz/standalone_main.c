/* standalone_main.c - drives a libFuzzer target without libFuzzer (gcc builds): replays
 * every seed file, then a bounded number of deterministic mutations of them. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STANDALONE_MUTATIONS 20000
#define STANDALONE_MAX_INPUT 65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int main(int argc, char **argv)
{
    static uint8_t seeds[64][STANDALONE_MAX_INPUT];
    static size_t seed_len[64];
    size_t nseeds = 0;
    if (argc > 1) {
        DIR *d = opendir(argv[1]);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL && nseeds < 64) {
            if (de->d_name[0] == '.') {
                continue;
            }
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
            FILE *f = fopen(path, "rb");
            if (!f) {
                continue;
            }
            seed_len[nseeds] = fread(seeds[nseeds], 1, STANDALONE_MAX_INPUT, f);
            fclose(f);
            LLVMFuzzerTestOneInput(seeds[nseeds], seed_len[nseeds]);
            nseeds++;
        }
        if (d) {
            closedir(d);
        }
    }
    static uint8_t buf[STANDALONE_MAX_INPUT];
    for (int i = 0; i < STANDALONE_MUTATIONS; i++) {
        size_t len;
        if (nseeds) {
            size_t s = rng() % nseeds;
            len = seed_len[s];
            memcpy(buf, seeds[s], len);
        } else {
            len = rng() % 256;
            for (size_t k = 0; k < len; k++) {
                buf[k] = (uint8_t)rng();
            }
        }
        int flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < flips && len; k++) {
            switch (rng() % 3) {
            case 0:
                buf[rng() % len] = (uint8_t)rng();
                break;
            case 1:
                len = rng() % (len + 1);
                break;
            default:
                if (len < STANDALONE_MAX_INPUT) {
                    buf[len++] = (uint8_t)rng();
                }
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%zu seeds and %d mutations ran without a crash\n", nseeds, STANDALONE_MUTATIONS);
    return 0;
}
