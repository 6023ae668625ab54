/* sha256.c - SHA-256 on OpenSSL. */
#include "core/sha256.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>

void sha256(const void *data, size_t len, uint8_t out[SHA256_BYTES])
{
    SHA256(data, len, out);
}

void sha256_init(struct sha256_ctx *c)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        abort();
    }
    c->_md = md;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    if (EVP_DigestUpdate(c->_md, data, len) != 1) {
        abort();
    }
}

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_BYTES])
{
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->_md, out, &n) != 1 || n != SHA256_BYTES) {
        abort();
    }
    EVP_MD_CTX_free(c->_md);
    c->_md = NULL;
}
