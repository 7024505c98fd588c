/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "fs-util.h"
#include "io-attach.h"

int io_attach_connect(pid_t leader, const char *app, unsigned flags, int *ret_fd) {
        char hello[2] = { 'H', (char) flags }, path[96];
        int fd, r;

        snprintf(path, sizeof path, APP_IO_SOCKET_FMT, app);
        fd = socket(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = socket_connect_in_root(fd, leader, path);
        if (r >= 0 && send(fd, hello, sizeof hello, MSG_NOSIGNAL) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r == -ECONNREFUSED ? -ENOENT : r;
        }
        *ret_fd = fd;
        return 0;
}

static void send_winsize(int fd) {
        struct winsize ws;
        char msg[1 + 2 * sizeof(uint16_t)] = { 'W' };
        uint16_t rc[2];

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        rc[0] = ws.ws_row;
        rc[1] = ws.ws_col;
        memcpy(msg + 1, rc, sizeof rc);
        (void) send(fd, msg, sizeof msg, MSG_NOSIGNAL);
}

/* Our input to the app; 2 when it held the detach keys (what came before them is sent). */
static int forward_input(int fd, const char *buf, size_t n, bool detach_keys, bool *held) {
        char msg[APP_IO_MSG_MAX] = { 'I' };
        size_t m = 1;

        for (size_t i = 0; i < n; i++) {
                if (detach_keys && *held && buf[i] == APP_IO_DETACH_2)
                        return 2;
                if (*held) {
                        msg[m++] = APP_IO_DETACH_1;     /* ctrl-p alone is the app's */
                        *held = false;
                }
                if (detach_keys && buf[i] == APP_IO_DETACH_1) {
                        *held = true;
                        continue;
                }
                msg[m++] = buf[i];
                if (m == sizeof msg) {
                        if (send(fd, msg, m, MSG_NOSIGNAL) < 0)
                                return -errno;
                        m = 1;
                }
        }
        if (m > 1 && send(fd, msg, m, MSG_NOSIGNAL) < 0)
                return -errno;
        return 0;
}

int io_attach_relay(int fd, const IoAttachOptions *o, int *ret_status) {
        struct termios saved;
        bool raw = false, in_open = o->flags & APP_IO_FLAG_STDIN, held = false;
        int sig_fd = -1, r = 0;
        sigset_t mask;

        if (o->tty && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) >= 0) {
                struct termios t = saved;

                cfmakeraw(&t);
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) >= 0;
        }
        if (o->tty) {
                sigemptyset(&mask);
                sigaddset(&mask, SIGWINCH);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                sig_fd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);
                send_winsize(fd);
        }
        for (;;) {
                struct pollfd p[3] = {
                        { .fd = fd, .events = POLLIN },
                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
                        { .fd = sig_fd, .events = POLLIN },
                };
                char buf[APP_IO_MSG_MAX];
                ssize_t n;

                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;

                        while (read(sig_fd, &si, sizeof si) == sizeof si)
                                ;
                        send_winsize(fd);
                }
                if (p[1].revents) {
                        n = read(STDIN_FILENO, buf, sizeof buf - 1);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                /* Our input ended: so does the app's (a stream's). */
                                in_open = false;
                                (void) send(fd, "E", 1, MSG_NOSIGNAL);
                        } else {
                                r = forward_input(fd, buf, (size_t) n, o->detach_keys && raw, &held);
                                if (r != 0)
                                        break;
                        }
                }
                if (p[0].revents) {
                        n = recv(fd, buf, sizeof buf, 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                r = n < 0 ? -errno : 0;
                                break;
                        }
                        if (buf[0] == 'O')
                                r = io_write_all(STDOUT_FILENO, buf + 1, (size_t) n - 1);
                        else if (buf[0] == 'R')
                                r = io_write_all(STDERR_FILENO, buf + 1, (size_t) n - 1);
                        else if (buf[0] == 'X' && n >= 1 + (ssize_t) sizeof(int)) {
                                memcpy(ret_status, buf + 1, sizeof(int));
                                r = 1;
                                break;
                        }
                        if (r < 0)
                                break;
                }
        }
        if (raw)
                (void) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
        if (sig_fd >= 0)
                close(sig_fd);
        return r;
}
