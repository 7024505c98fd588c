/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dev-setup.h"
#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

#define MNT_FLAGS_SAFE (MS_NOSUID|MS_NODEV|MS_NOEXEC)

static int openat2_in_root_flags(int dir_fd, const char *path, int flags, uint64_t resolve, int *ret) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .resolve = resolve,
        };
        long fd;

        fd = syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
        if (fd < 0)
                return -errno;
        *ret = (int) fd;
        return 0;
}

static int openat2_in_root(int root_fd, const char *path, int flags, int *ret) {
        return openat2_in_root_flags(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, ret);
}

int open_in_root(int root_fd, const char *path, bool create_dirs, int *ret_fd) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_close_ int cur = -EBADF;
        _cleanup_free_ char *prefix = NULL;
        int r;

        r = openat2_in_root(root_fd, path, O_PATH, ret_fd);
        if (r != -ENOENT || !create_dirs)
                return r;

        r = strv_split(path, "/", &parts);
        if (r < 0)
                return r;
        cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        prefix = strdup("");
        if (!prefix)
                return -ENOMEM;
        STRV_FOREACH(c, parts) {
                _cleanup_free_ char *p = NULL;
                int fd = -EBADF;

                if (asprintf(&p, "%s/%s", prefix, *c) < 0)
                        return -ENOMEM;
                r = openat2_in_root(root_fd, p, O_PATH, &fd);
                if (r == -ENOENT) {
                        if (mkdirat(cur, *c, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        r = openat2_in_root(root_fd, p, O_PATH, &fd);
                }
                if (r < 0)
                        return r;
                safe_close(cur);
                cur = fd;
                free(prefix);
                prefix = TAKE_PTR(p);
        }
        *ret_fd = TAKE_FD(cur);
        return 0;
}

static int fd_path(int fd, char ret[static 64]) {
        snprintf(ret, 64, "/proc/self/fd/%i", fd);
        return 0;
}

static bool idmap_unsupported(int r) {
        return IN_SET(r, -EINVAL, -EOPNOTSUPP, -ENOSYS, -EPERM);
}

/* Mounts source onto path inside root (a file or directory, created to match the source if missing);
 * with userns_fd >= 0 idmapped into that user namespace where the filesystem can be, else as it is. */
/* tree_fd >= 0: that detached mount tree (open_tree()) instead of source, which only names it then. */
static int bind_in_root(int root_fd, const char *source, int tree_fd, const char *path, unsigned long extra,
                        bool read_only, int userns_fd) {
        _cleanup_close_ int fd = -EBADF, parent = -EBADF;
        _cleanup_free_ char *dir = NULL;
        struct stat st;
        char where[64];
        const char *base;
        int r;

        if (tree_fd >= 0 ? fstat(tree_fd, &st) < 0 : stat(source, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                r = open_in_root(root_fd, path, true, &fd);
        else {
                base = strrchr(path, '/');
                dir = strndup(path, base ? (size_t) (base - path) : 0);
                if (!dir)
                        return -ENOMEM;
                base = base ? base + 1 : path;
                r = open_in_root(root_fd, isempty(dir) ? "/" : dir, true, &parent);
                if (r < 0)
                        return r;
                r = openat2_in_root(root_fd, path, O_PATH, &fd);
                if (r == -ENOENT) {
                        int f = openat(parent, base, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0644);

                        if (f < 0)
                                return -errno;
                        safe_close(f);
                        r = openat2_in_root(root_fd, path, O_PATH, &fd);
                }
        }
        if (r < 0)
                return r;
        fd_path(fd, where);
        if (tree_fd >= 0) {
                if (syscall(SYS_move_mount, tree_fd, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return -errno;
                userns_fd = -EBADF;
        } else if (userns_fd >= 0) {
                _cleanup_close_ int tree = -EBADF;

                r = userns_idmap_tree(userns_fd, source, true, &tree);
                if (r >= 0 && syscall(SYS_move_mount, tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH) < 0)
                        return -errno;
                if (r < 0 && !idmap_unsupported(r))
                        return r;
                if (r < 0) {
                        log_warning_errno(r, "%s cannot be idmapped, the pod sees its owners as they are on the host: %m",
                                          source);
                        userns_fd = -EBADF;
                }
        }
        if (tree_fd < 0 && userns_fd < 0 && mount(source, where, NULL, MS_BIND|MS_REC, NULL) < 0)
                return -errno;
        /* Flags given with a bind are ignored, and a read-only remount is not recursive: set them on the
         * new mount and everything under it, through a fresh fd (the old one names what is underneath). */
        {
                struct mount_attr attr = {
                        .attr_set = (read_only ? MOUNT_ATTR_RDONLY : 0) |
                                    (extra & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
                                    (extra & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
                                    (extra & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0),
                };
                _cleanup_close_ int top = -EBADF;

                if (attr.attr_set == 0)
                        return 0;
                r = openat2_in_root(root_fd, path, O_PATH, &top);
                if (r < 0)
                        return r;
                if (syscall(SYS_mount_setattr, top, "", AT_EMPTY_PATH|AT_RECURSIVE, &attr, sizeof attr) < 0)
                        return -errno;
        }
        return 0;
}

static int bind_api_in_root(int root_fd, const char *source, const char *path, unsigned long extra, bool read_only,
                            bool by_fd) {
        _cleanup_close_ int tree = -EBADF;

        if (by_fd) {
                tree = (int) syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE);
                if (tree < 0)
                        return -errno;
        }
        return bind_in_root(root_fd, source, tree, path, extra, read_only, -EBADF);
}

/* Writes a small file at path inside root, replacing what is there (also a symlink, never followed). */
static int write_in_root(int root_fd, const char *dir, const char *name, const char *content) {
        _cleanup_close_ int d = -EBADF, f = -EBADF;
        size_t n = strlen(content);
        int r;

        r = open_in_root(root_fd, dir, true, &d);
        if (r < 0)
                return r;
        (void) unlinkat(d, name, 0);
        f = openat(d, name, O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW|O_CLOEXEC, 0644);
        if (f < 0)
                return -errno;
        if (write(f, content, n) != (ssize_t) n)
                return errno > 0 ? -errno : -EIO;
        return 0;
}

static int mount_overlay(const char *target, const char *lowerdir, const char *upper, const char *work, bool metacopy) {
        _cleanup_free_ char *opts = NULL;

        if (strpbrk(upper, ",:") || strpbrk(work, ","))
                return -EINVAL;
        if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s%s", lowerdir, upper, work,
                     metacopy ? ",metacopy=on" : "") < 0)
                return -ENOMEM;
        if (mount("overlay", target, "overlay", MS_NODEV, opts) >= 0)
                return 0;
        /* Without metacopy a chown copies the whole file up: slower, but the same result. */
        if (metacopy && errno == EINVAL)
                return mount_overlay(target, lowerdir, upper, work, false);
        return -errno;
}

/* --private-users: the layer `name` of layers_dir, idmapped at the same name in scratch (once per pod).
 * -EINVAL: its filesystem cannot be idmapped. */
static int idmap_layer(int userns_fd, const char *layers_dir, const char *name, const char *scratch) {
        _cleanup_free_ char *src = NULL, *dst = NULL;
        int r;

        if (asprintf(&src, "%s/%s", layers_dir, name) < 0 || asprintf(&dst, "%s/%s", scratch, name) < 0)
                return -ENOMEM;
        if (mkdir(dst, 0755) < 0)
                return errno == EEXIST ? 0 : -errno;
        r = userns_idmap_mount(userns_fd, src, dst);
        if (r < 0)
                (void) rmdir(dst);
        return r;
}


/* The app's image layers, top first, as names relative to the store's layers directory (the option
 * string is limited to a page; absolute paths would allow far fewer layers). With a user namespace, the
 * idmapped layers by the same names in scratch, or, where a layer cannot be idmapped, the layers as they
 * are (the caller shifts the owners through the overlay then). */
static int mount_app_rootfs(const PodManifest *m, const PodApp *a, const char *pod_dir, const char *target, int userns_fd,
                            const char *scratch) {
        _cleanup_free_ char *lower = NULL, *upper = NULL, *work = NULL;
        _cleanup_close_ int cwd = -EBADF;
        const char *dir = a->layers_dir;
        int r;

        /* --no-overlay: a copy of the layers in the app's directory, bind-mounted (with a user namespace the
         * pod's start shifts it, as it does what it writes into an overlay). */
        if (m->no_overlay)
                return pod_app_rootfs_copy_bind(a, pod_dir, target);

        if (pod_app_lowerdir(a, &lower) < 0)
                return -ENOMEM;
        if (asprintf(&upper, "%s/apps/%s/upper", pod_dir, a->name) < 0 ||
            asprintf(&work, "%s/apps/%s/work", pod_dir, a->name) < 0)
                return -ENOMEM;
        if (userns_fd >= 0) {
                r = 0;
                STRV_FOREACH(l, a->layers) {
                        r = idmap_layer(userns_fd, a->layers_dir, *l, scratch);
                        if (r < 0)
                                break;
                }
                if (r >= 0)
                        dir = scratch;
                else if (!idmap_unsupported(r))
                        return r;
                else
                        log_debug_errno(r, "The layers of app %s cannot be idmapped, shifting with chown: %m", a->name);
        }
        cwd = open(".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (cwd < 0)
                return -errno;
        if (chdir(dir) < 0)
                return -errno;
        r = mount_overlay(target, lower, upper, work, userns_fd >= 0 && dir != scratch);
        if (fchdir(cwd) < 0 && r >= 0)
                r = -errno;
        return r;
}

/* What each app gets of the pod: /proc, /dev, /sys (read-only), hosts, resolv.conf, hostname, volumes.
 * vol_trees (rocket app add): each of the app's mounts as a detached tree, made on the host side. */
/* An implicit volume (appc's, for a mount point no volume matched) that is still empty gets what the image has
 * at the mount point, as docker does for VOLUMEs: the directory's owner and mode, and its tree. vol_fd: the
 * volume's directory (or a detached mount of it). Nothing there, or not a directory of the image's: nothing
 * to copy. */
static int volume_copy_up(int rootfs_fd, const char *target, int vol_fd) {
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        _cleanup_(closedirp) DIR *d = NULL;
        struct stat st, rst;
        struct dirent *de;
        int r;

        dst = openat(vol_fd, ".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (dst < 0)
                return -errno;
        r = opendir_at(dst, ".", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        return 0;       /* not empty: an earlier app's copy, or what the pod wrote */
        r = openat2_in_root(rootfs_fd, target, O_RDONLY|O_DIRECTORY, &src);
        if (IN_SET(r, -ENOENT, -ENOTDIR))
                return 0;
        if (r < 0)
                return r;
        /* The image's own directory, not one of the API filesystems mounted into its rootfs. */
        if (fstat(src, &st) < 0 || fstat(rootfs_fd, &rst) < 0)
                return -errno;
        if (st.st_dev != rst.st_dev)
                return 0;
        r = copy_tree_at(src, dst);
        if (r < 0)
                return r;
        if (fchown(dst, st.st_uid, st.st_gid) < 0 || fchmod(dst, st.st_mode & 07777) < 0)
                return -errno;
        return 0;
}

static int setup_app_root(const PodManifest *m, const PodApp *a, const char *pod_dir, const char *root,
                          const char *resolv, const char *hosts, int userns_fd, const int *vol_trees) {
        _cleanup_free_ char *app_root = NULL, *hostname = NULL, *proc = NULL, *dev = NULL, *sys = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&app_root, "%s" STAGE1_STAGE2_DIR "/%s/rootfs", root, a->name) < 0 ||
            asprintf(&proc, "%s/proc", root) < 0 || asprintf(&dev, "%s/dev", root) < 0 ||
            asprintf(&sys, "%s/sys", root) < 0)
                return log_oom();
        fd = open(app_root, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the rootfs of app %s: %m", a->name);

        /* The masks are paths under these: they must be the directories we mount, not links elsewhere. */
        for (const char *const *d = (const char *const[]) { "proc", "sys", "dev", NULL }; *d; d++) {
                struct stat st;

                if (fstatat(fd, *d, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG),
                                               "The image of app %s has a /%s that is not a directory; refusing it.",
                                               a->name, *d);
        }
        /* Added to a running pod (vol_trees), we are in its mount namespace but not its PID namespace, which
         * its /proc shows: no /proc/self to name things by, so the binds go by mount fds. */
        r = bind_api_in_root(fd, proc, "/proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, false, vol_trees);
        if (r >= 0)
                r = bind_api_in_root(fd, dev, "/dev", MS_NOSUID|MS_NOEXEC, false, vol_trees);
        if (r >= 0)
                r = bind_api_in_root(fd, sys, "/sys", MS_NOSUID|MS_NODEV|MS_NOEXEC, true, vol_trees);      /* cgroup2 under it too */
        if (r < 0)
                return log_error_errno(r, "Failed to mount the API filesystems into app %s: %m", a->name);

        if (asprintf(&hostname, "%s\n", m->hostname) < 0)
                return log_oom();
        r = write_in_root(fd, "/etc", "hosts", hosts);
        if (r >= 0)
                r = write_in_root(fd, "/etc", "hostname", hostname);
        /* --dns=none: the image's own. */
        if (r >= 0 && resolv)
                r = write_in_root(fd, "/etc", "resolv.conf", resolv);
        if (r < 0)
                return log_error_errno(r, "Failed to write /etc/hosts, /etc/hostname or /etc/resolv.conf of app %s: %m",
                                       a->name);

        for (size_t i = 0; i < a->n_mounts; i++) {
                const PodMount *pm = &a->mounts[i];
                const PodVolume *v = pod_manifest_find_volume(m, pm->volume);
                _cleanup_free_ char *src = NULL;

                _cleanup_close_ int src_fd = -EBADF;

                if (pm->copy_up && v->kind == VOLUME_EMPTY) {
                        _cleanup_close_ int vol = -EBADF;
                        _cleanup_free_ char *vp = NULL;

                        if (vol_trees) {
                                vol = fcntl(vol_trees[i], F_DUPFD_CLOEXEC, 3);
                                r = vol < 0 ? -errno : 0;
                        } else if (asprintf(&vp, "%s/volumes/%s", pod_dir, v->name) < 0)
                                return log_oom();
                        else
                                r = openat2_in_root_flags(AT_FDCWD, vp, O_PATH, RESOLVE_NO_SYMLINKS, &vol);
                        if (r >= 0)
                                r = volume_copy_up(fd, pm->target, vol);
                        if (r < 0)
                                return log_error_errno(r, "Failed to copy the image's %s of app %s into its volume %s: %m",
                                                       pm->target, a->name, v->name);
                }
                if (vol_trees) {
                        r = bind_in_root(fd, NULL, vol_trees[i], pm->target, MS_NOSUID|MS_NODEV,
                                         v->read_only || pm->read_only, -EBADF);
                        if (r < 0)
                                return log_error_errno(r, "Failed to mount volume %s at %s in app %s: %m", v->name,
                                                       pm->target, a->name);
                        continue;
                }
                if (v->kind == VOLUME_HOST) {
                        /* stage0 resolved it; a symlink swapped in since (say, between prepare and run) is
                         * refused, and what we checked is what we mount. */
                        r = openat2_in_root_flags(AT_FDCWD, v->source, O_PATH, RESOLVE_NO_SYMLINKS, &src_fd);
                        if (r < 0)
                                return log_error_errno(r, "Volume %s: cannot open its source %s%s: %m", v->name, v->source,
                                                       r == -ELOOP ? " (it is a symbolic link now)" : "");
                        r = asprintf(&src, "/proc/self/fd/%i", src_fd);
                        if (r < 0)
                                src = NULL;
                } else if (asprintf(&src, "%s/volumes/%s", pod_dir, v->name) < 0)
                        src = NULL;
                if (!src)
                        return log_oom();
                /* With a user namespace a host volume shows the host's owners as they are (host root's
                 * files are nobody's), unless idmapped on request: then what root owns on the host is
                 * the pod root's, and what it writes there is host root's. Empty volumes are the pod's. */
                r = bind_in_root(fd, src, -EBADF, pm->target, MS_NOSUID|MS_NODEV, v->read_only || pm->read_only,
                                 v->kind == VOLUME_HOST && v->idmap ? userns_fd : -EBADF);
                if (r < 0)
                        return log_error_errno(r, "Failed to mount volume %s at %s in app %s: %m", v->name,
                                               pm->target, a->name);
        }
        /* With a user namespace, once its files are shifted (run.c). */
        if (a->readonly_rootfs && userns_fd < 0)
                return app_rootfs_make_readonly(a, fd);
        return 0;
}

int app_rootfs_make_readonly(const PodApp *a, int rootfs_fd) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

        /* The rootfs mount alone: what is mounted on it (its API filesystems, its volumes) stays as it is. */
        if (syscall(SYS_mount_setattr, rootfs_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return log_error_errno(errno, "Failed to make the rootfs of app %s read-only: %m", a->name);
        return 0;
}

int pod_mount_all(const PodManifest *m, const char *pod_dir, const char *root, int userns_fd) {
        _cleanup_free_ char *lower = NULL, *upper = NULL, *work = NULL, *osrel = NULL, *scratch = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        bool metacopy = false;
        char mid[33], p[PATH_MAX];
        int r;

        r = pod_machine_id(m->uuid, mid);
        if (r < 0)
                return log_error_errno(r, "Invalid pod UUID: %m");
        /* The stage1 tree, read-only below the pod's own writable layer: a tmpfs of our mount namespace (what
         * the stage1 writes there, its units and /etc files, is the pod's business only and goes with it, so
         * the pod directory keeps only what the host reads, and gc has that much less to remove). */
        if (asprintf(&lower, "%s/rootfs", m->stage1) < 0 || asprintf(&upper, "%s/stage1/upper/data", pod_dir) < 0 ||
            asprintf(&work, "%s/stage1/upper/work", pod_dir) < 0)
                return log_oom();
        snprintf(p, sizeof p, "%s/stage1/upper", pod_dir);
        if (mount("tmpfs", p, "tmpfs", MS_NOSUID|MS_NODEV, "mode=0755,size=64m") < 0 ||
            mkdir(upper, 0755) < 0 || mkdir(work, 0755) < 0)
                return log_error_errno(errno, "Failed to set up the stage1's writable layer at %s: %m", p);
        if (strpbrk(lower, ",:"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "The stage1 path %s contains ',' or ':'.", m->stage1);
        /* With a user namespace: the idmapped layers on a tmpfs in our mount namespace only, detached once
         * the overlays hold them. */
        if (userns_fd >= 0) {
                if (asprintf(&scratch, "%s/idmap", pod_dir) < 0)
                        return log_oom();
                if (mount("tmpfs", scratch, "tmpfs", MNT_FLAGS_SAFE, "mode=0700") < 0)
                        return log_error_errno(errno, "Failed to mount %s: %m", scratch);
                r = idmap_layer(userns_fd, m->stage1, "rootfs", scratch);
                if (r >= 0) {
                        free(lower);
                        if (asprintf(&lower, "%s/rootfs", scratch) < 0)
                                return log_oom();
                } else if (idmap_unsupported(r))
                        metacopy = true;
                else
                        return log_error_errno(r, "Failed to idmap the stage1 tree: %m");
        }
        r = mount_overlay(root, lower, upper, work, metacopy);
        if (r < 0)
                return log_error_errno(r, "Failed to mount the stage1 root at %s: %m", root);
        root_fd = open(root, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(errno, "Failed to open the pod root %s: %m", root);

        /* Every app's image, stacked with overlayfs under its writable layer in the pod directory. */
        for (size_t i = 0; i < m->n_apps; i++) {
                const PodApp *a = &m->apps[i];

                snprintf(p, sizeof p, "opt/stage2/%s/rootfs", a->name);
                r = mkdir_p_at(root_fd, p, 0755);
                if (r < 0)
                        return log_error_errno(r, "Failed to create %s/%s: %m", root, p);
                snprintf(p, sizeof p, "%s/opt/stage2/%s/rootfs", root, a->name);
                r = mount_app_rootfs(m, a, pod_dir, p, userns_fd, scratch);
                if (r < 0)
                        return log_error_errno(r, "Failed to mount the image layers of app %s: %m", a->name);
        }
        if (scratch && umount2(scratch, MNT_DETACH) < 0)
                return log_error_errno(errno, "Failed to detach %s: %m", scratch);

        snprintf(p, sizeof p, "%s/proc", root);
        if (mount("proc", p, "proc", MNT_FLAGS_SAFE, NULL) < 0)
                return log_error_errno(errno, "Failed to mount %s: %m", p);
        snprintf(p, sizeof p, "%s/sys", root);
        if (mount("sysfs", p, "sysfs", MNT_FLAGS_SAFE|MS_RDONLY, NULL) < 0)
                return log_error_errno(errno, "Failed to mount %s: %m", p);
        r = dev_setup(root, m->userns_base);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the pod's /dev: %m");
        snprintf(p, sizeof p, "%s/run", root);
        if (mount("tmpfs", p, "tmpfs", MS_NOSUID|MS_NODEV|MS_STRICTATIME, "mode=0755,size=20%") < 0)
                return log_error_errno(errno, "Failed to mount %s: %m", p);
        snprintf(p, sizeof p, "%s/tmp", root);
        if (mount("tmpfs", p, "tmpfs", MS_NOSUID|MS_NODEV|MS_STRICTATIME, "mode=01777") < 0)
                return log_error_errno(errno, "Failed to mount %s: %m", p);

        /* journald writes persistently at once (as after a flush), into the pod directory's journal/. */
        r = mkdir_p_at(root_fd, "run/systemd/journal", 0755);
        if (r >= 0)
                r = write_file_volatile_at(root_fd, "run/systemd/journal/flushed", "", 0, 0644);
        if (r >= 0)
                r = mkdir_p_at(root_fd, "run/host", 0755);
        if (r >= 0 && read_file_or_empty_at(AT_FDCWD, "/etc/os-release", 64 * 1024, &osrel) >= 0)
                r = write_file_volatile_at(root_fd, "run/host/os-release", osrel, strlen(osrel), 0444);
        if (r < 0)
                return log_error_errno(r, "Failed to populate the pod's /run: %m");
        snprintf(p, sizeof p, "var/log/journal/%s", mid);
        r = mkdir_p_at(root_fd, p, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s/%s: %m", root, p);
        {
                char src[PATH_MAX], dst[PATH_MAX];

                snprintf(src, sizeof src, "%s/journal", pod_dir);
                snprintf(dst, sizeof dst, "%s/var/log/journal/%s", root, mid);
                if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
                        return log_error_errno(errno, "Failed to mount the pod journal: %m");
                /* Read-only (the manifest names the stage1 that host-side rocket runs), but for apps/, where
                 * the apps' exits are recorded. */
                snprintf(dst, sizeof dst, "%s" STAGE1_POD_DIR, root);
                if (mount(pod_dir, dst, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, dst, NULL, MS_BIND|MS_REMOUNT|MS_RDONLY|MNT_FLAGS_SAFE, NULL) < 0)
                        return log_error_errno(errno, "Failed to mount the pod directory into the pod: %m");
                snprintf(src, sizeof src, "%s/apps", pod_dir);
                snprintf(dst, sizeof dst, "%s" STAGE1_POD_DIR "/apps", root);
                if (mount(src, dst, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, dst, NULL, MS_BIND|MS_REMOUNT|MNT_FLAGS_SAFE, NULL) < 0)
                        return log_error_errno(errno, "Failed to mount the pod's apps directory into the pod: %m");
        }

        /* Identity. */
        {
                char line[64];

                snprintf(line, sizeof line, "%s\n", mid);
                r = write_file_volatile_at(root_fd, "etc/machine-id", line, strlen(line), 0444);
        }
        if (r >= 0) {
                _cleanup_free_ char *h = NULL;

                if (asprintf(&h, "%s\n", m->hostname) < 0)
                        return log_oom();
                r = write_file_volatile_at(root_fd, "etc/hostname", h, strlen(h), 0644);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to write the pod's configuration: %m");

        return 0;
}

/* The pod's resolv.conf (NULL with --dns=none) and hosts, as net.c composed them in the pod directory. */
static int read_net_files(const char *pod_dir, char **ret_resolv, char **ret_hosts) {
        char p[PATH_MAX];
        int r;

        snprintf(p, sizeof p, "%s/" STAGE1_POD_NET "/resolv.conf", pod_dir);
        r = read_full_file_at(AT_FDCWD, p, 64 * 1024, ret_resolv, NULL);
        if (r < 0 && r != -ENOENT)
                return log_error_errno(r, "Failed to read %s: %m", p);
        snprintf(p, sizeof p, "%s/" STAGE1_POD_NET "/hosts", pod_dir);
        r = read_full_file_at(AT_FDCWD, p, 64 * 1024, ret_hosts, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", p);
        return 0;
}

int pod_mount_finish(const PodManifest *m, const char *pod_dir, const char *root, int userns_fd) {
        _cleanup_free_ char *resolv = NULL, *hosts = NULL;
        char p[PATH_MAX];
        int r;

        /* The pod's own cgroup subtree (the cgroup namespace's root), writable, in the unified layout. */
        snprintf(p, sizeof p, "%s/sys/fs/cgroup", root);
        if (mount("cgroup2", p, "cgroup2", MNT_FLAGS_SAFE, "nsdelegate") < 0 &&
            mount("cgroup2", p, "cgroup2", MNT_FLAGS_SAFE, NULL) < 0)
                return log_error_errno(errno, "Failed to mount the cgroup2 hierarchy at %s: %m", p);
        /* Per-app limits need the controllers in the pod's subtree; say once when they are not there. */
        {
                _cleanup_free_ char *ctl = NULL;
                bool want_mem = false, want_cpu = false;

                for (size_t i = 0; i < m->n_apps; i++) {
                        want_mem = want_mem || m->apps[i].memory_max;
                        want_cpu = want_cpu || m->apps[i].cpu_quota_milli || m->apps[i].cpu_weight;
                }
                snprintf(p, sizeof p, "%s/sys/fs/cgroup/cgroup.controllers", root);
                if ((want_mem || want_cpu) && read_full_file_at(AT_FDCWD, p, 4096, &ctl, NULL) >= 0) {
                        _cleanup_strv_free_ char **have = NULL;
                        bool no_mem, no_cpu;

                        /* Whole words: "cpu" is not "cpuset". */
                        if (strv_split(ctl, " \n", &have) < 0)
                                return log_oom();
                        no_mem = want_mem && !strv_contains(have, "memory");
                        no_cpu = want_cpu && !strv_contains(have, "cpu");
                        if (no_mem || no_cpu)
                                log_warning("The %s controller is not available to the pod here (cgroup v2 without it); "
                                            "the apps' limits are recorded in their units but not enforced. Limits "
                                            "given before the first image apply to the whole pod.",
                                            no_mem ? "memory" : "cpu");
                }
        }
        /* What the parent composed (net.c), before it let us go. */
        r = read_net_files(pod_dir, &resolv, &hosts);
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_apps; i++) {
                r = setup_app_root(m, &m->apps[i], pod_dir, root, resolv, hosts, userns_fd, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A detached overlay of the app's layers (top first, relative to its layers directory) under the writable
 * layer upper_fd/work_fd (directories that the pod could reach, named by fd, never by a path it could swap). */
static int overlay_detached(const PodApp *a, const char *layers_dir, int upper_fd, int work_fd, int *ret) {
        _cleanup_free_ char *lower = NULL;
        _cleanup_close_ int fs = -EBADF, cwd = -EBADF;
        char upper[64], work[64];
        int mnt, r = 0;

        if (pod_app_lowerdir(a, &lower) < 0)
                return -ENOMEM;
        fd_path(upper_fd, upper);
        fd_path(work_fd, work);
        fs = (int) syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        /* The layers' names are resolved against our working directory as they are given. */
        cwd = open(".", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (cwd < 0 || chdir(layers_dir) < 0)
                return -errno;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                r = -errno;
        if (fchdir(cwd) < 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return r;
        mnt = (int) syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
        if (mnt < 0)
                return -errno;
        *ret = mnt;
        return 0;
}

/* A clone of a host mount (open_tree) is a peer of the mount it copies: what is mounted on it in the pod
 * would show up on the host's too. Its own, propagating nothing. */
static int mount_make_private(int mnt_fd) {
        struct mount_attr attr = { .propagation = MS_PRIVATE };

        if (syscall(SYS_mount_setattr, mnt_fd, "", AT_EMPTY_PATH|AT_RECURSIVE, &attr, sizeof attr) < 0)
                return -errno;
        return 0;
}

/* An app added to a running pod may bring an implicit volume (appc's) the pod did not have: its empty
 * directory, as the pod's start makes them (run.c), the pod root's. */
static int implicit_volumes_create(const PodManifest *m, const PodApp *a, int pod_fd) {
        _cleanup_close_ int vols = openat(pod_fd, "volumes", O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);

        if (vols < 0)
                return log_error_errno(errno, "Failed to open the pod's volumes directory: %m");
        for (size_t i = 0; i < a->n_mounts; i++) {
                const PodVolume *v = pod_manifest_find_volume(m, a->mounts[i].volume);
                _cleanup_close_ int fd = -EBADF;

                if (!a->mounts[i].copy_up || v->kind != VOLUME_EMPTY)
                        continue;
                if (mkdirat(vols, v->name, 0700) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return log_error_errno(errno, "Failed to create volume %s: %m", v->name);
                }
                fd = openat(vols, v->name, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
                if (fd < 0 || fchown(fd, m->userns_base + v->uid, m->userns_base + v->gid) < 0 || fchmod(fd, v->mode) < 0)
                        return log_error_errno(errno, "Failed to create volume %s: %m", v->name);
        }
        return 0;
}

/* Each of the app's mounts as a detached copy of its source (a host path checked as at the pod's start, or
 * the pod's empty volume), to move into the pod's mount namespace. */
static int volume_trees(const PodManifest *m, const PodApp *a, int pod_fd, int userns_fd, int *trees) {
        for (size_t i = 0; i < a->n_mounts; i++) {
                const PodVolume *v = pod_manifest_find_volume(m, a->mounts[i].volume);
                _cleanup_close_ int src = -EBADF;
                int r;

                if (v->kind == VOLUME_HOST)
                        r = openat2_in_root_flags(AT_FDCWD, v->source, O_PATH, RESOLVE_NO_SYMLINKS, &src);
                else
                        r = openat2_in_root_flags(pod_fd, strjoina("volumes/", v->name), O_PATH,
                                                  RESOLVE_NO_SYMLINKS|RESOLVE_BENEATH, &src);
                if (r < 0)
                        return log_error_errno(r, "Volume %s: cannot open its source%s: %m", v->name,
                                               r == -ELOOP ? " (it is a symbolic link now)" : "");
                /* As at the pod's start: a host volume idmapped into the pod's user namespace on request. */
                if (userns_fd >= 0 && v->kind == VOLUME_HOST && v->idmap) {
                        char p[64];

                        snprintf(p, sizeof p, "/proc/self/fd/%i", src);
                        r = userns_idmap_tree(userns_fd, p, true, &trees[i]);
                        if (r < 0)
                                return log_error_errno(r, "Volume %s: cannot idmap it: %m", v->name);
                        continue;
                }
                trees[i] = (int) syscall(SYS_open_tree, src, "",
                                         OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE|AT_EMPTY_PATH);
                r = trees[i] < 0 ? -errno : mount_make_private(trees[i]);
                if (r < 0)
                        return log_error_errno(r, "Volume %s: cannot copy its mount: %m", v->name);
        }
        return 0;
}

/* --private-users: the app's layers idmapped into the pod's user namespace, on a tmpfs over the pod
 * directory's idmap/ in a mount namespace of ours (the overlay holds on to them), as at the pod's start.
 * *ret_dir: where they are, by the same names. */
static int userns_layers(const PodManifest *m, const PodApp *a, const char *pod_dir, pid_t leader, int *ret_userns,
                         char **ret_dir) {
        _cleanup_free_ char *scratch = NULL;
        _cleanup_close_ int userns = -EBADF;
        char ns[64];
        int r = 0;

        snprintf(ns, sizeof ns, "/proc/%i/ns/user", (int) leader);
        userns = open(ns, O_RDONLY|O_CLOEXEC);
        if (userns < 0)
                return log_error_errno(errno, "Failed to open the pod's user namespace: %m");
        if (asprintf(&scratch, "%s/idmap", pod_dir) < 0)
                return log_oom();
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) < 0 ||
            mount("tmpfs", scratch, "tmpfs", MNT_FLAGS_SAFE, "mode=0700") < 0)
                return log_error_errno(errno, "Failed to set up %s: %m", scratch);
        /* (--no-overlay: the copy is shifted instead; the user namespace is for the volumes.) */
        STRV_FOREACH(l, m->no_overlay ? NULL : a->layers) {
                r = idmap_layer(userns, a->layers_dir, *l, scratch);
                if (r < 0)
                        break;
        }
        /* At the pod's start a chown through the overlay stands in; an app added later has no such way. */
        if (r < 0)
                return log_error_errno(r, "Failed to idmap the layers of app %s into the pod's user namespace%s: %m",
                                       a->name, idmap_unsupported(r) ? " (its filesystem cannot be idmapped)" : "");
        *ret_userns = TAKE_FD(userns);
        *ret_dir = TAKE_PTR(scratch);
        return 0;
}

int pod_mount_app_live(const PodManifest *m, const PodApp *a, int pod_fd, const char *pod_dir, pid_t leader) {
        _cleanup_free_ char *resolv = NULL, *hosts = NULL, *rootfs = NULL, *layers_dir = NULL;
        _cleanup_close_ int app_fd = -EBADF, upper = -EBADF, work = -EBADF, ovl = -EBADF, mntns = -EBADF,
                root_fd = -EBADF, where = -EBADF, userns_fd = -EBADF, own_pod_fd = -EBADF;
        _cleanup_free_ int *trees = malloc((a->n_mounts + 1) * sizeof(int));
        char ns[64];
        int r;

        if (!trees)
                return log_oom();
        for (size_t i = 0; i <= a->n_mounts; i++)
                trees[i] = -EBADF;
        /* First (a mount namespace of ours, which the overlay's upper layer must be in too): the layers
         * idmapped into the pod's user namespace. */
        if (m->userns_base) {
                r = userns_layers(m, a, pod_dir, leader, &userns_fd, &layers_dir);
                if (r < 0)
                        return r;
                /* Opened again here: an fd from before names the mounts of the namespace we left. */
                own_pod_fd = open(pod_dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
                if (own_pod_fd < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", pod_dir);
                pod_fd = own_pod_fd;
        }
        /* Its writable layer, made afresh in the directory rocket made empty for it: one that is there
         * already was put there from inside the pod, and is not taken. */
        app_fd = openat(pod_fd, strjoina("apps/", a->name), O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (app_fd < 0)
                return log_error_errno(errno, "Failed to open the directory of app %s: %m", a->name);
        if (mkdirat(app_fd, "upper", 0755) < 0 || mkdirat(app_fd, "work", 0700) < 0)
                return log_error_errno(errno, "Failed to create the writable layer of app %s%s: %m", a->name,
                                       errno == EEXIST ? " (something in the pod made it first)" : "");
        upper = openat(app_fd, "upper", O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        work = openat(app_fd, "work", O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        /* With --private-users: the pod's root owns its writable layer and the directory of its records. */
        if (upper < 0 || work < 0 || fchown(upper, m->userns_base, m->userns_base) < 0 || fchmod(upper, 0755) < 0)
                return log_error_errno(errno, "Failed to create the writable layer of app %s: %m", a->name);
        if (m->no_overlay) {
                /* A copy of its layers, shifted by the pod's start's way (below) with a user namespace. */
                _cleanup_close_ int root = -EBADF;

                r = pod_app_rootfs_copy(a, app_fd, &root);
                if (r >= 0) {
                        ovl = (int) syscall(SYS_open_tree, root, "", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_EMPTY_PATH);
                        r = ovl < 0 ? -errno : mount_make_private(ovl);
                }
        } else
                r = overlay_detached(a, layers_dir ?: a->layers_dir, upper, work, &ovl);
        if (r < 0)
                return log_error_errno(r, "Failed to mount the image layers of app %s: %m", a->name);
        /* Only now (the copy made while the pod could not write here): the pod root's directory of the app's
         * records. */
        if (m->userns_base && fchown(app_fd, m->userns_base, m->userns_base) < 0)
                return log_error_errno(errno, "Failed to hand the directory of app %s to the pod: %m", a->name);
        r = implicit_volumes_create(m, a, pod_fd);
        if (r >= 0)
                r = volume_trees(m, a, pod_fd, userns_fd, trees);
        if (r < 0)
                goto finish;
        r = read_net_files(pod_dir, &resolv, &hosts);
        if (r < 0)
                goto finish;

        /* From here on in the pod's mount namespace (its root is ours now): the pod's stage1 tree. */
        snprintf(ns, sizeof ns, "/proc/%i/ns/mnt", (int) leader);
        mntns = open(ns, O_RDONLY|O_CLOEXEC);
        if (mntns < 0 || setns(mntns, CLONE_NEWNS) < 0) {
                r = log_error_errno(errno, "Failed to enter the pod's mount namespace: %m");
                goto finish;
        }
        root_fd = open("/", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (root_fd < 0) {
                r = log_error_errno(errno, "Failed to open the pod's root: %m");
                goto finish;
        }
        if (asprintf(&rootfs, STAGE1_STAGE2_DIR "/%s/rootfs", a->name) < 0) {
                r = log_oom();
                goto finish;
        }
        r = open_in_root(root_fd, rootfs, true, &where);
        if (r >= 0 && syscall(SYS_move_mount, ovl, "", where, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH) < 0)
                r = -errno;
        if (r < 0) {
                log_error_errno(r, "Failed to mount the rootfs of app %s into the pod: %m", a->name);
                goto finish;
        }
        r = setup_app_root(m, a, pod_dir, "", resolv, hosts, userns_fd, trees);
        /* What we wrote into it (its /etc files), the pod root's; then, if asked, read-only. */
        if (r >= 0 && m->userns_base) {
                r = userns_shift_tree(rootfs, m->userns_base);
                if (r < 0)
                        log_error_errno(r, "Failed to shift the rootfs of app %s into the pod's user namespace: %m",
                                        a->name);
                else if (a->readonly_rootfs) {
                        _cleanup_close_ int fd = open(rootfs, O_RDONLY|O_DIRECTORY|O_CLOEXEC);

                        r = fd < 0 ? -errno : app_rootfs_make_readonly(a, fd);
                }
        }
        if (r >= 0) {
                _cleanup_free_ char *mds_url = NULL;

                r = pod_mds_url(m, pod_fd, &mds_url);
                if (r < 0)
                        log_error_errno(r, "Failed to read the pod's metadata service token and address: %m");
                else {
                        r = units_write_app(root_fd, m, a, mds_url, NULL, 0, false);
                        if (r < 0)
                                log_error_errno(r, "Failed to write the unit of app %s: %m", a->name);
                }
        }
        if (r < 0)
                (void) pod_umount_app_live(a->name);
finish:
        for (size_t i = 0; i < a->n_mounts; i++)
                safe_close(trees[i]);
        return r;
}

int pod_umount_app_live(const char *app) {
        char p[PATH_MAX];
        int r = 0;

        /* Detached with everything mounted below it (its API filesystems and volumes). */
        snprintf(p, sizeof p, STAGE1_STAGE2_DIR "/%s/rootfs", app);
        if (umount2(p, MNT_DETACH|UMOUNT_NOFOLLOW) < 0 && !IN_SET(errno, EINVAL, ENOENT))
                r = -errno;
        snprintf(p, sizeof p, STAGE1_STAGE2_DIR "/%s", app);
        if (r >= 0)
                (void) rm_rf_at(AT_FDCWD, p);
        return r;
}
