/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "fs-util.h"
#include "string-util.h"

int read_full_fd(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        for (;;) {
                ssize_t n;

                if (size + 1 >= allocated) {
                        size_t a = allocated ? allocated * 2 : 4096;
                        char *t;

                        if (a > max + 2)
                                a = max + 2;
                        if (a <= size + 1)
                                return -EFBIG;
                        t = realloc(buf, a);
                        if (!t)
                                return -ENOMEM;
                        buf = t;
                        allocated = a;
                }
                n = read(fd, buf + size, allocated - size - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf) {
                buf = malloc(1);
                if (!buf)
                        return -ENOMEM;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int read_full_file_at(int dir_fd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, path, O_RDONLY|O_CLOEXEC|O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_full_fd(fd, max, ret, ret_size);
}

int read_file_or_empty_at(int dir_fd, const char *path, size_t max, char **ret) {
        int r = read_full_file_at(dir_fd, path, max, ret, NULL);

        if (r == -ENOENT) {
                *ret = strdup("");
                return *ret ? 0 : -ENOMEM;
        }
        return r;
}

int tempname_make(const char *prefix, char **ret) {
        uint64_t r;

        if (getrandom(&r, sizeof r, 0) != sizeof r)
                return negative_errno();
        if (asprintf(ret, "%s.%016llx", prefix, (unsigned long long) r) < 0)
                return -ENOMEM;
        return 0;
}

static int write_file_replace_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode, bool sync) {
        _cleanup_free_ char *tmp = NULL, *prefix = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *base = strrchr(name, '/');
        const uint8_t *p = data;
        int r;

        if (asprintf(&prefix, "%.*s.#%s", base ? (int) (base - name + 1) : 0, name, base ? base + 1 : name) < 0)
                return -ENOMEM;
        r = tempname_make(prefix, &tmp);
        if (r < 0)
                return r;

        fd = openat(dir_fd, tmp, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto fail;
                }
                p += n;
                size -= (size_t) n;
        }
        if (fchmod(fd, mode) < 0 || (sync && fsync(fd) < 0)) {
                r = -errno;
                goto fail;
        }
        if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
                r = -errno;
                goto fail;
        }
        return 0;
fail:
        (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

int write_file_atomic_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        return write_file_replace_at(dir_fd, name, data, size, mode, true);
}

int write_file_volatile_at(int dir_fd, const char *name, const void *data, size_t size, mode_t mode) {
        return write_file_replace_at(dir_fd, name, data, size, mode, false);
}

static int rm_rf_children(int fd, dev_t dev) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r = 0;

        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (errno = 0, de = readdir(d)); ) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                /* Not a directory by its entry: unlinked without a look (a mount point refuses). */
                if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) {
                        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode)) {
                        int sub;

                        if (st.st_dev != dev) {         /* never cross into a mount */
                                if (r == 0)
                                        r = -EXDEV;
                                continue;
                        }
                        sub = openat(dirfd(d), de->d_name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                        if (sub < 0) {
                                if (errno != ENOENT && r == 0)
                                        r = -errno;
                                continue;
                        }
                        int q = rm_rf_children(sub, dev);
                        if (q < 0 && r == 0)
                                r = q;
                        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                                r = -errno;
                } else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        if (errno != 0 && r == 0)
                r = -errno;
        return r;
}

int rm_rf_at(int dir_fd, const char *name) {
        struct stat st;
        int fd, r;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;

        fd = openat(dir_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        /* A directory someone made read-only (an image's) must still go: by its fd, never through a name
         * that may have become a symbolic link since. */
        (void) fchmod(fd, 0700);
        r = rm_rf_children(fd, st.st_dev);
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

int mkdir_p_at(int dir_fd, const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; ; s++) {
                bool end = *s == 0;

                if (*s != '/' && !end)
                        continue;
                *s = 0;
                if (mkdirat(dir_fd, p, mode) < 0 && errno != EEXIST)
                        return -errno;
                if (end)
                        break;
                *s = '/';
        }
        return 0;
}

int open_mkdir_at(int dir_fd, const char *path, mode_t mode) {
        int fd, r;

        fd = openat(dir_fd, path, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno != ENOENT)
                return -errno;
        r = mkdir_p_at(dir_fd, path, mode);
        if (r < 0)
                return r;
        fd = openat(dir_fd, path, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int copy_bytes(int in_fd, int out_fd, uint64_t max, uint64_t *ret_copied) {
        char buf[65536];
        uint64_t total = 0;

        for (;;) {
                ssize_t n = read(in_fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                total += (uint64_t) n;
                if (total > max)
                        return -EFBIG;
                for (ssize_t off = 0; off < n; ) {
                        ssize_t w = write(out_fd, buf + off, (size_t) (n - off));
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        off += w;
                }
        }
        if (ret_copied)
                *ret_copied = total;
        return 0;
}

int opendir_at(int dir_fd, const char *path, DIR **ret) {
        DIR *d;
        int fd;

        fd = openat(dir_fd, path, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        *ret = d;
        return 0;
}

#define COPY_TREE_DEPTH_MAX 256

/* Owner, mode (after the owner: chown clears set-ID bits) and times of an open file or directory. */
static int copy_attrs(int fd, const struct stat *st) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };

        if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 || futimens(fd, ts) < 0)
                return -errno;
        return 0;
}

static int copy_entry(int src_fd, int dst_fd, const char *name, const struct stat *st, dev_t dev, bool merge,
                      unsigned depth);

static int copy_dir_contents(int src_fd, int dst_fd, dev_t dev, bool merge, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        if (depth > COPY_TREE_DEPTH_MAX)
                return -ELOOP;
        r = opendir_at(src_fd, ".", &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                /* What is mounted below is not the tree's (a directory's st_dev is its filesystem's). */
                if (S_ISDIR(st.st_mode) && st.st_dev != dev)
                        continue;
                r = copy_entry(dirfd(d), dst_fd, de->d_name, &st, dev, merge, depth);
                if (r < 0)
                        return r;
        }
        return errno > 0 ? -errno : 0;
}

static int copy_entry(int src_fd, int dst_fd, const char *name, const struct stat *st, dev_t dev, bool merge,
                      unsigned depth) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        struct stat dst_st;
        int r;

        /* Merging a layer over what is there: its whiteouts (overlayfs' form) remove what they hide, an
         * opaque directory replaces what was, a directory goes into a directory, anything else replaces. */
        if (merge && fstatat(dst_fd, name, &dst_st, AT_SYMLINK_NOFOLLOW) >= 0) {
                char opaque = 0;
                bool keep = S_ISDIR(st->st_mode) && S_ISDIR(dst_st.st_mode);

                if (keep) {
                        in = openat(src_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                        if (in < 0)
                                return -errno;
                        keep = fgetxattr(in, "trusted.overlay.opaque", &opaque, 1) != 1 || opaque != 'y';
                }
                if (!keep) {
                        r = rm_rf_at(dst_fd, name);
                        if (r < 0)
                                return r;
                } else {
                        out = openat(dst_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                        if (out < 0)
                                return -errno;
                        r = copy_dir_contents(in, out, dev, merge, depth + 1);
                        return r < 0 ? r : copy_attrs(out, st);
                }
                in = safe_close(in);
        }
        if (merge && S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0))
                return 0;       /* a whiteout: what it hid is gone (or never was) */

        switch (st->st_mode & S_IFMT) {
        case S_IFDIR:
                if (mkdirat(dst_fd, name, 0700) < 0)
                        return -errno;
                in = openat(src_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                out = openat(dst_fd, name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                if (in < 0 || out < 0)
                        return -errno;
                r = copy_dir_contents(in, out, dev, merge, depth + 1);
                return r < 0 ? r : copy_attrs(out, st);
        case S_IFREG:
                in = openat(src_fd, name, O_RDONLY|O_NOFOLLOW|O_CLOEXEC);
                if (in < 0)
                        return -errno;
                out = openat(dst_fd, name, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600);
                if (out < 0)
                        return -errno;
                r = copy_bytes(in, out, UINT64_MAX, NULL);
                return r < 0 ? r : copy_attrs(out, st);
        case S_IFLNK: {
                _cleanup_free_ char *target = malloc((size_t) PATH_MAX);
                struct timespec ts[2] = { st->st_atim, st->st_mtim };
                ssize_t n;

                if (!target)
                        return -ENOMEM;
                n = readlinkat(src_fd, name, target, PATH_MAX - 1);
                if (n < 0)
                        return -errno;
                target[n] = 0;
                if (symlinkat(target, dst_fd, name) < 0 ||
                    fchownat(dst_fd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(dst_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return 0;
        }
        default: {
                struct timespec ts[2] = { st->st_atim, st->st_mtim };

                /* Device nodes, FIFOs, sockets: the node itself. */
                if (mknodat(dst_fd, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0 ||
                    fchownat(dst_fd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                    fchmodat(dst_fd, name, st->st_mode & 07777, AT_SYMLINK_NOFOLLOW) < 0 ||
                    utimensat(dst_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return 0;
        }
        }
}

int copy_tree_at(int src_fd, int dst_fd) {
        struct stat st;

        if (fstat(src_fd, &st) < 0)
                return -errno;
        return copy_dir_contents(src_fd, dst_fd, st.st_dev, false, 0);
}

int copy_layer_merge_at(int src_fd, int dst_fd) {
        struct stat st;

        if (fstat(src_fd, &st) < 0)
                return -errno;
        return copy_dir_contents(src_fd, dst_fd, st.st_dev, true, 0);
}

int readdir_names_sorted(DIR *d, const char *suffix, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;

        for (struct dirent *de; (errno = 0, de = readdir(d)); )
                if (de->d_name[0] != '.' && endswith(de->d_name, suffix) && strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        if (errno > 0)
                return -errno;
        strv_sort(names);
        *ret = TAKE_PTR(names);
        return 0;
}

int fd_reopen_read(int fd) {
        char path[sizeof("/proc/self/fd/") + 12];
        int r;

        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        r = open(path, O_RDONLY|O_CLOEXEC);
        return r < 0 ? -errno : r;
}

int fd_send(int sock, int fd) {
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte = 'f';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        return sendmsg(sock, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int fd_recv(int sock) {
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte;
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        struct cmsghdr *c;
        ssize_t n;
        int fd;

        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&mh);
        if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADMSG;        /* the other side went away without one */
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

int socket_connect_in_root(int sock, pid_t pid, const char *path) {
        struct open_how how = { .flags = O_PATH|O_CLOEXEC, .resolve = RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char root[64];
        struct stat st;
        int rfd, fd, r = 0;

        snprintf(root, sizeof root, "/proc/%i/root", (int) pid);
        rfd = open(root, O_PATH|O_DIRECTORY|O_CLOEXEC);
        if (rfd < 0)
                return -errno;
        fd = (int) syscall(SYS_openat2, rfd, path, &how, sizeof how);
        if (fd < 0)
                r = -errno;
        close(rfd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISSOCK(st.st_mode))
                r = -ENOTSOCK;
        if (r >= 0) {
                snprintf(sa.sun_path, sizeof sa.sun_path, "/proc/self/fd/%i", fd);
                if (connect(sock, (struct sockaddr *) &sa, sizeof sa) < 0)
                        r = -errno;
        }
        close(fd);
        return r;
}
