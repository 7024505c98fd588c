/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Layer extraction that cannot leave its target. libarchive parses the tar stream; every filesystem
 * operation here is relative to a directory fd opened without following symlinks, so a hostile entry can
 * at worst be refused, never redirected. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fs-util.h"
#include "import.h"
#include "layer-unpack.h"
#include "log.h"
#include "string-util.h"

typedef struct DeferredDir {
        char *path;
        mode_t mode;
        struct timespec mtime;
} DeferredDir;

typedef struct Unpack {
        struct archive *archive;
        int root_fd;
        LayerUnpackFlags flags;
        uint64_t bytes;
        bool stream_failed;     /* the archive itself broke, not one entry's content */
        DeferredDir *dirs;
        size_t n_dirs;
} Unpack;

static void unpack_done(Unpack *u) {
        for (size_t i = 0; i < u->n_dirs; i++)
                free(u->dirs[i].path);
        free(u->dirs);
        archive_read_free(u->archive);
}

/* Splits a relative archive path into its components, dropping "." and empty ones. Absolute paths and
 * ".." anywhere are refused: a layer names things below its root and nowhere else. */
static int path_split_safe(const char *p, char ***ret) {
        _cleanup_strv_free_ char **parts = NULL, **out = NULL;
        int r;

        if (isempty(p))
                return -EBADMSG;
        /* umoci and others name the layer root "/"; any other absolute name is refused. */
        if (p[0] == '/' && p[strspn(p, "/")] != 0)
                return -EBADMSG;
        r = strv_split(p, "/", &parts);
        if (r < 0)
                return r;
        STRV_FOREACH(c, parts) {
                if (streq(*c, ".."))
                        return -EBADMSG;
                if (streq(*c, "."))
                        continue;
                r = strv_extend(&out, *c);
                if (r < 0)
                        return r;
        }
        if (!out) {
                out = calloc(1, sizeof(char *));
                if (!out)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* Opens the directory made of the first n components below root_fd. A component that is a symlink or
 * not a directory is refused (-EBADMSG); a missing one is created with 0755 if create is set. */
static int open_dir_components(int root_fd, char *const *parts, size_t n, bool create, int *ret_fd) {
        _cleanup_close_ int fd = openat(root_fd, ".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);

        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < n; i++) {
                int next = openat(fd, parts[i], O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                if (next < 0 && errno == ENOENT && create) {
                        if (mkdirat(fd, parts[i], 0755) < 0 && errno != EEXIST)
                                return -errno;
                        next = openat(fd, parts[i], O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                }
                if (next < 0)
                        return IN_SET(errno, ELOOP, ENOTDIR) ? -EBADMSG : -errno;
                safe_close(fd);
                fd = next;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Does a relative symlink target, resolved from a directory depth levels below the root, stay inside?
 * Absolute targets are resolved against the pod's root at run time and so always stay inside. */
static bool symlink_target_is_contained(const char *target, size_t depth) {
        _cleanup_strv_free_ char **parts = NULL;
        ssize_t level = (ssize_t) depth;

        if (isempty(target))
                return false;
        if (target[0] == '/')
                return true;
        if (strv_split(target, "/", &parts) < 0)
                return false;
        STRV_FOREACH(c, parts) {
                if (streq(*c, "."))
                        continue;
                level += streq(*c, "..") ? -1 : 1;
                if (level < 0)
                        return false;
        }
        return true;
}

static bool xattr_is_forbidden(const char *name) {
        /* trusted.* steers overlayfs (redirects, opaque, metacopy); user.overlay.* does the same for
         * unprivileged overlay mounts. A layer must never carry either into our lower directories. */
        return startswith(name, "trusted.") || startswith(name, "user.overlay.");
}

static int apply_xattrs(Unpack *u, struct archive_entry *e, int fd) {
        const char *name;
        const void *value;
        size_t size;

        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                if (!name || xattr_is_forbidden(name))
                        continue;
                if (fsetxattr(fd, name, value, size, 0) < 0) {
                        /* Filesystems without xattrs, and security.* as non-root, are not fatal. */
                        if (IN_SET(errno, ENOTSUP, EOPNOTSUPP) ||
                            (errno == EPERM && !(u->flags & LAYER_UNPACK_CHOWN))) {
                                log_debug_errno(errno, "Skipping xattr %s: %m", name);
                                continue;
                        }
                        return -errno;
                }
        }
        return 0;
}

static int apply_owner(Unpack *u, struct archive_entry *e, int dir_fd, const char *name, int flags) {
        if (!(u->flags & LAYER_UNPACK_CHOWN))
                return 0;
        if (fchownat(dir_fd, name, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e), flags) < 0)
                return -errno;
        return 0;
}

static struct timespec entry_mtime(struct archive_entry *e) {
        return (struct timespec) {
                .tv_sec = archive_entry_mtime(e),
                .tv_nsec = archive_entry_mtime_is_set(e) ? archive_entry_mtime_nsec(e) : 0,
        };
}

static int write_data(Unpack *u, struct archive_entry *e, int fd) {
        uint64_t end = 0;

        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t offset;
                int r = archive_read_data_block(u->archive, &buf, &size, &offset);

                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        u->stream_failed = true;
                        return archive_to_errno(u->archive);
                }
                if (offset < 0)
                        return -EBADMSG;
                u->bytes += size;
                if (u->bytes > LAYER_UNPACK_BYTES_MAX)
                        return -EFBIG;
                for (size_t done = 0; done < size; ) {
                        ssize_t n = pwrite(fd, (const char *) buf + done, size - done, offset + done);
                        if (n < 0)
                                return -errno;
                        done += n;
                }
                end = MAX(end, (uint64_t) offset + size);
        }
        /* A sparse file's trailing hole produces no data block; the entry's size still counts. */
        if (archive_entry_size_is_set(e) && (uint64_t) archive_entry_size(e) > end &&
            ftruncate(fd, archive_entry_size(e)) < 0)
                return -errno;
        return 0;
}

static int unpack_regular(Unpack *u, struct archive_entry *e, int parent_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        struct timespec ts[2];
        int r;

        if (archive_entry_size_is_set(e) && (uint64_t) archive_entry_size(e) > LAYER_UNPACK_BYTES_MAX)
                return -EFBIG;
        fd = openat(parent_fd, name, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = write_data(u, e, fd);
        if (r < 0)
                return r;
        r = apply_owner(u, e, fd, "", AT_EMPTY_PATH);
        if (r < 0)
                return r;
        /* After chown, which clears set-id bits; before xattrs, as security.capability needs the owner. */
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return -errno;
        r = apply_xattrs(u, e, fd);
        if (r < 0)
                return r;
        ts[0] = ts[1] = entry_mtime(e);
        if (futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

static int unpack_directory(Unpack *u, struct archive_entry *e, int parent_fd, const char *name,
                            const char *path, bool exists) {
        _cleanup_close_ int fd = -EBADF;
        DeferredDir *n;
        int r;

        /* Owner-only until every child is in, so a read-only directory in the archive can still be filled. */
        if (!exists && mkdirat(parent_fd, name, 0700) < 0)
                return -errno;
        fd = openat(parent_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = apply_owner(u, e, fd, "", AT_EMPTY_PATH);
        if (r < 0)
                return r;
        r = apply_xattrs(u, e, fd);
        if (r < 0)
                return r;

        n = reallocarray(u->dirs, u->n_dirs + 1, sizeof *u->dirs);
        if (!n)
                return -ENOMEM;
        u->dirs = n;
        u->dirs[u->n_dirs] = (DeferredDir) {
                .path = strdup(path),
                .mode = archive_entry_perm(e) & 07777,
                .mtime = entry_mtime(e),
        };
        if (!u->dirs[u->n_dirs].path)
                return -ENOMEM;
        u->n_dirs++;
        return 0;
}

static int unpack_symlink(Unpack *u, struct archive_entry *e, int parent_fd, const char *name, size_t depth) {
        const char *target = archive_entry_symlink(e);
        struct timespec ts[2];
        int r;

        if (!symlink_target_is_contained(target, depth))
                return -EBADMSG;
        if (symlinkat(target, parent_fd, name) < 0)
                return -errno;
        r = apply_owner(u, e, parent_fd, name, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return r;
        ts[0] = ts[1] = entry_mtime(e);
        if (utimensat(parent_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

static int unpack_hardlink(Unpack *u, const char *target, int parent_fd, const char *name) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_close_ int target_parent = -EBADF;
        size_t n;
        int r;

        r = path_split_safe(target, &parts);
        if (r < 0)
                return r;
        n = strv_length(parts);
        if (n == 0)
                return -EBADMSG;
        r = open_dir_components(u->root_fd, parts, n - 1, false, &target_parent);
        if (r == -ENOENT)
                return -EBADMSG;        /* a link to something the layer never made */
        if (r < 0)
                return r;
        /* Without AT_SYMLINK_FOLLOW a link to a symlink links the symlink itself, which stays inside. */
        if (linkat(target_parent, parts[n - 1], parent_fd, name, 0) < 0)
                return IN_SET(errno, ENOENT, EPERM) ? -EBADMSG : -errno;
        return 0;
}

static int unpack_node(Unpack *u, struct archive_entry *e, int parent_fd, const char *name, mode_t type) {
        struct timespec ts[2];
        dev_t dev = 0;
        int r;

        if (type != S_IFIFO) {
                if (!(u->flags & LAYER_UNPACK_DEVICES)) {
                        log_debug("Skipping device node %s without LAYER_UNPACK_DEVICES.", name);
                        return 0;
                }
                dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        }
        if (mknodat(parent_fd, name, type | (archive_entry_perm(e) & 07777), dev) < 0)
                return -errno;
        r = apply_owner(u, e, parent_fd, name, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return r;
        if (fchmodat(parent_fd, name, archive_entry_perm(e) & 07777, 0) < 0)
                return -errno;
        ts[0] = ts[1] = entry_mtime(e);
        if (utimensat(parent_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* ".wh..wh..opq" marks parent_fd opaque; ".wh.NAME" hides NAME of the lower layers. Both in overlayfs'
 * own form, so the layer directory can be stacked as a lower directory as is. */
static int unpack_whiteout(Unpack *u, int parent_fd, const char *base) {
        const char *hidden;

        if (!(u->flags & LAYER_UNPACK_DEVICES))
                return 0;
        if (streq(base, ".wh..wh..opq")) {
                if (fsetxattr(parent_fd, "trusted.overlay.opaque", "y", 1, 0) < 0)
                        return -errno;
                return 0;
        }
        hidden = startswith(base, ".wh.");
        if (isempty(hidden) || streq(hidden, ".") || streq(hidden, ".."))
                return -EBADMSG;
        int r = rm_rf_at(parent_fd, hidden);
        if (r < 0)
                return r;
        if (mknodat(parent_fd, hidden, S_IFCHR|0000, makedev(0, 0)) < 0)
                return -errno;
        return 0;
}

static int unpack_entry(Unpack *u, struct archive_entry *e) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_close_ int parent_fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        const char *base, *hardlink = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        struct stat st;
        bool exists;
        size_t n;
        int r;

        r = path_split_safe(archive_entry_pathname(e), &parts);
        if (r < 0)
                return r;
        n = strv_length(parts);
        if (n == 0)
                return 0;       /* the layer root itself: its directory is the caller's */
        base = parts[n - 1];

        r = open_dir_components(u->root_fd, parts, n - 1, true, &parent_fd);
        if (r < 0)
                return r;
        if (startswith(base, ".wh."))
                return unpack_whiteout(u, parent_fd, base);

        exists = fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) >= 0;
        if (!exists && errno != ENOENT)
                return -errno;
        /* A later entry replaces an earlier one (or a lower layer's, when rendering); two directories
         * merge. */
        if (exists && !(S_ISDIR(st.st_mode) && type == AE_IFDIR && !hardlink)) {
                r = rm_rf_at(parent_fd, base);
                if (r < 0)
                        return r;
                exists = false;
        }

        if (hardlink)
                return unpack_hardlink(u, hardlink, parent_fd, base);

        switch (type) {
        case AE_IFREG:
                return unpack_regular(u, e, parent_fd, base);
        case AE_IFDIR:
                r = strv_join(parts, "/", &path);
                if (r < 0)
                        return r;
                return unpack_directory(u, e, parent_fd, base, path, exists);
        case AE_IFLNK:
                return unpack_symlink(u, e, parent_fd, base, n - 1);
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
                return unpack_node(u, e, parent_fd, base, type);
        case AE_IFSOCK:
                return 0;       /* sockets are made by whoever listens, never shipped */
        default:
                return -EBADMSG;
        }
}

/* Directories get their final mode and mtime last, children first, so creating their contents neither
 * failed on a read-only mode nor bumped the mtime. */
static int finish_directories(Unpack *u) {
        for (size_t i = u->n_dirs; i > 0; i--) {
                DeferredDir *d = &u->dirs[i - 1];
                _cleanup_strv_free_ char **parts = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct timespec ts[2] = { d->mtime, d->mtime };
                int r;

                r = path_split_safe(d->path, &parts);
                if (r < 0)
                        return r;
                r = open_dir_components(u->root_fd, parts, strv_length(parts), false, &fd);
                if (r == -ENOENT || r == -EBADMSG)
                        continue;       /* replaced by a later entry */
                if (r < 0)
                        return r;
                if (fchmod(fd, d->mode) < 0 || futimens(fd, ts) < 0)
                        return -errno;
        }
        return 0;
}

/* The blob as it came (compressed or not), through libarchive's filters and its raw format: the tar stream,
 * hashed on the way to the tar reader, so that extraction and the diff ID take one pass over the blob. */
typedef struct Stream {
        BlobReadFunc reader;
        void *userdata;
        struct archive *raw;
        Sha256 *diff;
        uint64_t size;
        int error;              /* the blob reader's own error, or the raw stream's */
        char in[128 * 1024];
        char out[128 * 1024];
} Stream;

static la_ssize_t stream_read_blob(struct archive *a, void *userdata, const void **ret_buf) {
        Stream *st = userdata;
        ssize_t n = st->reader(st->userdata, st->in, sizeof st->in);

        if (n < 0) {
                st->error = (int) n;
                archive_set_error(a, (int) -n, "reading the blob");
                return -1;
        }
        *ret_buf = st->in;
        return n;
}

static la_ssize_t stream_read_tar(struct archive *a, void *userdata, const void **ret_buf) {
        Stream *st = userdata;
        la_ssize_t n = archive_read_data(st->raw, st->out, sizeof st->out);

        if (n < 0) {
                if (st->error == 0)
                        st->error = archive_to_errno(st->raw);
                if (a)
                        archive_set_error(a, -st->error, "decompressing the blob");
                return -1;
        }
        st->size += (uint64_t) n;
        if (st->size > LAYER_UNPACK_BYTES_MAX) {
                st->error = -EFBIG;
                if (a)
                        archive_set_error(a, EFBIG, "decompressed blob too large");
                return -1;
        }
        if (sha256_update(st->diff, st->out, (size_t) n) < 0) {
                st->error = -ENOMEM;
                return -1;
        }
        *ret_buf = st->out;
        return n;
}

/* The rest of the tar stream (the end-of-archive blocks and any padding) and of the blob. */
static int stream_drain(Stream *st) {
        for (;;) {
                const void *buf;
                la_ssize_t n = stream_read_tar(NULL, st, &buf);

                if (n < 0)
                        return st->error;
                if (n == 0)
                        break;
        }
        for (;;) {
                ssize_t n = st->reader(st->userdata, st->in, sizeof st->in);
                if (n <= 0)
                        return (int) n;
        }
}

static void stream_done(Stream *st) {
        archive_read_free(st->raw);
        sha256_free(st->diff);
}

int layer_unpack_stream(BlobReadFunc reader, void *userdata, int target_fd, LayerUnpackFlags flags,
                        char ret_diff_id[static DIGEST_STRING_MAX], uint64_t *ret_size, char **reterr_entry) {
        _cleanup_(unpack_done) Unpack u = {
                .root_fd = target_fd,
                .flags = flags,
        };
        _cleanup_free_ Stream *st = NULL;
        struct archive_entry *e;
        unsigned n_entries = 0;
        int r;

        assert(reader);

        st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        st->reader = reader;
        st->userdata = userdata;
        st->raw = archive_read_new();
        st->diff = sha256_new();
        r = 0;
        if (!st->raw || !st->diff) {
                r = -ENOMEM;
                goto finish;
        }
        if (archive_read_support_filter_all(st->raw) != ARCHIVE_OK ||
            archive_read_support_format_raw(st->raw) != ARCHIVE_OK) {
                r = -EIO;
                goto finish;
        }
        if (archive_read_open(st->raw, st, NULL, stream_read_blob, NULL) != ARCHIVE_OK ||
            archive_read_next_header(st->raw, &e) < ARCHIVE_WARN) {
                r = st->error ?: archive_to_errno(st->raw);
                goto finish;
        }

        if (target_fd >= 0) {
                u.archive = archive_read_new();
                if (!u.archive) {
                        r = -ENOMEM;
                        goto finish;
                }
                if (archive_read_support_format_tar(u.archive) != ARCHIVE_OK ||
                    archive_read_support_format_gnutar(u.archive) != ARCHIVE_OK) {
                        r = -EIO;
                        goto finish;
                }
                if (archive_read_open(u.archive, st, NULL, stream_read_tar, NULL) != ARCHIVE_OK) {
                        r = st->error ?: archive_to_errno(u.archive);
                        goto finish;
                }
                for (;;) {
                        r = archive_read_next_header(u.archive, &e);
                        if (r == ARCHIVE_EOF) {
                                r = 0;
                                break;
                        }
                        if (r < ARCHIVE_WARN) {
                                r = st->error ?: archive_to_errno(u.archive);
                                goto finish;
                        }
                        if (++n_entries > LAYER_UNPACK_ENTRIES_MAX) {
                                r = -E2BIG;
                                goto finish;
                        }
                        r = unpack_entry(&u, e);
                        if (r < 0) {
                                if (st->error) {
                                        r = st->error;
                                        goto finish;
                                }
                                /* Name the entry when the entry itself is at fault, not the stream under it. */
                                if (reterr_entry && !u.stream_failed && IN_SET(r, -EBADMSG, -EFBIG)) {
                                        free(*reterr_entry);
                                        *reterr_entry = strdup(strempty(archive_entry_pathname(e)));
                                }
                                goto finish;
                        }
                }
                r = finish_directories(&u);
                if (r < 0)
                        goto finish;
        }
        r = stream_drain(st);
        if (r < 0)
                goto finish;
        r = sha256_final(st->diff, ret_diff_id);
        if (r < 0)
                goto finish;
        if (ret_size)
                *ret_size = st->size;
finish:
        stream_done(st);
        return r;
}

int layer_unpack(int archive_fd, int target_fd, LayerUnpackFlags flags, char **reterr_entry) {
        char diff_id[DIGEST_STRING_MAX];

        assert(archive_fd >= 0);
        assert(target_fd >= 0);
        return layer_unpack_stream(blob_fd_reader, &archive_fd, target_fd, flags, diff_id, NULL, reterr_entry);
}

int layer_diff_id(int blob_fd, char ret[static DIGEST_STRING_MAX], uint64_t *ret_size) {
        return layer_unpack_stream(blob_fd_reader, &blob_fd, -EBADF, 0, ret, ret_size, NULL);
}
