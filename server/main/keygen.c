/* keygen.c - `pds keygen [--p256]`: prints a new signing key for the PDS configuration.
 * Output is two lines on stdout, e.g. for the default k256 key:
 *   PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX=<64 hex digits>
 *   did:key:zQ3s...
 * The first line can be appended to the environment file as is; the second is the public
 * half (a did:key) for DID documents and PLC operations. --p256 makes a P-256 key instead,
 * printed as PDS_PLC_ROTATION_KEY_P256_PRIVATE_KEY_HEX=... and did:key:zDna.... */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "crypto/sigkey.h"
#include "main/commands.h"

int cmd_keygen(int argc, char **argv)
{
    enum sigkey_curve curve = SIGKEY_K256;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--p256") == 0) {
            curve = SIGKEY_P256;
        } else if (strcmp(argv[i], "--k256") == 0) {
            curve = SIGKEY_K256;
        } else {
            fprintf(stderr, "usage: pds keygen [--k256 | --p256]\n");
            return 2;
        }
    }
    struct sigkey key;
    if (sigkey_generate(curve, &key) != ERR_OK) {
        fprintf(stderr, "pds keygen: could not generate a key\n");
        return 1;
    }
    char hex[SIGKEY_PRIVATE_HEX_MAX], did[SIGKEY_DID_KEY_MAX];
    sigkey_private_hex(&key, hex);
    sigkey_did_key(&key, did);
    printf("PDS_PLC_ROTATION_KEY_%s_PRIVATE_KEY_HEX=%s\n%s\n",
           curve == SIGKEY_P256 ? "P256" : "K256", hex, did);
    sodium_memzero(hex, sizeof(hex));
    sigkey_clear(&key);
    return fflush(stdout) == 0 ? 0 : 1;
}
