/* ready.c - libsodium's one-time initialisation. */
#include "crypto/ready.h"

#include <pthread.h>
#include <stdlib.h>

#include <sodium.h>

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_once_init(void)
{
    if (sodium_init() < 0) {
        abort();
    }
}

void ready_sodium(void)
{
    if (pthread_once(&sodium_once, sodium_once_init) != 0) {
        abort();
    }
}
