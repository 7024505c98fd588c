/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "macro.h"

/* "sha256:" + 64 lowercase hex digits. */
#define DIGEST_PREFIX "sha256:"
#define DIGEST_HEX_LEN 64
#define DIGEST_STRING_MAX (sizeof(DIGEST_PREFIX) + DIGEST_HEX_LEN)

bool digest_is_valid(const char *d) _pure_;
/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *d) {
        return d + sizeof(DIGEST_PREFIX) - 1;
}

typedef struct Sha256 Sha256;
Sha256 *sha256_new(void);
Sha256 *sha256_free(Sha256 *h);
DEFINE_POINTER_CLEANUP(Sha256, sha256_free);
int sha256_update(Sha256 *h, const void *data, size_t size);
/* Writes "sha256:<hex>" into ret. */
int sha256_final(Sha256 *h, char ret[static DIGEST_STRING_MAX]);
int sha256_data(const void *data, size_t size, char ret[static DIGEST_STRING_MAX]);
/* Hashes fd from its current offset to EOF. */
int sha256_fd(int fd, char ret[static DIGEST_STRING_MAX], uint64_t *ret_size);
