/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "store.h"
#include "string-util.h"

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        safe_close(s->blobs_fd);
        safe_close(s->layers_fd);
        safe_close(s->images_fd);
        safe_close(s->refs_fd);
        safe_close(s->tmp_fd);
        safe_close(s->lock_fd);         /* drops the flock */
        safe_close(s->dir_fd);
        free(s->path);
        free(s);
        return NULL;
}

static int open_subdir(Store *s, const char *name, bool create, int *ret) {
        int fd;

        if (create)
                fd = open_mkdir_at(s->dir_fd, name, s->shared ? 0775 : 0755);
        else {
                fd = openat(s->dir_fd, name, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
                if (fd < 0)
                        fd = -errno;
        }
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

int store_open(const char *rocket_dir, StoreFlags flags, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        bool create = flags & STORE_CREATE;
        int r;

        assert(rocket_dir);
        assert(ret);

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->dir_fd = s->blobs_fd = s->layers_fd = s->images_fd = s->refs_fd = s->tmp_fd = s->lock_fd = -EBADF;

        if (asprintf(&s->path, "%s/store", rocket_dir) < 0) {
                s->path = NULL;
                return -ENOMEM;
        }

        if (create) {
                r = mkdir_p_at(AT_FDCWD, s->path, 0755);
                if (r < 0)
                        return r;
        }
        s->dir_fd = open(s->path, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (s->dir_fd < 0)
                return -errno;
        /* A store shared with a group (tmpfiles makes it 2775 root:rocket): what we create stays writable by
         * the group, whose members fetch images too. */
        {
                struct stat st;

                if (fstat(s->dir_fd, &st) == 0 && (st.st_mode & S_ISGID) && (st.st_mode & S_IWGRP)) {
                        s->shared = true;
                        umask(umask(0) & ~(mode_t) 0070);
                }
        }

        /* The lock first: gc may be halfway through removing things. */
        s->lock_fd = openat(s->dir_fd, "lock", O_RDWR|O_CLOEXEC|O_NOFOLLOW|(create ? O_CREAT : 0), s->shared ? 0664 : 0644);
        if (s->lock_fd < 0 && errno == EACCES)
                s->lock_fd = openat(s->dir_fd, "lock", O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
        if (s->lock_fd < 0)
                return -errno;
        if (flock(s->lock_fd, ((flags & STORE_EXCLUSIVE) ? LOCK_EX : LOCK_SH) |
                              ((flags & STORE_NONBLOCK) ? LOCK_NB : 0)) < 0)
                return -errno;

        r = open_subdir(s, "blobs/sha256", create, &s->blobs_fd);
        if (r < 0)
                return r;
        r = open_subdir(s, "layers", create, &s->layers_fd);
        if (r < 0)
                return r;
        r = open_subdir(s, "images", create, &s->images_fd);
        if (r < 0)
                return r;
        r = open_subdir(s, "refs", create, &s->refs_fd);
        if (r < 0)
                return r;
        r = open_subdir(s, "tmp", create, &s->tmp_fd);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

bool store_blob_exists(Store *s, const char *digest) {
        return digest_is_valid(digest) && faccessat(s->blobs_fd, digest_hex(digest), F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int store_blob_open(Store *s, const char *digest, int *ret_fd) {
        int fd;

        if (!digest_is_valid(digest))
                return -EINVAL;
        fd = openat(s->blobs_fd, digest_hex(digest), O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int store_blob_size(Store *s, const char *digest, uint64_t *ret) {
        struct stat st;

        if (!digest_is_valid(digest))
                return -EINVAL;
        if (fstatat(s->blobs_fd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        *ret = (uint64_t) st.st_size;
        return 0;
}

int store_layer_path(const char *digest, char **ret) {
        if (!digest_is_valid(digest))
                return -EINVAL;
        if (asprintf(ret, "layers/sha256-%s", digest_hex(digest)) < 0)
                return -ENOMEM;
        return 0;
}

bool store_layer_exists(Store *s, const char *digest) {
        char name[DIGEST_STRING_MAX + 8];

        if (!digest_is_valid(digest))
                return false;
        snprintf(name, sizeof name, "sha256-%s", digest_hex(digest));
        return faccessat(s->layers_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}
