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
        bool tty[3];            /* which of our stdin, stdout, stderr are terminals */
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

/* Into the cgroups of the pod's PID 1, so that the pod's limits apply, before we join its namespaces. */
static void join_pod_cgroup(pid_t leader) {
        /* The pod directory's stage1/rootfs for a moment, as cgroup_child_prepare() does. */
        int r = cgroup_join_pod(leader, "stage1/rootfs");

        if (r == -EAGAIN)
                log_debug("The pod's systemd is not in its init.scope yet; not joining its cgroup.");
        else if (r < 0)
                log_warning_errno(r, "Could not join the pod's cgroup; the command runs in ours, outside the pod's limits: %m");
}

static _noreturn_ void exec_command(const EnterContext *c, int tty_fd) {
        const char *term = getenv("TERM");
        char root[PATH_MAX];

        if (c->userns_fd >= 0 && (setns(c->userns_fd, CLONE_NEWUSER) < 0 || setgroups(0, NULL) < 0 ||
                                  setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                log_error_errno(errno, "Failed to enter the pod's user namespace: %m");
                _exit(1);
        }
        /* A session of our own, never the caller's: no way back to its controlling terminal. Where the
         * caller has a terminal, ours stands in for it. */
        if (setsid() < 0) {
                log_error_errno(errno, "setsid: %m");
                _exit(1);
        }
        if (tty_fd >= 0) {
                if (ioctl(tty_fd, TIOCSCTTY, 0) < 0) {
                        log_error_errno(errno, "Failed to set up the terminal: %m");
                        _exit(1);
                }
                for (int fd = 0; fd < 3; fd++)
                        if (c->tty[fd] && dup2(tty_fd, fd) < 0)
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
 * drained; the pseudo-terminal follows our window size. The pseudo-terminal is non-blocking, and input
 * waits in a buffer while the command does not read it, so that its output still flows. SIGTERM and
 * SIGHUP end the relay (the command then gets SIGHUP from its terminal). */
static int relay(const EnterContext *c, int master_fd, pid_t child, int *ret_status) {
        int tty_fd = c->tty[0] ? STDIN_FILENO : c->tty[1] ? STDOUT_FILENO : STDERR_FILENO;
        /* Only stdin a terminal: the caller's terminal stays as it is (echoing, line by line; the
         * pseudo-terminal does not echo), and the command writes to the caller's pipes itself. */
        bool raw_mode = c->tty[1] || c->tty[2];
        int out_fd = c->tty[1] ? STDOUT_FILENO : c->tty[2] ? STDERR_FILENO : -EBADF;
        _cleanup_close_ int sfd = -EBADF;
        struct termios saved, raw;
        bool have_saved, in_open = c->tty[0], exited = false;
        char in[4096], buf[4096];
        size_t in_len = 0;
        sigset_t mask;
        int r = 0;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(errno, "signalfd: %m");
        if (fcntl(master_fd, F_SETFL, O_NONBLOCK) < 0)
                return log_error_errno(errno, "fcntl: %m");
        have_saved = raw_mode && tcgetattr(tty_fd, &saved) == 0;
        if (have_saved) {
                raw = saved;
                cfmakeraw(&raw);
                (void) tcsetattr(tty_fd, TCSANOW, &raw);
        }
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = in_open && in_len < sizeof in ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = master_fd, .events = POLLIN | (in_len > 0 ? POLLOUT : 0) },
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

                                if (ioctl(tty_fd, TIOCGWINSZ, &ws) == 0)
                                        (void) ioctl(master_fd, TIOCSWINSZ, &ws);
                        } else if (si.ssi_signo != SIGCHLD) {
                                r = -EINTR;
                                *ret_status = W_EXITCODE(0, (int) si.ssi_signo);
                                goto done;
                        }
                if (!exited && waitpid(child, ret_status, WNOHANG) == child)
                        exited = true;
                if (p[0].revents & (POLLIN|POLLHUP)) {
                        n = read(STDIN_FILENO, in + in_len, sizeof in - in_len);
                        if (n <= 0)
                                in_open = false;
                        else
                                in_len += (size_t) n;
                }
                if (in_len > 0) {
                        n = write(master_fd, in, in_len);
                        if (n > 0) {
                                memmove(in, in + n, in_len - (size_t) n);
                                in_len -= (size_t) n;
                        } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                                in_len = 0, in_open = false;
                }
                n = read(master_fd, buf, sizeof buf);
                if (n > 0) {
                        if (out_fd >= 0)
                                (void) write_all(out_fd, buf, (size_t) n);
                        continue;
                }
                /* EIO: nobody has the terminal open any more; nothing to read once the child is gone. */
                if (n < 0 && errno == EIO)
                        break;
                if (exited && (n == 0 || errno == EAGAIN))
                        break;
        }
done:
        if (have_saved)
                (void) tcsetattr(tty_fd, TCSANOW, &saved);
        if (r == -EINTR)
                return 0;       /* *ret_status: killed by that signal */
        if (r >= 0 && !exited && waitpid(child, ret_status, 0) < 0)
                r = -errno;
        return r;
}

static int open_pty(int tty_fd, int *ret_master, int *ret_slave) {
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
        if (ioctl(tty_fd, TIOCGWINSZ, &ws) == 0)
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
        for (int fd = 0; fd < 3; fd++)
                c.tty[fd] = isatty(fd);
        if (c.tty[0] || c.tty[1] || c.tty[2]) {
                r = open_pty(c.tty[0] ? STDIN_FILENO : c.tty[1] ? STDOUT_FILENO : STDERR_FILENO, &master, &slave);
                if (r < 0)
                        return log_error_errno(r, "Failed to allocate a pseudo-terminal: %m");
                if (!c.tty[1] && !c.tty[2]) {
                        struct termios t;

                        if (tcgetattr(slave, &t) == 0) {
                                t.c_lflag &= ~(tcflag_t) (ECHO|ECHONL);
                                (void) tcsetattr(slave, TCSANOW, &t);
                        }
                }
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        if (master >= 0) {      /* the relay restores the terminal on these */
                sigaddset(&mask, SIGTERM);
                sigaddset(&mask, SIGHUP);
        }
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
                r = relay(&c, master, child, &status);
        else if (waitpid(child, &status, 0) < 0)
                r = log_error_errno(errno, "waitpid: %m");
        if (r < 0)
                return r;
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return WEXITSTATUS(status);
}
