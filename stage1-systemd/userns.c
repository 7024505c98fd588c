/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --private-users: the pod's root is host UID/GID `base`, and the pod has 65536 of them from there.
 *
 * The privileged side (stage1 run, and the child before it drops into the user namespace) builds the
 * whole pod filesystem as today, so every mount is an ordinary one made by host root: overlayfs over the
 * image layers, each layer an idmapped mount (files owned by 0 on disk show as `base` to the pod), where
 * the layer's filesystem supports that. What the privileged side creates itself (the writable layers'
 * roots, /run, /dev, /etc/hosts, the units, ...) and what an image layer that cannot be idmapped brings
 * is shifted into the range with chown: through the overlay, so only the pod's writable layer changes
 * (metacopy=on keeps that to the inodes' metadata), never the store's layers. Then the child enters the
 * user namespace and a mount namespace it owns, and execs the pod's systemd. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

static int write_map(pid_t pid, const char *which, uid_t base) {
        char path[64], line[64];
        _cleanup_close_ int fd = -EBADF;
        int n;

        snprintf(path, sizeof path, "/proc/%i/%s", (int) pid, which);
        n = snprintf(line, sizeof line, "0 %u %u\n", (unsigned) base, POD_USERNS_SIZE);
        fd = open(path, O_WRONLY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, line, (size_t) n) != n)
                return -errno;
        return 0;
}

int userns_new(uid_t base, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        int p[2], r;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        /* A process that only holds the namespace until we have its maps and a file descriptor of it. */
        pid = (pid_t) syscall(SYS_clone, CLONE_NEWUSER|SIGCHLD, NULL, NULL, NULL, 0);
        if (pid < 0) {
                r = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return r;
        }
        if (pid == 0) {
                char c;

                safe_close(p[1]);
                (void) !read(p[0], &c, 1);
                _exit(0);
        }
        safe_close(p[0]);
        r = write_map(pid, "uid_map", base);
        if (r >= 0)
                r = write_map(pid, "gid_map", base);
        if (r >= 0) {
                char path[64];

                snprintf(path, sizeof path, "/proc/%i/ns/user", (int) pid);
                fd = open(path, O_RDONLY|O_CLOEXEC);
                if (fd < 0)
                        r = -errno;
        }
        safe_close(p[1]);
        (void) waitpid(pid, NULL, 0);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int userns_idmap_tree(int userns_fd, const char *source, bool recursive, int *ret_fd) {
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .userns_fd = (uint64_t) userns_fd,
        };
        _cleanup_close_ int fd = -EBADF;

        fd = (int) syscall(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|(recursive ? AT_RECURSIVE : 0));
        if (fd < 0)
                return -errno;
        /* EINVAL: the filesystem cannot be idmapped (overlayfs, for one); the caller shifts with chown. */
        if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH|(recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int userns_idmap_mount(int userns_fd, const char *source, const char *target) {
        _cleanup_close_ int fd = -EBADF;
        int r = userns_idmap_tree(userns_fd, source, false, &fd);

        if (r < 0)
                return r;
        if (syscall(SYS_move_mount, fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

static bool needs_shift(uint32_t id) {
        return id < POD_USERNS_SIZE;
}

/* Shifts name (in dir_fd) and, for a directory, everything below it that is on the same mount. */
static int shift_at(int dir_fd, const char *name, uint64_t mnt_id, uid_t base, unsigned depth) {
        struct statx sx;
        int r = 0;

        if (depth > 512)
                return -ELOOP;
        if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH, STATX_TYPE|STATX_MODE|STATX_UID|STATX_GID|STATX_MNT_ID,
                  &sx) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        if (sx.stx_mnt_id != mnt_id)
                return 0;       /* another mount: /proc, a volume, the pod directory, ... */
        if (needs_shift(sx.stx_uid) || needs_shift(sx.stx_gid)) {
                uid_t u = needs_shift(sx.stx_uid) ? base + sx.stx_uid : sx.stx_uid;
                gid_t g = needs_shift(sx.stx_gid) ? base + sx.stx_gid : sx.stx_gid;

                if (fchownat(dir_fd, name, u, g, AT_SYMLINK_NOFOLLOW|AT_EMPTY_PATH) < 0) {
                        /* A file of an idmapped layer whose owner on disk is beyond the range shows as
                         * the overflow UID and cannot be changed: it stays nobody's in the pod. */
                        if (!IN_SET(errno, EPERM, EOVERFLOW, EINVAL))
                                return -errno;
                } else if (S_ISREG(sx.stx_mode) && (sx.stx_mode & (S_ISUID|S_ISGID)) &&
                           fchmodat(dir_fd, name, sx.stx_mode & 07777, 0) < 0)
                        return -errno;      /* chown dropped the set-user/group-ID bits: put back */
        }
        if (S_ISDIR(sx.stx_mode)) {
                _cleanup_(closedirp) DIR *d = NULL;

                r = opendir_at(dir_fd, isempty(name) ? "." : name, &d);
                if (r < 0)
                        return r;
                for (struct dirent *de; (de = readdir(d)); ) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        r = shift_at(dirfd(d), de->d_name, mnt_id, base, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int userns_shift_tree(const char *path, uid_t base) {
        _cleanup_close_ int fd = -EBADF;
        struct statx sx;

        fd = open(path, O_PATH|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        return shift_at(fd, "", sx.stx_mnt_id, base, 0);
}

/* What the pod writes to in its directory, from inside: its journal, the apps' exit records, empty
 * volumes; and the pod's root must get through the directory itself and lock it (rocket-pod-lock.service):
 * o+rx, as its parents keep everybody else out. The rest of the pod directory stays root's. */
int userns_chown_pod_dir(int pod_fd, const PodManifest *m, uid_t base) {
        struct stat st;
        char p[PATH_MAX];

        if (fstat(pod_fd, &st) < 0 || fchmod(pod_fd, (st.st_mode & 07777) | S_IROTH | S_IXOTH) < 0)
                return -errno;
        if (fchownat(pod_fd, "apps", base, base, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        for (size_t i = 0; i < m->n_apps; i++) {
                snprintf(p, sizeof p, "apps/%s", m->apps[i].name);
                if (fchownat(pod_fd, p, base, base, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
        }
        for (size_t i = 0; i < m->n_volumes; i++) {
                if (m->volumes[i].kind != VOLUME_EMPTY)
                        continue;
                snprintf(p, sizeof p, "volumes/%s", m->volumes[i].name);
                if (fchownat(pod_fd, p, base + m->volumes[i].uid, base + m->volumes[i].gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
        }
        /* journald's, in the pod; the group stays rocket's, so that its members read the pod's logs. */
        if (fchownat(pod_fd, "journal", base, (gid_t) -1, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* The pod's cgroup, as systemd delegates one: the directory and the files the kernel lists as safe to
 * delegate (/sys/kernel/cgroup/delegate). */
int userns_chown_cgroup(const char *dir, uid_t base) {
        _cleanup_free_ char *list = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchown(fd, base, base) < 0)
                return -errno;
        r = read_full_file_at(AT_FDCWD, "/sys/kernel/cgroup/delegate", 4096, &list, NULL);
        if (r < 0)
                return r;
        for (char *l = list, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                nl = strchr(l, '\n');
                if (nl)
                        *nl = 0;
                if (isempty(l) || strchr(l, '/'))
                        continue;
                if (fchownat(fd, l, base, base, 0) < 0 && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

int userns_enter(int userns_fd) {
        if (setns(userns_fd, CLONE_NEWUSER) < 0)
                return -errno;
        /* Root in the namespace (host `base`), with the capabilities setns() gave us there. */
        if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                return -errno;
        /* Mounts of our own (systemd's for its services): a mount namespace the user namespace owns. */
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        return 0;
}
