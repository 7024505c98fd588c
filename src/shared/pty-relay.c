/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "fs-util.h"
#include "macro.h"
#include "pty-relay.h"
#include "exit-record.h"

static int tty_of(const PtyRelay *p) {
        return p->tty[0] ? STDIN_FILENO : p->tty[1] ? STDOUT_FILENO : STDERR_FILENO;
}

static bool wants_relay(const PtyRelay *p) {
        return p->tty[0] || p->tty[1] || p->tty[2];
}

int pty_relay_init(PtyRelay *ret) {
        *ret = (PtyRelay) { .master_fd = -EBADF, .slave_fd = -EBADF };
        for (int fd = 0; fd < 3; fd++)
                ret->tty[fd] = isatty(fd);
        return wants_relay(ret);
}

int pty_relay_open_at(PtyRelay *p, const char *ptmx) {
        _cleanup_close_ int master = -EBADF, slave = -EBADF;
        struct winsize ws;
        struct stat st;

        master = open(ptmx, O_RDWR|O_NOCTTY|O_CLOEXEC|O_NOFOLLOW);
        if (master < 0)
                return -errno;
        /* Only the multiplexer itself (5:2): whatever else sits at that path is no terminal of ours. */
        if (fstat(master, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 || minor(st.st_rdev) != 2)
                return -ENOTTY;
        if (unlockpt(master) < 0)
                return -errno;
        /* The peer by the master, not by a path in that instance. */
        slave = ioctl(master, TIOCGPTPEER, O_RDWR|O_NOCTTY|O_CLOEXEC);
        if (slave < 0)
                return -errno;
        if (ioctl(tty_of(p), TIOCGWINSZ, &ws) == 0)
                (void) ioctl(master, TIOCSWINSZ, &ws);
        /* Only stdin a terminal: the caller's terminal stays as it is and echoes; ours must not too. */
        if (!p->tty[1] && !p->tty[2]) {
                struct termios t;

                if (tcgetattr(slave, &t) == 0) {
                        t.c_lflag &= ~(tcflag_t) (ECHO|ECHONL);
                        (void) tcsetattr(slave, TCSANOW, &t);
                }
        }
        p->master_fd = TAKE_FD(master);
        p->slave_fd = TAKE_FD(slave);
        return 0;
}

int pty_relay_send_master(PtyRelay *p, int sock) {
        int r = fd_send(sock, p->master_fd);

        if (r < 0)
                return r;
        p->master_fd = safe_close(p->master_fd);
        return 0;
}

int pty_relay_recv_master(PtyRelay *p, int sock) {
        int fd = fd_recv(sock);

        if (fd < 0)
                return fd;
        p->master_fd = fd;
        return 0;
}

int pty_relay_attach(const PtyRelay *p) {
        /* A session of our own, never the caller's: no way back to its controlling terminal. */
        if (setsid() < 0)
                return -errno;
        if (p->slave_fd < 0)
                return 0;
        if (ioctl(p->slave_fd, TIOCSCTTY, 0) < 0)
                return -errno;
        for (int fd = 0; fd < 3; fd++)
                if (p->tty[fd] && dup2(p->slave_fd, fd) < 0)
                        return -errno;
        return 0;
}

pid_t pty_relay_fork(const PtyRelay *p) {
        sigset_t mask;
        pid_t pid;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        if (wants_relay(p)) {   /* the relay restores the terminal on these */
                sigaddset(&mask, SIGTERM);
                sigaddset(&mask, SIGHUP);
        }
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                (void) sigprocmask(SIG_UNBLOCK, &mask, NULL);
        return pid;
}

int pty_relay_wait(PtyRelay *p, pid_t child) {
        int status, r;

        if (p->master_fd >= 0) {
                r = pty_relay_run(p, child, false, &status);
                if (r < 0)
                        return r;
        } else {
                while (waitpid(child, &status, 0) < 0)
                        if (errno != EINTR)
                                return -errno;
        }
        return wait_status_to_exit_code(status);
}

void pty_relay_done(PtyRelay *p) {
        p->master_fd = safe_close(p->master_fd);
        p->slave_fd = safe_close(p->slave_fd);
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

typedef struct Relay {
        PtyRelay *pty;
        pid_t child;
        bool forward;
        int tty_fd, out_fd;
        char in[4096];
        size_t in_len;
        bool in_open;
        sd_event_source *in_source, *master_source;
        int status;
        bool killed;
} Relay;

/* What we wait for follows what we hold: input while there is room for it, the master's writability
 * while input waits for it. */
static int relay_update(Relay *r) {
        int k = 0;

        if (r->in_source)
                k = sd_event_source_set_enabled(r->in_source,
                                                r->in_open && r->in_len < sizeof r->in ? SD_EVENT_ON : SD_EVENT_OFF);
        if (k >= 0)
                k = sd_event_source_set_io_events(r->master_source, EPOLLIN | (r->in_len > 0 ? EPOLLOUT : 0));
        return k;
}

/* The command's output, as much as there is; false once nobody holds its end any more (EIO). */
static bool relay_drain(Relay *r) {
        char buf[4096];

        for (;;) {
                ssize_t n = read(r->pty->master_fd, buf, sizeof buf);

                if (n > 0) {
                        if (r->out_fd >= 0)
                                (void) write_all(r->out_fd, buf, (size_t) n);
                        continue;
                }
                return !(n < 0 && errno == EIO);
        }
}

static int on_input(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Relay *r = userdata;
        ssize_t n = read(STDIN_FILENO, r->in + r->in_len, sizeof r->in - r->in_len);

        if (n > 0)
                r->in_len += (size_t) n;
        else if (n == 0 || (errno != EAGAIN && errno != EINTR))
                r->in_open = false;
        return relay_update(r);
}

static int on_master(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Relay *r = userdata;

        if (r->in_len > 0 && (revents & EPOLLOUT)) {
                ssize_t n = write(fd, r->in, r->in_len);

                if (n > 0) {
                        memmove(r->in, r->in + n, r->in_len - (size_t) n);
                        r->in_len -= (size_t) n;
                } else if (n < 0 && errno != EAGAIN && errno != EINTR)
                        r->in_len = 0, r->in_open = false;
        }
        if (!relay_drain(r))
                /* Nobody has the terminal open: nothing more to relay; the child's end still counts. */
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return relay_update(r);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Relay *r = userdata;

        r->status = wait_status_from_siginfo(si);
        /* What it wrote last is still in the pseudo-terminal. */
        (void) relay_drain(r);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Relay *r = userdata;

        if (si->ssi_signo == SIGWINCH) {
                struct winsize ws;

                if (ioctl(r->tty_fd, TIOCGWINSZ, &ws) == 0)
                        (void) ioctl(r->pty->master_fd, TIOCSWINSZ, &ws);
                return 0;
        }
        if (r->forward) {
                (void) kill(r->child, SIGTERM);
                return 0;
        }
        r->killed = true;
        r->status = W_EXITCODE(0, (int) si->ssi_signo);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* The pseudo-terminal is non-blocking, and input waits in a buffer while the command does not read it,
 * so that its output still flows; the pseudo-terminal follows our window size. An sd-event loop: the
 * caller's input, the master, the child, and the signals (blocked by the caller before it forked). */
int pty_relay_run(PtyRelay *p, pid_t child, bool forward, int *ret_status) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Relay r = {
                .pty = p, .child = child, .forward = forward, .tty_fd = tty_of(p),
                .out_fd = p->tty[1] ? STDOUT_FILENO : p->tty[2] ? STDERR_FILENO : -EBADF, .in_open = p->tty[0],
        };
        /* Only stdin a terminal: the caller's terminal stays as it is; the command writes to the caller's
         * pipes itself. */
        bool raw_mode = p->tty[1] || p->tty[2], have_saved;
        struct termios saved, raw;
        sigset_t mask;
        int k;

        p->slave_fd = safe_close(p->slave_fd);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        if (forward)
                sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        if (fcntl(p->master_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        k = sd_event_new(&e);
        if (k >= 0 && r.in_open)
                k = sd_event_add_io(e, &r.in_source, STDIN_FILENO, EPOLLIN, on_input, &r);
        if (k >= 0)
                k = sd_event_add_io(e, &r.master_source, p->master_fd, EPOLLIN, on_master, &r);
        if (k >= 0)
                k = sd_event_add_child(e, NULL, child, WEXITED, on_child_exit, &r);
        for (int sig = 1; k >= 0 && sig < NSIG; sig++)
                if (sig != SIGCHLD && sigismember(&mask, sig))
                        k = sd_event_add_signal(e, NULL, sig, on_signal, &r);
        if (k < 0)
                goto finish;

        have_saved = raw_mode && tcgetattr(r.tty_fd, &saved) == 0;
        if (have_saved) {
                raw = saved;
                cfmakeraw(&raw);
                (void) tcsetattr(r.tty_fd, TCSANOW, &raw);
        }
        k = sd_event_loop(e);
        if (have_saved)
                (void) tcsetattr(r.tty_fd, TCSANOW, &saved);
        if (k >= 0)
                *ret_status = r.status;         /* killed: by that signal */
finish:
        sd_event_source_unref(r.in_source);
        sd_event_source_unref(r.master_source);
        return k;
}
