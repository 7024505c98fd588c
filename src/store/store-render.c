/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Render: the image's layers stacked into one plain directory tree, as the app would see it, without
 * overlayfs. Per layer: first apply its whiteouts to what the lower layers left (a pre-pass over the tar),
 * then extract it, then drop the overlay-form whiteout markers the extractor made. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fs-util.h"
#include "import.h"
#include "layer-unpack.h"
#include "store.h"
#include "string-util.h"

/* Opens the directory holding path below root_fd without following any symlink; -ENOENT if a component
 * is missing, -ENOTDIR if one is not a directory. */
static int open_parent(int root_fd, const char *path, int *ret_fd, const char **ret_base) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t n;
        int r;

        r = strv_split(path, "/", &parts);
        if (r < 0)
                return r;
        n = strv_length(parts);
        if (n == 0)
                return -EINVAL;
        fd = openat(root_fd, ".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t i = 0; i + 1 < n; i++) {
                int next = openat(fd, parts[i], O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                if (next < 0)
                        return errno == ELOOP ? -ENOTDIR : -errno;
                safe_close(fd);
                fd = next;
        }
        *ret_base = path + strlen(path) - strlen(parts[n - 1]);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int clear_dir(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        int r = 0;

        fd = openat(dir_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ? 0 : -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        for (struct dirent *de; (de = readdir(d)); ) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = rm_rf_at(dirfd(d), de->d_name);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

static int apply_whiteouts(int blob_fd, int root_fd) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        struct archive_entry *e;
        int r;

        r = archive_open_fd(blob_fd, &a);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_free_ char *name = NULL;
                _cleanup_close_ int parent = -EBADF;
                const char *slash, *base, *wh;

                r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r < ARCHIVE_WARN)
                        return archive_to_errno(a);
                r = archive_entry_name(e, &name);
                if (r < 0)
                        return r;
                slash = strrchr(name, '/');
                base = slash ? slash + 1 : name;
                if (!(wh = startswith(base, ".wh.")))
                        continue;
                if (streq(base, ".wh..wh..opq")) {
                        if (!slash) {
                                r = clear_dir(root_fd, ".");
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        name[slash - name] = 0;         /* the opaque directory itself */
                        r = open_parent(root_fd, name, &parent, &base);
                        if (r == -ENOENT || r == -ENOTDIR)
                                continue;
                        if (r < 0)
                                return r;
                        r = clear_dir(parent, base);
                } else {
                        _cleanup_free_ char *target = NULL;

                        if (isempty(wh) || streq(wh, ".") || streq(wh, ".."))
                                return -EBADMSG;
                        if (asprintf(&target, "%.*s%s", slash ? (int) (slash - name + 1) : 0, name, wh) < 0)
                                return -ENOMEM;
                        r = open_parent(root_fd, target, &parent, &base);
                        if (r == -ENOENT || r == -ENOTDIR)
                                continue;
                        if (r < 0)
                                return r;
                        r = rm_rf_at(parent, base);
                }
                if (r < 0)
                        return r;
        }
}

/* Removes the 0:0 character devices and opaque markers the extractor left for overlayfs. */
static int drop_overlay_markers(int dir_fd) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r = 0;

        (void) fremovexattr(dir_fd, "trusted.overlay.opaque");
        r = opendir_at(dir_fd, ".", &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d)); ) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0)
                                return -errno;
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dirfd(d), de->d_name,
                                                         O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                        if (sub < 0)
                                return -errno;
                        r = drop_overlay_markers(sub);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int store_image_render(Store *s, const char *id, int dir_fd, bool as_root, char **reterr_entry) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        int r;

        r = store_image_load(s, id, &rec);
        if (r < 0)
                return r;
        for (size_t i = 0; i < rec->n_layers; i++) {
                _cleanup_close_ int fd = -EBADF;

                r = store_blob_open(s, rec->layers[i].digest, &fd);
                if (r < 0)
                        return r;
                r = apply_whiteouts(fd, dir_fd);
                if (r < 0)
                        return r;
                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
                r = layer_unpack(fd, dir_fd, as_root ? LAYER_UNPACK_CHOWN|LAYER_UNPACK_DEVICES : 0, reterr_entry);
                if (r < 0)
                        return r;
                r = drop_overlay_markers(dir_fd);
                if (r < 0)
                        return r;
        }
        return 0;
}
