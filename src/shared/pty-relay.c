/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "fs-util.h"
#include "macro.h"
#include "pty-relay.h"

static int tty_of(const PtyRelay *p) {
        return p->tty[0] ? STDIN_FILENO : p->tty[1] ? STDOUT_FILENO : STDERR_FILENO;
}

int pty_relay_init(PtyRelay *ret) {
        *ret = (PtyRelay) { .master_fd = -EBADF, .slave_fd = -EBADF };
        for (int fd = 0; fd < 3; fd++)
                ret->tty[fd] = isatty(fd);
        return ret->tty[0] || ret->tty[1] || ret->tty[2];
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

int pty_relay_open(PtyRelay *ret) {
        int r = pty_relay_init(ret);

        if (r <= 0)
                return r;
        r = pty_relay_open_at(ret, "/dev/ptmx");
        return r < 0 ? r : 1;
}

int pty_relay_send_master(PtyRelay *p, int sock) {
        union {
                struct cmsghdr cmsg;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        char byte = 'm';
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &p->master_fd, sizeof(int));
        if (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                return -errno;
        p->master_fd = safe_close(p->master_fd);
        return 0;
}

int pty_relay_recv_master(PtyRelay *p, int sock) {
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

        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        c = CMSG_FIRSTHDR(&mh);
        if (n == 0 || !c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EBADMSG;        /* the other side went away without one */
        memcpy(&p->master_fd, CMSG_DATA(c), sizeof(int));
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

/* The pseudo-terminal is non-blocking, and input waits in a buffer while the command does not read it,
 * so that its output still flows; the pseudo-terminal follows our window size. */
int pty_relay_run(PtyRelay *p, pid_t child, bool forward, int *ret_status) {
        int tty_fd = tty_of(p), master_fd = p->master_fd;
        /* Only stdin a terminal: the command writes to the caller's pipes itself. */
        bool raw_mode = p->tty[1] || p->tty[2];
        int out_fd = p->tty[1] ? STDOUT_FILENO : p->tty[2] ? STDERR_FILENO : -EBADF;
        _cleanup_close_ int sfd = -EBADF;
        struct termios saved, raw;
        bool have_saved, in_open = p->tty[0], exited = false, killed = false;
        char in[4096], buf[4096];
        size_t in_len = 0;
        sigset_t mask;
        int r = 0;

        p->slave_fd = safe_close(p->slave_fd);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGWINCH);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        if (forward)
                sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);
        if (sfd < 0)
                return -errno;
        if (fcntl(master_fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        have_saved = raw_mode && tcgetattr(tty_fd, &saved) == 0;
        if (have_saved) {
                raw = saved;
                cfmakeraw(&raw);
                (void) tcsetattr(tty_fd, TCSANOW, &raw);
        }
        for (;;) {
                struct pollfd pfd[3] = {
                        { .fd = in_open && in_len < sizeof in ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = master_fd, .events = POLLIN | (in_len > 0 ? POLLOUT : 0) },
                        { .fd = sfd, .events = POLLIN },
                };
                struct signalfd_siginfo si;
                ssize_t n;

                if (poll(pfd, 3, exited ? 100 : -1) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                while (read(sfd, &si, sizeof si) == sizeof si)
                        if (si.ssi_signo == SIGWINCH) {
                                struct winsize ws;

                                if (ioctl(tty_fd, TIOCGWINSZ, &ws) == 0)
                                        (void) ioctl(master_fd, TIOCSWINSZ, &ws);
                        } else if (si.ssi_signo != SIGCHLD && forward)
                                (void) kill(child, SIGTERM);
                        else if (si.ssi_signo != SIGCHLD) {
                                killed = true;
                                *ret_status = W_EXITCODE(0, (int) si.ssi_signo);
                                goto done;
                        }
                if (!exited && waitpid(child, ret_status, WNOHANG) == child)
                        exited = true;
                if (pfd[0].revents & (POLLIN|POLLHUP)) {
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
        if (killed)
                return 0;       /* *ret_status: killed by that signal */
        if (r >= 0 && !exited && waitpid(child, ret_status, 0) < 0)
                r = -errno;
        return r;
}
