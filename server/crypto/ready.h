/* ready.h - libsodium's one-time initialisation, done lazily and thread-safely by every
 * crypto module that calls into it. */
#ifndef PDS_CRYPTO_READY_H
#define PDS_CRYPTO_READY_H

/* Initialises libsodium once per process; aborts if it cannot (no safe randomness). */
void ready_sodium(void);

#endif
