/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "string-util.h"

struct Sha256 {
        EVP_MD_CTX *ctx;
};

bool digest_is_valid(const char *d) {
        const char *hex;

        if (!d)
                return false;
        hex = startswith(d, DIGEST_PREFIX);
        if (!hex || strlen(hex) != DIGEST_HEX_LEN)
                return false;
        return strspn(hex, "0123456789abcdef") == DIGEST_HEX_LEN;
}

Sha256 *sha256_new(void) {
        Sha256 *h = calloc(1, sizeof *h);

        if (!h)
                return NULL;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
                return sha256_free(h);
        return h;
}

Sha256 *sha256_free(Sha256 *h) {
        if (!h)
                return NULL;
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
}

int sha256_update(Sha256 *h, const void *data, size_t size) {
        return EVP_DigestUpdate(h->ctx, data, size) == 1 ? 0 : -EIO;
}

int sha256_final(Sha256 *h, char ret[static DIGEST_STRING_MAX]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        char *p;

        if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != DIGEST_HEX_LEN / 2)
                return -EIO;
        p = stpcpy(ret, DIGEST_PREFIX);
        for (unsigned i = 0; i < len; i++)
                p += sprintf(p, "%02x", md[i]);
        return 0;
}

int sha256_data(const void *data, size_t size, char ret[static DIGEST_STRING_MAX]) {
        _cleanup_(sha256_freep) Sha256 *h = sha256_new();
        int r;

        if (!h)
                return -ENOMEM;
        r = sha256_update(h, data, size);
        if (r < 0)
                return r;
        return sha256_final(h, ret);
}

int sha256_fd(int fd, char ret[static DIGEST_STRING_MAX], uint64_t *ret_size) {
        _cleanup_(sha256_freep) Sha256 *h = sha256_new();
        char buf[128 * 1024];
        uint64_t total = 0;
        int r;

        if (!h)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                r = sha256_update(h, buf, (size_t) n);
                if (r < 0)
                        return r;
                total += (uint64_t) n;
        }
        if (ret_size)
                *ret_size = total;
        return sha256_final(h, ret);
}
