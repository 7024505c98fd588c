/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <gpgme.h>
#include <stdio.h>
#include <stdlib.h>

#include "fs-util.h"
#include "gpg-verify.h"
#include "log.h"
#include "string-util.h"

struct GpgKeyring {
        char *home;
        gpgme_ctx_t ctx;
};

int gpg_keyring_new(GpgKeyring **ret) {
        _cleanup_(gpg_keyring_freep) GpgKeyring *k = NULL;
        const char *tmp = getenv("TMPDIR");
        int r;

        if (!gpgme_check_version(NULL))
                return -EIO;
        k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        if (asprintf(&k->home, "%s/rocket-gpg.XXXXXX", isempty(tmp) ? "/tmp" : tmp) < 0) {
                k->home = NULL;
                return -ENOMEM;
        }
        if (!mkdtemp(k->home)) {
                free(k->home);
                k->home = NULL;
                return -errno;
        }
        /* Only what a check needs: no agent, no key servers, no trust database upkeep. */
        static const char conf[] = "no-autostart\nno-auto-key-locate\nno-auto-key-retrieve\ntrust-model always\n";
        _cleanup_close_ int dfd = open(k->home, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        r = write_file_atomic_at(dfd, "gpg.conf", conf, strlen(conf), 0600);
        if (r < 0)
                return r;
        if (gpgme_new(&k->ctx) != GPG_ERR_NO_ERROR)
                return -ENOMEM;
        if (gpgme_ctx_set_engine_info(k->ctx, GPGME_PROTOCOL_OpenPGP, NULL, k->home) != GPG_ERR_NO_ERROR ||
            gpgme_set_protocol(k->ctx, GPGME_PROTOCOL_OpenPGP) != GPG_ERR_NO_ERROR)
                return -ENOPKG;         /* no gpg */
        gpgme_set_offline(k->ctx, 1);
        *ret = TAKE_PTR(k);
        return 0;
}

GpgKeyring *gpg_keyring_free(GpgKeyring *k) {
        if (!k)
                return NULL;
        if (k->ctx)
                gpgme_release(k->ctx);
        if (k->home) {
                int r = rm_rf_at(AT_FDCWD, k->home);
                if (r < 0)
                        log_debug_errno(r, "Failed to remove %s, ignoring: %m", k->home);
                free(k->home);
        }
        free(k);
        return NULL;
}

static void upcase(char *s) {
        for (; *s; s++)
                *s = (char) toupper((unsigned char) *s);
}

int gpg_keyring_import(GpgKeyring *k, const void *data, size_t size, char ***ret_fingerprints) {
        _cleanup_strv_free_ char **fprs = NULL;
        gpgme_data_t d = NULL;
        gpgme_import_result_t res;
        gpgme_error_t e;

        if (gpgme_data_new_from_mem(&d, data, size, 0) != GPG_ERR_NO_ERROR)
                return -ENOMEM;
        e = gpgme_op_import(k->ctx, d);
        gpgme_data_release(d);
        if (e != GPG_ERR_NO_ERROR)
                return log_debug_errno(SYNTHETIC_ERRNO(EBADMSG), "gpgme: import: %s", gpgme_strerror(e));
        res = gpgme_op_import_result(k->ctx);
        if (!res || res->considered == 0 || (res->imported + res->unchanged) == 0)
                return -EBADMSG;
        for (gpgme_import_status_t st = res->imports; st; st = st->next) {
                char f[GPG_FINGERPRINT_MAX];

                if (st->result != GPG_ERR_NO_ERROR || !st->fpr || strv_contains(fprs, st->fpr))
                        continue;
                snprintf(f, sizeof f, "%s", st->fpr);
                upcase(f);
                if (!strv_contains(fprs, f) && strv_extend(&fprs, f) < 0)
                        return -ENOMEM;
        }
        if (ret_fingerprints)
                *ret_fingerprints = TAKE_PTR(fprs);
        return 0;
}

void gpg_key_info_done(GpgKeyInfo *i) {
        strv_free(i->uids);
        *i = (GpgKeyInfo) {};
}

int gpg_keyring_key_info(GpgKeyring *k, const char *fingerprint, GpgKeyInfo *ret) {
        _cleanup_(gpg_key_info_done) GpgKeyInfo info = {};
        gpgme_key_t key = NULL;

        if (gpgme_get_key(k->ctx, fingerprint, &key, 0) != GPG_ERR_NO_ERROR || !key)
                return -ENOKEY;
        snprintf(info.fingerprint, sizeof info.fingerprint, "%s", key->fpr ?: fingerprint);
        upcase(info.fingerprint);
        info.expired = key->expired;
        info.revoked = key->revoked;
        for (gpgme_user_id_t u = key->uids; u; u = u->next)
                if (u->uid && strv_extend(&info.uids, u->uid) < 0) {
                        gpgme_key_unref(key);
                        return -ENOMEM;
                }
        gpgme_key_unref(key);
        *ret = info;
        info = (GpgKeyInfo) {};
        return 0;
}

static int status_to_errno(gpgme_error_t status, gpgme_sigsum_t summary) {
        switch (gpgme_err_code(status)) {
        case GPG_ERR_NO_ERROR:
                if (summary & (GPGME_SIGSUM_KEY_REVOKED))
                        return -EKEYREVOKED;
                if (summary & (GPGME_SIGSUM_KEY_EXPIRED | GPGME_SIGSUM_SIG_EXPIRED))
                        return -EKEYEXPIRED;
                return 0;
        case GPG_ERR_KEY_EXPIRED:
        case GPG_ERR_SIG_EXPIRED:
                return -EKEYEXPIRED;
        case GPG_ERR_CERT_REVOKED:
                return -EKEYREVOKED;
        case GPG_ERR_NO_PUBKEY:
                return -ENOKEY;
        default:
                return -EBADMSG;
        }
}

static int signature_result(GpgKeyring *k, GpgSignature *ret) {
        gpgme_verify_result_t res = gpgme_op_verify_result(k->ctx);
        gpgme_signature_t sig;
        gpgme_key_t key = NULL;

        if (!res || !res->signatures)
                return -EBADMSG;
        /* The first good one, else the first one. */
        sig = res->signatures;
        for (gpgme_signature_t s = res->signatures; s; s = s->next)
                if (status_to_errno(s->status, s->summary) == 0) {
                        sig = s;
                        break;
                }
        *ret = (GpgSignature) { .status = status_to_errno(sig->status, sig->summary) };
        /* A subkey may have signed: the key trusted is named by its primary key's fingerprint. */
        if (sig->fpr && gpgme_get_key(k->ctx, sig->fpr, &key, 0) == GPG_ERR_NO_ERROR && key && key->fpr)
                snprintf(ret->fingerprint, sizeof ret->fingerprint, "%s", key->fpr);
        else
                snprintf(ret->fingerprint, sizeof ret->fingerprint, "%s", strempty(sig->fpr));
        if (key)
                gpgme_key_unref(key);
        upcase(ret->fingerprint);
        return 0;
}

int gpg_verify_detached(GpgKeyring *k, int data_fd, const void *sig, size_t sig_size, GpgSignature *ret) {
        gpgme_data_t s = NULL, d = NULL;
        gpgme_error_t e;

        if (gpgme_data_new_from_mem(&s, sig, sig_size, 0) != GPG_ERR_NO_ERROR)
                return -ENOMEM;
        if (gpgme_data_new_from_fd(&d, data_fd) != GPG_ERR_NO_ERROR) {
                gpgme_data_release(s);
                return -ENOMEM;
        }
        e = gpgme_op_verify(k->ctx, s, d, NULL);
        gpgme_data_release(s);
        gpgme_data_release(d);
        if (e != GPG_ERR_NO_ERROR) {
                log_debug("gpgme: verify: %s", gpgme_strerror(e));
                return -EBADMSG;
        }
        return signature_result(k, ret);
}

int gpg_verify_opaque(GpgKeyring *k, const void *msg, size_t size, GpgSignature *ret, char **ret_payload,
                      size_t *ret_payload_size) {
        gpgme_data_t m = NULL, plain = NULL;
        gpgme_error_t e;
        char *p;
        size_t n;
        int r;

        if (gpgme_data_new_from_mem(&m, msg, size, 0) != GPG_ERR_NO_ERROR)
                return -ENOMEM;
        if (gpgme_data_new(&plain) != GPG_ERR_NO_ERROR) {
                gpgme_data_release(m);
                return -ENOMEM;
        }
        e = gpgme_op_verify(k->ctx, m, NULL, plain);
        gpgme_data_release(m);
        if (e != GPG_ERR_NO_ERROR) {
                gpgme_data_release(plain);
                log_debug("gpgme: verify: %s", gpgme_strerror(e));
                return -EBADMSG;
        }
        r = signature_result(k, ret);
        p = gpgme_data_release_and_get_mem(plain, &n);
        if (r < 0) {
                gpgme_free(p);
                return r;
        }
        *ret_payload = malloc(n + 1);
        if (!*ret_payload) {
                gpgme_free(p);
                return -ENOMEM;
        }
        if (n > 0)
                memcpy(*ret_payload, p, n);
        (*ret_payload)[n] = 0;
        *ret_payload_size = n;
        gpgme_free(p);
        return 0;
}
