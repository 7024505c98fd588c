/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enter entrypoint: a command in one app of a running pod, in the pod's namespaces (its user namespace
 * too, with --private-users), in the pod's cgroup, chrooted into the app's rootfs.
 *
 * Three processes: we stay on the host, in our own namespaces; a child joins the pod's namespaces and
 * cgroup as host root (so nothing in the pod can trace it) and forks the command, which alone enters the
 * pod's user namespace. On a terminal the command gets a pseudo-terminal of its own, relayed by us: the
 * caller's terminal never reaches the pod, where a program could keep it open or push input into it
 * (TIOCSTI). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

static const char *const pod_namespaces[] = { "ipc", "uts", "cgroup", "pid", "mnt" };

typedef struct EnterContext {
        int ns_fds[ELEMENTSOF(pod_namespaces)];
        int userns_fd;          /* -EBADF: the pod shares ours */
        pid_t leader;
        const char *app;
        char *const *cmd;
} EnterContext;

static int open_namespaces(EnterContext *c) {
        struct stat a, b;
        char path[64];

        for (size_t i = 0; i < ELEMENTSOF(pod_namespaces); i++) {
                snprintf(path, sizeof path, "/proc/%i/ns/%s", (int) c->leader, pod_namespaces[i]);
                c->ns_fds[i] = open(path, O_RDONLY|O_CLOEXEC);
                if (c->ns_fds[i] < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        snprintf(path, sizeof path, "/proc/%i/ns/user", (int) c->leader);
        if (stat(path, &a) < 0 || stat("/proc/self/ns/user", &b) < 0)
                return log_error_errno(errno, "Failed to look at the pod's user namespace: %m");
        c->userns_fd = -EBADF;
        if (a.st_ino != b.st_ino) {
                c->userns_fd = open(path, O_RDONLY|O_CLOEXEC);
                if (c->userns_fd < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        return 0;
}

static int write_string(const char *path, const char *s) {
        _cleanup_close_ int fd = open(path, O_WRONLY|O_CLOEXEC);
        size_t n = strlen(s);

        if (fd < 0)
                return -errno;
        return write(fd, s, n) == (ssize_t) n ? 0 : -errno;
}

/* The leader's path in the hierarchy of controller ("" for cgroup2, "name=systemd") from /proc/PID/cgroup's
 * "ID:CONTROLLER:PATH" lines. */
static char *leader_cgroup(const char *text, const char *controller) {
        for (const char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

                nl = strchr(l, '\n');
                if (!c2 || (nl && c2 > nl))
                        continue;
                if ((size_t) (c2 - c1 - 1) == strlen(controller) && strneq(c1 + 1, controller, strlen(controller)))
                        return strndup(c2 + 1, nl ? (size_t) (nl - c2 - 1) : strlen(c2 + 1));
        }
        return NULL;
}

static int join_at(const char *mnt, const char *path) {
        char file[PATH_MAX], pid[32];

        snprintf(file, sizeof file, "%s%s/cgroup.procs", mnt, path);
        snprintf(pid, sizeof pid, "%i", (int) getpid());
        return write_string(file, pid);
}

/* Into the cgroup of the pod's PID 1 (its init.scope), so that the pod's limits apply: in the cgroup2
 * hierarchy (mounted for a moment, in a mount namespace of ours, where the host has none: its legacy
 * layout) and, on such a host, in systemd's own v1 hierarchy too. Before we join the pod's namespaces. */
static void join_pod_cgroup(pid_t leader) {
        _cleanup_free_ char *text = NULL, *v2 = NULL, *v1 = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%i/cgroup", (int) leader);
        if (read_full_file_at(AT_FDCWD, path, 64 * 1024, &text, NULL) < 0)
                return;
        v2 = leader_cgroup(text, "");
        v1 = leader_cgroup(text, "name=systemd");
        if (v1)
                (void) join_at("/sys/fs/cgroup/systemd", v1);
        if (!v2)
                return;
        if (cgroup_host_is_unified())
                r = join_at("/sys/fs/cgroup", v2);
        else if ((r = join_at("/sys/fs/cgroup/unified", v2)) < 0 && unshare(CLONE_NEWNS) >= 0 &&
                 mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) >= 0 &&
                 mount("cgroup2", "stage1/rootfs", "cgroup2", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) >= 0)
                r = join_at("stage1/rootfs", v2);   /* the pod directory's, as cgroup_child_prepare() does */
        if (r < 0)
                log_debug_errno(r, "Could not join the pod's cgroup; the command runs in ours: %m");
}

static _noreturn_ void exec_command(const EnterContext *c, int tty_fd) {
        const char *term = getenv("TERM");
        char root[PATH_MAX];

        if (c->userns_fd >= 0 && (setns(c->userns_fd, CLONE_NEWUSER) < 0 || setgroups(0, NULL) < 0 ||
                                  setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                log_error_errno(errno, "Failed to enter the pod's user namespace: %m");
                _exit(1);
        }
        if (tty_fd >= 0 && (setsid() < 0 || ioctl(tty_fd, TIOCSCTTY, 0) < 0 || dup2(tty_fd, STDIN_FILENO) < 0 ||
                            dup2(tty_fd, STDOUT_FILENO) < 0 || dup2(tty_fd, STDERR_FILENO) < 0)) {
                log_error_errno(errno, "Failed to set up the terminal: %m");
                _exit(1);
        }
        snprintf(root, sizeof root, STAGE1_STAGE2_DIR "/%s/rootfs", c->app);
        if (chroot(root) < 0 || chdir("/") < 0) {
                log_error_errno(errno, "Failed to enter the rootfs of app %s: %m", c->app);
                _exit(1);
        }
        /* Nothing but stdin, stdout and stderr reaches the command. */
        (void) syscall(SYS_close_range, 3U, ~0U, 0U);
        clearenv();
        setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
        setenv("HOME", "/", 1);
        setenv("AC_APP_NAME", c->app, 1);
        if (term)
                setenv("TERM", term, 1);
        execvp(c->cmd[0], c->cmd);
        log_error_errno(errno, "Failed to execute %s in app %s: %m", c->cmd[0], c->app);
        _exit(errno == ENOENT ? 127 : 126);
}

/* The child: the pod's namespaces and cgroup, then the command as its own child (the PID namespace
 * applies to children only). Exits as the command did. */
static _noreturn_ void enter_child(const EnterContext *c, int tty_fd, int master_fd) {
        pid_t cmd;
        int status;

        safe_close(master_fd);
        join_pod_cgroup(c->leader);
        for (size_t i = 0; i < ELEMENTSOF(pod_namespaces); i++)
                if (setns(c->ns_fds[i], 0) < 0) {
                        log_error_errno(errno, "Failed to enter the pod's %s namespace: %m", pod_namespaces[i]);
                        _exit(1);
                }
        cmd = fork();
        if (cmd < 0) {
                log_error_errno(errno, "fork: %m");
                _exit(1);
        }
        if (cmd == 0)
                exec_command(c, tty_fd);
        safe_close(tty_fd);
        (void) syscall(SYS_close_range, 3U, ~0U, 0U);
        if (waitpid(cmd, &status, 0) < 0)
                _exit(1);
        _exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

static int write_all(int fd, const char *buf, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, buf, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                buf += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Copies between our terminal and the pseudo-terminal until the child is gone and the pseudo-terminal
 * drained; the pseudo-terminal follows our window size. */
static int relay(int master_fd, pid_t child, int *ret_status) {
        _cleanup_close_ int sfd = -EBADF;
        struct termios saved, raw;
        bool have_saved, in_open = true, exited = false;
        sigset_t mask;
        char buf[4096];
        int r = 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(errno, "signalfd: %m");
        have_saved = tcgetattr(STDIN_FILENO, &saved) == 0;
        if (have_saved) {
                raw = saved;
                cfmakeraw(&raw);
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        }
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = master_fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };
                struct signalfd_siginfo si;
                ssize_t n;

                if (poll(p, 3, exited ? 100 : -1) < 0 && errno != EINTR) {
                        r = log_error_errno(errno, "poll: %m");
                        break;
                }
                while (read(sfd, &si, sizeof si) == sizeof si)
                        if (si.ssi_signo == SIGWINCH) {
                                struct winsize ws;

                                if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                                        (void) ioctl(master_fd, TIOCSWINSZ, &ws);
                        }
                if (!exited && waitpid(child, ret_status, WNOHANG) == child) {
                        exited = true;
                        (void) fcntl(master_fd, F_SETFL, O_NONBLOCK);
                }
                if (p[0].revents & (POLLIN|POLLHUP)) {
                        n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n <= 0)
                                in_open = false;
                        else if (write_all(master_fd, buf, (size_t) n) < 0)
                                in_open = false;
                }
                if (p[1].revents & (POLLIN|POLLHUP|POLLERR) || exited) {
                        n = read(master_fd, buf, sizeof buf);
                        if (n > 0) {
                                (void) write_all(STDOUT_FILENO, buf, (size_t) n);
                                continue;
                        }
                        /* EIO: nobody has the terminal open any more; EAGAIN after the exit: drained. */
                        if (exited || (n < 0 && errno == EIO)) {
                                if (!exited && waitpid(child, ret_status, 0) < 0)
                                        r = -errno;
                                break;
                        }
                }
        }
        if (have_saved)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        return r;
}

static int open_pty(int *ret_master, int *ret_slave) {
        _cleanup_close_ int master = -EBADF;
        struct winsize ws;
        char *name;
        int slave;

        master = posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(name = ptsname(master)))
                return -errno;
        slave = open(name, O_RDWR|O_NOCTTY|O_CLOEXEC);
        if (slave < 0)
                return -errno;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                (void) ioctl(master, TIOCSWINSZ, &ws);
        *ret_master = TAKE_FD(master);
        *ret_slave = slave;
        return 0;
}

int stage1_enter(int argc, char *argv[]) {
        static const struct option options[] = {
                { "app", required_argument, NULL, 'a' },
                {}
        };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        char *const default_cmd[] = { (char *) "/bin/sh", NULL };
        EnterContext c = { .userns_fd = -EBADF };
        sigset_t mask;
        char mid[33];
        pid_t child;
        int opt, r, status = 0;

        for (size_t i = 0; i < ELEMENTSOF(c.ns_fds); i++)
                c.ns_fds[i] = -EBADF;
        optind = 0;
        while ((opt = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (opt) {
                case 'a':
                        c.app = optarg;
                        break;
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "enter: unknown option.");
                }
        c.cmd = optind < argc ? argv + optind : default_cmd;
        /* The pod directory (fd 3) must not reach the command: it is a way out of the app's root. */
        (void) close(3);

        r = stage1_load_pod(&m, mid);
        if (r < 0)
                return r;
        if (!c.app)
                c.app = m->apps[0].name;
        if (!pod_manifest_find_app(m, c.app))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", m->uuid, c.app);
        r = stage1_leader_pid_wait(mid, &c.leader);
        if (r < 0)
                return log_error_errno(r, "Pod %s is not running.", m->uuid);
        r = open_namespaces(&c);
        if (r < 0)
                return r;
        if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
                r = open_pty(&master, &slave);
                if (r < 0)
                        return log_error_errno(r, "Failed to allocate a pseudo-terminal: %m");
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        child = fork();
        if (child < 0)
                return log_error_errno(errno, "fork: %m");
        if (child == 0) {
                sigprocmask(SIG_UNBLOCK, &mask, NULL);
                enter_child(&c, slave, master);
        }
        slave = safe_close(slave);
        for (size_t i = 0; i < ELEMENTSOF(c.ns_fds); i++)
                safe_close(c.ns_fds[i]);
        safe_close(c.userns_fd);
        if (master >= 0)
                r = relay(master, child, &status);
        else if (waitpid(child, &status, 0) < 0)
                r = log_error_errno(errno, "waitpid: %m");
        if (r < 0)
                return r;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
