/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fly.h"
#include "fs-util.h"
#include "image-user.h"
#include "log.h"
#include "string-util.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The systemd syscall groups rocket's defaults use (systemd.exec(5) lists their members); the pod's
 * systemd expands them in stage1-systemd, here we do. */
static const struct {
        const char *name;
        const char *const members[32];
} groups[] = {
        { "@clock", { "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_settime", "clock_settime64",
                      "settimeofday", "stime", NULL } },
        { "@module", { "delete_module", "finit_module", "init_module", NULL } },
        { "@reboot", { "kexec_file_load", "kexec_load", "reboot", NULL } },
        { "@swap", { "swapoff", "swapon", NULL } },
        { "@raw-io", { "ioperm", "iopl", "pciconfig_iobase", "pciconfig_read", "pciconfig_write", NULL } },
        { "@cpu-emulation", { "modify_ldt", "subpage_prot", "switch_endian", "vm86", "vm86old", NULL } },
        { "@obsolete", { "_sysctl", "afs_syscall", "bdflush", "break", "create_module", "ftime", "get_kernel_syms",
                         "getpmsg", "gtty", "idle", "lock", "mpx", "prof", "profil", "putpmsg", "query_module",
                         "security", "sgetmask", "ssetmask", "stty", "sysfs", "tuxcall", "ulimit", "uselib", "ustat",
                         "vserver", NULL } },
        { "@mount", { "chroot", "fsconfig", "fsmount", "fsopen", "fspick", "mount", "mount_setattr", "move_mount",
                      "open_tree", "pivot_root", "umount", "umount2", NULL } },
        { "@debug", { "lookup_dcookie", "perf_event_open", "pidfd_getfd", "ptrace", "rtas", "s390_runtime_instr",
                      "sys_debug_setcontext", NULL } },
        { "@keyring", { "add_key", "keyctl", "request_key", NULL } },
};

static int add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, bool *known_group_missing) {
        int nr;

        if (name[0] == '@') {
                for (size_t g = 0; g < ELEMENTSOF(groups); g++)
                        if (streq(groups[g].name, name)) {
                                for (const char *const *m = groups[g].members; *m; m++)
                                        (void) add_rule(ctx, action, *m, known_group_missing);
                                return 0;
                        }
                *known_group_missing = true;
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "The fly stage1 cannot expand the syscall group %s; name the calls.", name);
        }
        nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0;       /* not on this architecture */
        return seccomp_rule_add(ctx, action, nr, 0);
}

int fly_seccomp(const PodApp *a) {
        bool retain, missing = false;
        int e = EPERM, r;
        scmp_filter_ctx ctx;

        if (!a->seccomp_mode)
                return 0;
        retain = streq(a->seccomp_mode, "retain");
        if (a->seccomp_errno)
                for (int i = 1; i < 4096; i++)
                        if (strerrorname_np(i) && streq(strerrorname_np(i), a->seccomp_errno)) {
                                e = i;
                                break;
                        }
        ctx = seccomp_init(retain ? SCMP_ACT_ERRNO((uint32_t) e) : SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* The 32-bit ABIs get the same filter. */
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X86);
        (void) seccomp_arch_add(ctx, SCMP_ARCH_X32);
        STRV_FOREACH(n, a->seccomp_syscalls) {
                r = add_rule(ctx, retain ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO((uint32_t) e), *n, &missing);
                if (r < 0 && missing) {
                        seccomp_release(ctx);
                        return r;
                }
        }
        if (retain)
                (void) add_rule(ctx, SCMP_ACT_ALLOW, "execve", &missing);
        r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

static int drop_bounding_set(char **keep) {
        for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
                char *name = cap_to_name(v);
                bool k = name && strv_contains(keep, name);

                /* cap_to_name() gives "cap_chown"; the manifest says "CAP_CHOWN". */
                if (name && !k) {
                        for (char *c = name; *c; c++)
                                *c = (char) (*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
                        k = strv_contains(keep, name);
                }
                cap_free(name);
                if (!k && cap_drop_bound(v) < 0 && errno != EINVAL)
                        return -errno;
        }
        return 0;
}

_noreturn_ void fly_exec_app(const PodApp *a, const char *root) {
        ImageUser u = {};

        /* Nothing of ours leaks into the app. */
        for (int fd = 3; fd < 1024; fd++)
                (void) close(fd);
        if (chroot(root) < 0 || chdir("/") < 0) {
                log_error_errno(errno, "Failed to enter the app's rootfs: %m");
                _exit(1);
        }
        clearenv();
        STRV_FOREACH(e, a->env)
                putenv(*e);
        setenv("AC_APP_NAME", a->name, 1);
        setenv("PATH", DEFAULT_PATH, 0);
        {
                const char *missing;
                int r = image_user_resolve(a->user, a->group, &u, &missing);

                if (r == -ESRCH && streq(missing, "group")) {
                        log_error("Group '%s' is not in the image's /etc/group.", a->group ?: strchr(a->user, ':') + 1);
                        _exit(1);
                }
                if (r == -ESRCH) {
                        log_error("User '%.*s' is not in the image's /etc/passwd.", (int) strcspn(a->user, ":"), a->user);
                        _exit(1);
                }
                if (r < 0) {
                        log_oom();
                        _exit(1);
                }
        }
        setenv("HOME", u.home, 0);
        if (!a->caps_all && drop_bounding_set(a->caps) < 0) {
                log_error_errno(errno, "Failed to restrict the capability bounding set: %m");
                _exit(1);
        }
        if (setgroups(u.n_groups, u.groups) < 0 || setresgid(u.gid, u.gid, u.gid) < 0 ||
            setresuid(u.uid, u.uid, u.uid) < 0) {
                log_error_errno(errno, "Failed to become %u:%u: %m", (unsigned) u.uid, (unsigned) u.gid);
                _exit(1);
        }
        if (a->working_dir && chdir(a->working_dir) < 0) {
                log_error_errno(errno, "Failed to change to %s: %m", a->working_dir);
                _exit(1);
        }
        if (a->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                _exit(1);
        if (fly_seccomp(a) < 0) {
                log_error("Failed to load the seccomp filter.");
                _exit(1);
        }
        execvp(a->exec[0], a->exec);
        log_error_errno(errno, "Failed to execute %s: %m", a->exec[0]);
        _exit(errno == ENOENT ? 127 : 126);
}

void fly_init_loop(pid_t app, int *ret_status) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        for (;;) {
                siginfo_t si;
                int status;
                pid_t p;

                while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                        if (p == app) {
                                *ret_status = status;
                                return;
                        }
                if (sigwaitinfo(&mask, &si) > 0 && si.si_signo != SIGCHLD)
                        (void) kill(app, si.si_signo);
        }
}

int fly_mask_paths(const char *root) {
        char p[PATH_MAX];
        struct stat st;

        /* The same lists as stage1-systemd's: files get an empty node, directories an empty read-only one. */
        for (const char *const *m = pod_masked_paths; *m; m++) {
                snprintf(p, sizeof p, "%s%s", root, *m);
                if (stat(p, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC, "mode=000") < 0
                                        : mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
                        return -errno;
        }
        for (const char *const *m = pod_read_only_paths; *m; m++) {
                snprintf(p, sizeof p, "%s%s", root, *m);
                if (access(p, F_OK) < 0)
                        continue;
                if (mount(p, p, NULL, MS_BIND|MS_REC, NULL) < 0 ||
                    mount(NULL, p, NULL, MS_BIND|MS_REMOUNT|MS_RDONLY|MS_REC, NULL) < 0)
                        return -errno;
        }
        return 0;
}

int fly_leader_pid(const char *machine_id, pid_t *ret) {
        _cleanup_free_ char *text = NULL, *here = NULL;
        char link[64], cwd[PATH_MAX];
        ssize_t n;
        long v;

        if (read_full_file_at(AT_FDCWD, "pid", 64, &text, NULL) < 0)
                return -ESRCH;
        v = strtol(text, NULL, 10);
        if (v <= 1)
                return -ESRCH;
        /* The PID may have been reused: the pod's PID 1 works in this pod directory. */
        snprintf(link, sizeof link, "/proc/%li/cwd", v);
        n = readlink(link, cwd, sizeof cwd - 1);
        here = getcwd(NULL, 0);
        if (n <= 0 || !here)
                return -ESRCH;
        cwd[n] = 0;
        if (!streq(cwd, here))
                return -ESRCH;
        *ret = (pid_t) v;
        return 0;
}

int fly_enter(int argc, char *argv[]) {
        static const char *const namespaces[] = { "ipc", "pid", "mnt" };
        static const struct option options[] = { { "app", required_argument, NULL, 'a' }, {} };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        char *const default_cmd[] = { (char *) "/bin/sh", NULL };
        char *const *cmd;
        _cleanup_free_ char *root = NULL;
        char mid[33], path[PATH_MAX];
        int fds[3], c, status;
        pid_t pid, child;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                if (c != 'a')
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "enter: unknown option.");
        cmd = optind < argc ? argv + optind : default_cmd;
        (void) close(3);        /* the pod directory: not for the entered command */
        if (pod_manifest_load_at(AT_FDCWD, "pod", &m) < 0 || pod_machine_id(m->uuid, mid) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Failed to load the pod manifest.");
        if (fly_leader_pid(mid, &pid) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is not running.", m->uuid);
        root = getcwd(NULL, 0);
        if (!root)
                return log_oom();
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                snprintf(path, sizeof path, "/proc/%i/ns/%s", (int) pid, namespaces[i]);
                fds[i] = open(path, O_RDONLY|O_CLOEXEC);
                if (fds[i] < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++)
                if (setns(fds[i], 0) < 0)
                        return log_error_errno(errno, "Failed to enter the pod's %s namespace: %m", namespaces[i]);
        child = fork();
        if (child < 0)
                return log_error_errno(errno, "fork: %m");
        if (child == 0) {
                snprintf(path, sizeof path, "%s/stage1/rootfs", root);
                if (chroot(path) < 0 || chdir("/") < 0)
                        _exit(1);
                setenv("PATH", DEFAULT_PATH, 1);
                (void) syscall(SYS_close_range, 3U, ~0U, 0U);
                execvp(cmd[0], cmd);
                log_error_errno(errno, "Failed to execute %s: %m", cmd[0]);
                _exit(127);
        }
        if (waitpid(child, &status, 0) < 0)
                return -errno;
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
