/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "pod-userns.h"
#include "string-util.h"

static int pods_path(int pods_fd, char **ret) {
        char self[64];

        snprintf(self, sizeof self, "/proc/self/fd/%i", pods_fd);
        *ret = realpath(self, NULL);
        return *ret ? 0 : -errno;
}

/* Whether the record names a pod that still exists (in any state) in its pods directory. */
static bool record_is_live(const char *text, const char *our_pods) {
        _cleanup_free_ char *copy = strdup(text);
        _cleanup_close_ int fd = -EBADF;
        char *nl, *uuid;

        if (!copy || !(nl = strchr(copy, '\n')))
                return false;           /* unreadable: stale */
        *nl = 0;
        uuid = nl + 1;
        uuid[strcspn(uuid, "\n")] = 0;
        /* Ours: the caller knows our pods, and none of them has this range. */
        if (streq(copy, our_pods))
                return false;
        fd = open(copy, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                return errno != ENOENT;         /* gone: stale; otherwise keep out of its way */
        if (strlen(uuid) != 36 || strchr(uuid, '/'))
                return false;
        if (pod_exists(fd, uuid))
                return true;
        /* Not there (yet?): a rocket run of that directory may be creating it under its pods lock. */
        {
                _cleanup_close_ int lock = openat(fd, "lock", O_RDONLY|O_CLOEXEC);

                return lock >= 0 && flock(lock, LOCK_SH|LOCK_NB) < 0 && errno == EWOULDBLOCK;
        }
}

int pod_userns_claim(const char *registry_dir, int pods_fd, const char *uuid, const bool used_here[POD_USERNS_N],
                     uint32_t *ret_base) {
        _cleanup_free_ char *ours = NULL, *record = NULL;
        _cleanup_close_ int reg = -EBADF;
        int r;

        r = pods_path(pods_fd, &ours);
        if (r < 0)
                return r;
        reg = open_mkdir_at(AT_FDCWD, registry_dir, 0700);
        if (reg < 0)
                return reg;
        /* Host-wide: rocket runs of every pods directory take turns here. */
        if (flock(reg, LOCK_EX) < 0)
                return -errno;
        if (asprintf(&record, "%s\n%s\n", ours, uuid) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < POD_USERNS_N; i++) {
                uint32_t base = POD_USERNS_FIRST + (uint32_t) i * POD_USERNS_SIZE;
                _cleanup_free_ char *text = NULL;
                char name[16];

                if (used_here[i] || getpwuid(base) || getgrgid(base))
                        continue;
                snprintf(name, sizeof name, "%08x", base);
                r = read_full_file_at(reg, name, 4096, &text, NULL);
                if (r >= 0 && record_is_live(text, ours))
                        continue;
                if (r < 0 && r != -ENOENT)
                        continue;
                r = write_file_atomic_at(reg, name, record, strlen(record), 0600);
                if (r < 0)
                        return r;
                *ret_base = base;
                return 0;
        }
        return -EUSERS;
}

void pod_userns_release(const char *registry_dir, int pods_fd, const Pod *p) {
        _cleanup_free_ char *ours = NULL, *text = NULL, *want = NULL;
        _cleanup_close_ int reg = -EBADF;
        char name[16];

        if (!p->manifest || !p->manifest->userns_base || pods_path(pods_fd, &ours) < 0 ||
            asprintf(&want, "%s\n%s\n", ours, p->uuid) < 0)
                return;
        reg = open(registry_dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (reg < 0 || flock(reg, LOCK_EX) < 0)
                return;
        snprintf(name, sizeof name, "%08x", p->manifest->userns_base);
        if (read_full_file_at(reg, name, 4096, &text, NULL) >= 0 && streq(text, want))
                (void) unlinkat(reg, name, 0);
}
