/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "app-exec.h"
#include "image-user.h"
#include "seccomp-util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Masked (an empty inaccessible node) and read-only in every app's view of /proc and /sys. */
static const char *const app_masked_paths[] = {
        "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/scsi", "/proc/acpi",
        "/proc/latency_stats", "/proc/timer_stats", "/proc/kmsg", "/sys/firmware", "/sys/kernel/debug",
        "/sys/devices/virtual/powercap", NULL,
};
static const char *const app_read_only_paths[] = {
        "/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs", NULL,
};

static _noreturn_ _printf_(3, 4) void die(const AppExec *e, int status, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s: ", e->name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        _exit(status);
}

/* root + path, if it exists: -ENOENT if not. These sit on the kernel's own filesystems (the app's /proc and
 * /sys), never on the image's: a symbolic link here is somebody's trick, and refused. */
static int kernel_path(const char *root, const char *path, char buf[static PATH_MAX], struct stat *ret) {
        snprintf(buf, PATH_MAX, "%s%s", root, path);
        if (lstat(buf, ret) < 0)
                return -errno;
        return S_ISLNK(ret->st_mode) ? -ELOOP : 0;
}

/* The masks alone, under root, in our current mount namespace. */
static int app_mask_paths(const char *root) {
        char p[PATH_MAX];
        struct stat st;
        int r;

        for (const char *const *m = app_masked_paths; *m; m++) {
                r = kernel_path(root, *m, p, &st);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                if (S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC,
                                                "mode=000") < 0
                                        : mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
                        return -errno;
        }
        for (const char *const *m = app_read_only_paths; *m; m++) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV };

                r = kernel_path(root, *m, p, &st);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                /* Recursive, for the mounts below /proc/sys too; a plain read-only remount is not. */
                if (mount(p, p, NULL, MS_BIND|MS_REC, NULL) < 0 ||
                    syscall(SYS_mount_setattr, AT_FDCWD, p, AT_RECURSIVE, &attr, sizeof attr) < 0)
                        return -errno;
        }
        return 0;
}

static bool cap_kept(const AppExec *e, cap_value_t v) {
        char *name = cap_to_name(v);    /* "cap_chown", or a number libcap has no name for */
        bool keep = false;

        for (char *const *c = e->caps; name && c && *c && !keep; c++)
                keep = strcasecmp(*c, name) == 0;
        cap_free(name);
        return keep;
}

/* The bounding set of the app, for every capability this kernel has (not only those we were built
 * with). */
static int drop_bounding_set(const AppExec *e) {
        if (e->caps_all)
                return 0;
        for (cap_value_t v = 0; v < (cap_value_t) cap_max_bits(); v++)
                if (!cap_kept(e, v) && cap_drop_bound(v) < 0)
                        return -errno;
        return 0;
}

static void set_environment(const AppExec *e, const ImageUser *u) {
        if (!e->keep_env)
                clearenv();
        for (char *const *v = e->env; v && *v; v++)
                (void) putenv(*v);
        (void) setenv("AC_APP_NAME", e->name, 1);
        (void) setenv("PATH", DEFAULT_PATH, 0);
        (void) setenv("HOME", u->home && *u->home ? u->home : "/", 0);
}

/* Where we are not root any more, loading a filter without no_new_privs takes CAP_SYS_ADMIN: kept in
 * our permitted set across the change of user (PR_SET_KEEPCAPS), effective for that moment. The exec
 * that follows leaves a non-root app none of it. */
static int raise_sys_admin(void) {
        cap_value_t v = CAP_SYS_ADMIN;
        cap_t c = cap_get_proc();
        int r = 0;

        if (!c)
                return -errno;
        if (cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_SET) < 0 || cap_set_proc(c) < 0)
                r = -errno;
        cap_free(c);
        return r;
}

static void load_filters(const AppExec *e, uid_t uid) {
        const char *bad = NULL;
        int err = EPERM, r;

        if (!e->seccomp_mode && !e->no_user_namespaces)
                return;
        if (e->seccomp_errno) {
                err = errno_from_name(e->seccomp_errno);
                if (err < 0)
                        die(e, 1, "unknown errno name '%s' for the seccomp filter", e->seccomp_errno);
        }
        if (uid != 0 && !e->no_new_privs && raise_sys_admin() < 0)
                die(e, 1, "cannot keep the capability to load the seccomp filter: %m");
        r = seccomp_load_restrictions(e->seccomp_mode != NULL, e->no_user_namespaces);
        if (r < 0)
                die(e, 1, "cannot load the seccomp restrictions: %s", strerror(-r));
        if (!e->seccomp_mode)
                return;
        r = seccomp_load_app_filter(e->seccomp_mode, e->seccomp_syscalls, err, &bad);
        if (r == -ENOENT)
                die(e, 1, "unknown system call group '%s' in the seccomp filter", bad);
        if (r < 0)
                die(e, 1, "cannot load the seccomp filter: %s", strerror(-r));
}

_noreturn_ void app_exec(const AppExec *e) {
        const char *missing;
        ImageUser u = {};
        int r;

        /* Nothing of ours reaches the app: no fd of the pod directory, the store or the caller. */
        if (syscall(SYS_close_range, 3U + e->n_keep_fds, ~0U, 0U) < 0)
                die(e, 1, "cannot close file descriptors: %m");
        if (e->mask_paths) {
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) < 0)
                        die(e, 1, "cannot set up a mount namespace: %m");
                r = app_mask_paths(e->root);
                if (r < 0)
                        die(e, 1, "cannot mask /proc and /sys paths: %s", strerror(-r));
        }
        if (chroot(e->root) < 0 || chdir("/") < 0)
                die(e, 1, "cannot enter %s: %m", e->root);
        /* While we may still lower it (CAP_SYS_RESOURCE). */
        if (e->oom_score_adj_set) {
                char v[16];
                int fd = open("/proc/self/oom_score_adj", O_WRONLY|O_CLOEXEC);
                int n = snprintf(v, sizeof v, "%i", e->oom_score_adj);

                if (fd < 0 || write(fd, v, (size_t) n) != n)
                        die(e, 1, "cannot set the OOM score adjustment to %i: %m", e->oom_score_adj);
                close(fd);
        }

        r = image_user_resolve(e->user, e->group, &u, &missing);
        if (r == -ESRCH && strcmp(missing, "group") == 0)
                die(e, 1, "group '%s' is not in the image's /etc/group",
                    e->group && *e->group ? e->group : strchr(e->user, ':') + 1);
        if (r == -ESRCH)
                die(e, 1, "user '%.*s' is not in the image's /etc/passwd", (int) strcspn(e->user, ":"), e->user);
        if (r < 0)
                die(e, 1, "out of memory");

        if (drop_bounding_set(e) < 0)
                die(e, 1, "cannot restrict the capability bounding set: %m");
        /* Nothing inherited past the exec but what the bounding set allows. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                die(e, 1, "cannot clear the ambient capabilities: %m");
        /* The image's groups of the user, and those asked for (--supplementary-gids). */
        if (e->n_extra_gids > 0) {
                gid_t *g = realloc(u.groups, (u.n_groups + e->n_extra_gids) * sizeof(gid_t));

                if (!g)
                        die(e, 1, "out of memory");
                memcpy(g + u.n_groups, e->extra_gids, e->n_extra_gids * sizeof(gid_t));
                u.groups = g;
                u.n_groups += e->n_extra_gids;
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
            setgroups(u.n_groups, u.groups) < 0 || setresgid(u.gid, u.gid, u.gid) < 0 ||
            setresuid(u.uid, u.uid, u.uid) < 0)
                die(e, 1, "cannot become %u:%u: %m", (unsigned) u.uid, (unsigned) u.gid);
        set_environment(e, &u);
        if (e->workdir && chdir(e->workdir) < 0)
                die(e, 1, "cannot change to the working directory %s: %m", e->workdir);
        if (e->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                die(e, 1, "cannot set no_new_privs: %m");
        /* Last: an allowlist may not allow what the steps above need. */
        load_filters(e, u.uid);

        execvp(e->argv[0], e->argv);
        die(e, errno == ENOENT ? 127 : 126, "cannot execute %s: %m", e->argv[0]);
}
