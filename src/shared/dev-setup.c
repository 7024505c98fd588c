/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A pod's /dev: a small tmpfs with the standard pseudo devices, a devpts instance of its own, /dev/shm and
 * /dev/mqueue; never the host's /dev. Every stage1 builds it this way. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev-setup.h"
#include "fs-util.h"
#include "macro.h"

#define MNT_FLAGS_SAFE (MS_NOSUID|MS_NODEV|MS_NOEXEC)

int dev_setup(const char *root, gid_t gid_base) {
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        _cleanup_free_ char *dev = NULL;
        _cleanup_close_ int fd = -EBADF;
        char p[PATH_MAX], opts[128];

        if (asprintf(&dev, "%s/dev", root) < 0)
                return -ENOMEM;
        if (mount("tmpfs", dev, "tmpfs", MS_NOSUID|MS_STRICTATIME, "mode=0755,size=4m") < 0)
                return -errno;
        fd = open(dev, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                struct stat st;

                snprintf(p, sizeof p, "/dev/%s", nodes[i]);
                if (stat(p, &st) < 0 || !S_ISCHR(st.st_mode))
                        return -ENODEV;
                if (mknodat(fd, nodes[i], S_IFCHR|0666, st.st_rdev) < 0 || fchmodat(fd, nodes[i], 0666, 0) < 0)
                        return -errno;
        }
        /* No terminal: the console is /dev/null. */
        {
                int c = openat(fd, "console", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0600);

                if (c < 0)
                        return -errno;
                safe_close(c);
                snprintf(p, sizeof p, "%s/console", dev);
                if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
                        return -errno;
        }
        if (mkdirat(fd, "pts", 0755) < 0 || mkdirat(fd, "shm", 01777) < 0 || mkdirat(fd, "mqueue", 0755) < 0)
                return -errno;
        snprintf(p, sizeof p, "%s/pts", dev);
        /* Terminals belong to group tty (5), of the pod's range with a user namespace. */
        snprintf(opts, sizeof opts, "newinstance,ptmxmode=0666,mode=0620,gid=%u", (unsigned) (gid_base + 5));
        if (mount("devpts", p, "devpts", MS_NOSUID|MS_NOEXEC, opts) < 0)
                return -errno;
        snprintf(p, sizeof p, "%s/shm", dev);
        if (mount("tmpfs", p, "tmpfs", MNT_FLAGS_SAFE, "mode=01777") < 0)
                return -errno;
        snprintf(p, sizeof p, "%s/mqueue", dev);
        if (mount("mqueue", p, "mqueue", MNT_FLAGS_SAFE, NULL) < 0)
                return -errno;
        if (symlinkat("pts/ptmx", fd, "ptmx") < 0 || symlinkat("/proc/self/fd", fd, "fd") < 0 ||
            symlinkat("/proc/self/fd/0", fd, "stdin") < 0 || symlinkat("/proc/self/fd/1", fd, "stdout") < 0 ||
            symlinkat("/proc/self/fd/2", fd, "stderr") < 0)
                return -errno;
        return 0;
}
