/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "trust-keys.h"

#define KEY_FILE_MAX (1U << 20)

TrustDirs trust_dirs_default(void) {
        return (TrustDirs) {
                .vendor = ROCKET_TRUSTED_KEYS_VENDOR,
                .admin = TRUST_ADMIN_DIR,
        };
}

void trusted_key_array_free(TrustedKey *k, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(k[i].prefix);
                free(k[i].fingerprint);
                free(k[i].path);
        }
        free(k);
}

static bool fingerprint_is_valid(const char *f) {
        size_t n = strlen(f);

        if (n < 16 || n >= GPG_FINGERPRINT_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) f[i]) || isupper((unsigned char) f[i]))
                        return false;
        return true;
}

bool trust_prefix_is_valid(const char *prefix) {
        size_t n;

        if (isempty(prefix))
                return false;
        n = strlen(prefix);
        if (n > 255 || prefix[0] == '/' || prefix[n - 1] == '/' || strstr(prefix, "//") || strstr(prefix, ".."))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!islower((unsigned char) prefix[i]) && !isdigit((unsigned char) prefix[i]) &&
                    !strchr("-./_", prefix[i]))
                        return false;
        return prefix[0] != '.';
}

typedef struct KeyList {
        TrustedKey *keys;
        size_t n;
} KeyList;

static int key_list_add(KeyList *l, const char *prefix, const char *fingerprint, const char *path, bool vendor) {
        TrustedKey *k;

        /* The administrator's copy wins over the vendor's. */
        for (size_t i = 0; i < l->n; i++)
                if (streq(l->keys[i].fingerprint, fingerprint) && streq_ptr(l->keys[i].prefix, prefix))
                        return 0;
        k = realloc(l->keys, (l->n + 1) * sizeof *k);
        if (!k)
                return -ENOMEM;
        l->keys = k;
        k = &l->keys[l->n];
        *k = (TrustedKey) {
                .prefix = prefix ? strdup(prefix) : NULL,
                .fingerprint = strdup(fingerprint),
                .path = strdup(path),
                .vendor = vendor,
        };
        if ((prefix && !k->prefix) || !k->fingerprint || !k->path)
                return -ENOMEM;
        l->n++;
        return 0;
}

/* The keys in DIR/SUB (root.d or prefix.d/PREFIX), not below it; recursing into prefix directories if
 * recurse. An empty admin file masks; an empty vendor file is nothing. */
static int scan(const TrustDirs *d, bool vendor, const char *sub, const char *prefix, bool recurse, KeyList *l) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_(closedirp) DIR *dd = NULL;
        int r;

        if (asprintf(&dir, "%s/%s", vendor ? d->vendor : d->admin, sub) < 0)
                return -ENOMEM;
        dd = opendir(dir);
        if (!dd)
                return IN_SET(errno, ENOENT, ENOTDIR) ? 0 : -errno;
        for (struct dirent *de; (de = readdir(dd)); ) {
                _cleanup_free_ char *path = NULL, *mask = NULL, *sub2 = NULL, *prefix2 = NULL;
                struct stat st;

                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                if (fstatat(dirfd(dd), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (!recurse)
                                continue;
                        if (asprintf(&sub2, "%s/%s", sub, de->d_name) < 0 ||
                            asprintf(&prefix2, "%s%s%s", strempty(prefix), prefix ? "/" : "", de->d_name) < 0)
                                return -ENOMEM;
                        r = scan(d, vendor, sub2, prefix2, true, l);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (!S_ISREG(st.st_mode) || !fingerprint_is_valid(de->d_name) || st.st_size == 0)
                        continue;
                if (vendor) {
                        struct stat ms;

                        if (asprintf(&mask, "%s/%s/%s", d->admin, sub, de->d_name) < 0)
                                return -ENOMEM;
                        if (stat(mask, &ms) >= 0 && ms.st_size == 0)
                                continue;       /* masked */
                }
                r = key_list_add(l, prefix, de->d_name, path, vendor);
                if (r < 0)
                        return r;
        }
        return 0;
}

int trust_keys_list(const TrustDirs *d, const char *name, TrustedKey **ret, size_t *ret_n) {
        KeyList l = {};
        int r = 0;

        for (int vendor = 0; vendor <= 1 && r >= 0; vendor++) {
                r = scan(d, vendor, "root.d", NULL, false, &l);
                if (r < 0)
                        break;
                if (!name) {
                        r = scan(d, vendor, "prefix.d", NULL, true, &l);
                        continue;
                }
                /* Each prefix of the name by whole components: "a.com", "a.com/x", "a.com/x/y". */
                for (const char *p = name; r >= 0; ) {
                        _cleanup_free_ char *prefix = NULL, *sub = NULL;
                        const char *slash = strchr(p, '/');
                        size_t n = slash ? (size_t) (slash - name) : strlen(name);

                        prefix = strndup(name, n);
                        if (!prefix || asprintf(&sub, "prefix.d/%s", prefix) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        if (trust_prefix_is_valid(prefix))
                                r = scan(d, vendor, sub, prefix, false, &l);
                        if (!slash)
                                break;
                        p = slash + 1;
                }
        }
        if (r < 0) {
                trusted_key_array_free(l.keys, l.n);
                return r;
        }
        *ret = l.keys;
        *ret_n = l.n;
        return 0;
}

static char *fingerprint_lower(const char *fingerprint) {
        char *lower = strdup(fingerprint);

        for (char *c = lower; c && *c; c++)
                *c = (char) tolower((unsigned char) *c);
        return lower;
}

/* BASE/root.d or BASE/prefix.d/PREFIX. */
static int key_dir(const char *base, const char *prefix, char **ret) {
        return asprintf(ret, "%s/%s%s", base, prefix ? "prefix.d/" : "root.d", strempty(prefix)) < 0 ? -ENOMEM : 0;
}

/* Writes the administrator's file for the key: the key itself, or empty to mask the vendor's. */
static int admin_key_write(const TrustDirs *d, const char *prefix, const char *lower, const void *data, size_t size) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = key_dir(d->admin, prefix, &dir);
        if (r < 0)
                return r;
        fd = open_mkdir_at(AT_FDCWD, dir, 0775);
        if (fd < 0)
                return fd;
        return write_file_atomic_at(fd, lower, data, size, 0644);
}

int trust_key_add(const TrustDirs *d, const char *prefix, const char *fingerprint, const void *armored,
                  size_t size) {
        _cleanup_free_ char *lower = NULL;

        if (prefix && !trust_prefix_is_valid(prefix))
                return -EINVAL;
        lower = fingerprint_lower(fingerprint);
        if (!lower)
                return -ENOMEM;
        if (!fingerprint_is_valid(lower))
                return -EINVAL;
        return admin_key_write(d, prefix, lower, armored, size);
}

int trust_key_remove(const TrustDirs *d, const char *fingerprint) {
        _cleanup_free_ char *lower = fingerprint_lower(fingerprint);
        TrustedKey *keys = NULL;
        size_t n = 0;
        bool found = false;
        int r;

        if (!lower)
                return -ENOMEM;
        r = trust_keys_list(d, NULL, &keys, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                if (!streq(keys[i].fingerprint, lower))
                        continue;
                found = true;
                if (!keys[i].vendor) {
                        _cleanup_free_ char *dir = NULL, *shadowed = NULL;

                        /* An administrator's copy of a vendor key: emptied, so that it masks the vendor's. */
                        r = key_dir(d->vendor, keys[i].prefix, &dir);
                        if (r < 0)
                                break;
                        if (asprintf(&shadowed, "%s/%s", dir, lower) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        if (access(shadowed, F_OK) >= 0) {
                                if (truncate(keys[i].path, 0) < 0)
                                        r = -errno;
                        } else if (unlink(keys[i].path) < 0 && errno != ENOENT)
                                r = -errno;
                } else
                        /* A vendor key cannot be deleted: an empty file of the administrator's masks it. */
                        r = admin_key_write(d, keys[i].prefix, lower, "", 0);
        }
        trusted_key_array_free(keys, n);
        if (r < 0)
                return r;
        return found ? 0 : -ENOENT;
}

int trust_verify_detached(const TrustDirs *d, const char *name, int data_fd, const void *sig, size_t sig_size,
                          char **ret_fingerprint, char **reterr_detail) {
        _cleanup_(gpg_keyring_freep) GpgKeyring *k = NULL;
        TrustedKey *keys = NULL;
        size_t n = 0;
        GpgSignature s;
        int r;

        r = trust_keys_list(d, name, &keys, &n);
        if (r < 0)
                return r;
        r = gpg_keyring_new(&k);
        if (r < 0)
                goto finish;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *data = NULL;
                size_t size;

                if (read_full_file_at(AT_FDCWD, keys[i].path, KEY_FILE_MAX, &data, &size) < 0 ||
                    gpg_keyring_import(k, data, size, NULL) < 0)
                        log_warning("Ignoring trusted key %s: not an OpenPGP public key.", keys[i].path);
        }
        r = gpg_verify_detached(k, data_fd, sig, sig_size, &s);
        if (r < 0) {
                r = detail_printf(reterr_detail, -EBADMSG, "its signature file holds no OpenPGP signature");
                goto finish;
        }
        switch (s.status) {
        case 0:
                break;
        case -ENOKEY:
                r = detail_printf(reterr_detail, -ENOKEY,
                                  "it is signed by key %s, which is not trusted for '%s' (rocket trust --prefix=%s "
                                  "KEYFILE, or --root)", s.fingerprint, name, name);
                goto finish;
        case -EKEYEXPIRED:
                r = detail_printf(reterr_detail, -EKEYEXPIRED, "it is signed by key %s, which has expired",
                                  s.fingerprint);
                goto finish;
        case -EKEYREVOKED:
                r = detail_printf(reterr_detail, -EKEYREVOKED, "it is signed by key %s, which is revoked",
                                  s.fingerprint);
                goto finish;
        default:
                r = detail_printf(reterr_detail, -EBADMSG, "its signature by key %s does not match its content "
                                  "(tampered with, or signed by another key than it says)", s.fingerprint);
                goto finish;
        }
        /* A good signature by a key of the keyring: the keyring holds exactly the keys trusted for name. */
        if (ret_fingerprint) {
                *ret_fingerprint = strdup(s.fingerprint);
                if (!*ret_fingerprint)
                        r = -ENOMEM;
        }
finish:
        trusted_key_array_free(keys, n);
        return r;
}
