/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* OpenPGP signature checks with GPGME, in a keyring of their own: a private GNUPGHOME made for the check,
 * holding only the keys the caller imports, removed afterwards. The user's keyring is never read. */

#include <stdint.h>

#include "macro.h"

#define GPG_FINGERPRINT_MAX 65

typedef struct GpgKeyring GpgKeyring;

int gpg_keyring_new(GpgKeyring **ret);
GpgKeyring *gpg_keyring_free(GpgKeyring *k);
DEFINE_POINTER_CLEANUP(GpgKeyring, gpg_keyring_free);

/* Imports armored or binary public keys; ret_fingerprints (optional) lists the primary keys' fingerprints,
 * uppercase hex. -EBADMSG if there is no key in data. */
int gpg_keyring_import(GpgKeyring *k, const void *data, size_t size, char ***ret_fingerprints);

typedef struct GpgKeyInfo {
        char fingerprint[GPG_FINGERPRINT_MAX];
        char **uids;
        bool expired, revoked;
} GpgKeyInfo;

void gpg_key_info_done(GpgKeyInfo *i);
int gpg_keyring_key_info(GpgKeyring *k, const char *fingerprint, GpgKeyInfo *ret);

/* What a signature check found. status: 0 a good signature by a key in the keyring, -EKEYEXPIRED (the key or
 * the signature expired), -EKEYREVOKED, -EBADMSG (the data does not match), -ENOKEY (made by a key the
 * keyring does not hold). fingerprint: the signing primary key's, or the key ID the signature names when
 * the key is unknown. */
typedef struct GpgSignature {
        int status;
        char fingerprint[GPG_FINGERPRINT_MAX];
} GpgSignature;

/* A detached signature (armored or binary) over the contents of data_fd. -EBADMSG if sig holds no
 * signature. */
int gpg_verify_detached(GpgKeyring *k, int data_fd, const void *sig, size_t sig_size, GpgSignature *ret);
/* A signed message (gpg --sign, as containers' "simple signing" writes): its signature, and its payload. */
int gpg_verify_opaque(GpgKeyring *k, const void *msg, size_t size, GpgSignature *ret, char **ret_payload,
                      size_t *ret_payload_size);
