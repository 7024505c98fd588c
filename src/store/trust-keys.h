/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The keys trusted to sign images, rkt's layout and rules:
 *
 *   VENDOR/root.d/FINGERPRINT               trusted for every image name (ROCKET_TRUSTED_KEYS_VENDOR)
 *   VENDOR/prefix.d/PREFIX/FINGERPRINT      trusted for names at or below PREFIX ("example.com/app")
 *   /etc/rocket/trustedkeys/…               the administrator's, the same layout; an empty file there
 *                                           masks the vendor's key of the same path
 *
 * FINGERPRINT is the primary key's, lowercase hex; the file holds the armored public key. */

#include "gpg-verify.h"
#include "macro.h"

#define TRUST_ADMIN_DIR "/etc/rocket/trustedkeys"

typedef struct TrustDirs {
        const char *vendor;
        const char *admin;
} TrustDirs;

/* The built-in directories. */
TrustDirs trust_dirs_default(void) _pure_;

typedef struct TrustedKey {
        char *prefix;           /* NULL: a root key */
        char *fingerprint;      /* lowercase hex */
        char *path;             /* the file it is in */
        bool vendor;
} TrustedKey;

void trusted_key_array_free(TrustedKey *k, size_t n);

/* Whether prefix is a valid image name prefix (lowercase, digits, '-', '.', '/'; no ".." or empty
 * components). */
bool trust_prefix_is_valid(const char *prefix) _pure_;

/* Every key trusted for name (root keys and the keys of each of its prefixes), or every key if name is
 * NULL; masked vendor keys left out. */
int trust_keys_list(const TrustDirs *d, const char *name, TrustedKey **ret, size_t *ret_n);
/* Stores the armored key as the administrator's key for prefix (NULL: a root key). */
int trust_key_add(const TrustDirs *d, const char *prefix, const char *fingerprint, const void *armored,
                  size_t size);
/* Removes the administrator's copies of the key and masks a vendor's. -ENOENT if no key has that
 * fingerprint. */
int trust_key_remove(const TrustDirs *d, const char *fingerprint);

/* Verifies a detached signature over data_fd with the keys trusted for name. 0 if a trusted key made a good
 * signature (*ret_fingerprint names it); otherwise the failure with *reterr_detail saying which key and which
 * prefix it would need. */
int trust_verify_detached(const TrustDirs *d, const char *name, int data_fd, const void *sig, size_t sig_size,
                          char **ret_fingerprint, char **reterr_detail);
