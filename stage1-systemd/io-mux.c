/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "io-mux.h"

#define MAX_CLIENTS 16
#define PENDING_MAX (64 * 1024)

typedef struct Client {
        int fd;
        unsigned flags;         /* APP_IO_FLAG_*, 0 until its hello */
} Client;

typedef struct Mux {
        const IoMuxConfig *c;
        const char *app;
        int listen_fd, sig_fd;
        int out_fd, err_fd;     /* ours to read: the terminal's master, the stdout and stderr pipes */
        int in_fd;              /* ours to write: the master again, or the stdin pipe */
        int child_fds[3];       /* the app's ends, until it has them */
        Client clients[MAX_CLIENTS];
        size_t n_clients;
        char pending[PENDING_MAX];      /* input the app has not taken yet */
        size_t n_pending;
        pid_t child;
        int status;
        bool exited, attached;
} Mux;

static _noreturn_ void die(const Mux *m, const char *what) {
        fprintf(stderr, "rocket-pod-helper: %s: %s: %m\n", m->app, what);
        _exit(1);
}

static void fd_nonblock(int fd) {
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0)
                (void) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void open_streams(Mux *m) {
        const IoMuxConfig *c = m->c;
        int p[2];

        m->out_fd = m->err_fd = m->in_fd = -1;
        for (int i = 0; i < 3; i++)
                m->child_fds[i] = -1;
        if (c->in == APP_IO_TTY || c->out == APP_IO_TTY || c->err == APP_IO_TTY) {
                int master = open("/dev/ptmx", O_RDWR|O_NOCTTY|O_CLOEXEC), slave;

                if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
                        die(m, "cannot open a pseudo-terminal");
                slave = open(ptsname(master), O_RDWR|O_NOCTTY|O_CLOEXEC);
                if (slave < 0)
                        die(m, "cannot open the pseudo-terminal");
                if (c->in == APP_IO_TTY)
                        m->child_fds[0] = dup(slave), m->in_fd = master;
                if (c->out == APP_IO_TTY)
                        m->child_fds[1] = dup(slave), m->out_fd = master;
                if (c->err == APP_IO_TTY)
                        m->child_fds[2] = dup(slave);
                if (m->out_fd < 0)
                        m->out_fd = master;     /* what the terminal echoes is output too */
                close(slave);
        }
        if (c->in == APP_IO_STREAM) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        die(m, "pipe");
                m->child_fds[0] = p[0], m->in_fd = p[1];
        }
        if (c->out == APP_IO_STREAM) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        die(m, "pipe");
                m->child_fds[1] = p[1], m->out_fd = p[0];
        }
        if (c->err == APP_IO_STREAM) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        die(m, "pipe");
                m->child_fds[2] = p[1], m->err_fd = p[0];
        }
        if (m->in_fd >= 0)
                fd_nonblock(m->in_fd);
}

/* The app's socket, in the stage1's /run, which no app sees. */
static void open_socket(Mux *m) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        (void) mkdir("/run/rocket", 0755);
        if (mkdir(APP_IO_SOCKET_DIR, 0700) < 0 && errno != EEXIST)
                die(m, "cannot create " APP_IO_SOCKET_DIR);
        snprintf(sa.sun_path, sizeof sa.sun_path, APP_IO_SOCKET_FMT, m->app);
        (void) unlink(sa.sun_path);
        m->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC|SOCK_NONBLOCK, 0);
        if (m->listen_fd < 0 || bind(m->listen_fd, (struct sockaddr *) &sa, sizeof sa) < 0 ||
            listen(m->listen_fd, MAX_CLIENTS) < 0)
                die(m, "cannot listen on its I/O socket");
}

static void start_app(Mux *m, const AppExec *e) {
        sigset_t all;

        m->child = fork();
        if (m->child < 0)
                die(m, "fork");
        if (m->child > 0) {
                for (int i = 0; i < 3; i++)
                        if (m->child_fds[i] >= 0) {
                                close(m->child_fds[i]);
                                m->child_fds[i] = -1;
                        }
                return;
        }
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        for (int i = 0; i < 3; i++) {
                int fd = m->child_fds[i];

                if (fd < 0 && (i == 0 ? m->c->in : i == 1 ? m->c->out : m->c->err) == APP_IO_NULL)
                        fd = open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
                if (fd >= 0 && dup2(fd, i) < 0)
                        _exit(1);
        }
        /* Its terminal is its controlling terminal, in a session of its own: job control works. */
        if (m->c->in == APP_IO_TTY || m->c->out == APP_IO_TTY) {
                (void) setsid();
                (void) ioctl(m->c->in == APP_IO_TTY ? 0 : 1, TIOCSCTTY, 0);
        }
        app_exec(e);
}

static void drop_client(Mux *m, size_t i) {
        close(m->clients[i].fd);
        m->clients[i] = m->clients[--m->n_clients];
}

static void broadcast(Mux *m, char type, unsigned flag, const char *data, size_t n) {
        char msg[APP_IO_MSG_MAX];

        msg[0] = type;
        memcpy(msg + 1, data, n);
        for (size_t i = 0; i < m->n_clients; i++)
                if ((m->clients[i].flags & flag) &&
                    send(m->clients[i].fd, msg, n + 1, MSG_DONTWAIT|MSG_NOSIGNAL) < 0) {
                        drop_client(m, i);
                        i--;
                }
}

/* Output of the app: to the journal (our own stdout or stderr) and the clients. -1 at its end. */
static int relay_output(Mux *m, int fd, bool err) {
        char buf[APP_IO_MSG_MAX - 1];
        ssize_t n = read(fd, buf, sizeof buf);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0)
                return -1;      /* EOF, or EIO: the terminal's last user closed it */
        (void) io_write_all(err ? STDERR_FILENO : STDOUT_FILENO, buf, (size_t) n);
        broadcast(m, err ? 'R' : 'O', err ? APP_IO_FLAG_STDERR : APP_IO_FLAG_STDOUT, buf, (size_t) n);
        return 0;
}

static void flush_input(Mux *m) {
        while (m->n_pending > 0 && m->in_fd >= 0) {
                ssize_t k = write(m->in_fd, m->pending, m->n_pending);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0) {
                        m->n_pending = 0;       /* the app closed its stdin */
                        return;
                }
                memmove(m->pending, m->pending + k, m->n_pending - (size_t) k);
                m->n_pending -= (size_t) k;
        }
}

static void client_message(Mux *m, size_t i) {
        char msg[APP_IO_MSG_MAX];
        ssize_t n = recv(m->clients[i].fd, msg, sizeof msg, MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                drop_client(m, i);
                return;
        }
        switch (msg[0]) {
        case 'H':
                if (n >= 2 && m->clients[i].flags == 0) {
                        m->clients[i].flags = (unsigned char) msg[1] | 0x100;   /* 0x100: said hello */
                        m->attached = true;
                }
                break;
        case 'I':
                if (!(m->clients[i].flags & APP_IO_FLAG_STDIN) || m->in_fd < 0)
                        break;
                /* What does not fit is lost: an app that does not read its input stalls nobody. */
                n = (ssize_t) ((size_t) (n - 1) > PENDING_MAX - m->n_pending ? PENDING_MAX - m->n_pending : (size_t) (n - 1));
                memcpy(m->pending + m->n_pending, msg + 1, (size_t) n);
                m->n_pending += (size_t) n;
                flush_input(m);
                break;
        case 'W':
                if (n >= 5 && m->c->out == APP_IO_TTY) {
                        struct winsize ws = {};
                        uint16_t rc[2];

                        memcpy(rc, msg + 1, sizeof rc);
                        ws.ws_row = rc[0];
                        ws.ws_col = rc[1];
                        (void) ioctl(m->out_fd, TIOCSWINSZ, &ws);
                }
                break;
        case 'E':
                /* The end of a stream; a terminal has no end but the app's. */
                if ((m->clients[i].flags & APP_IO_FLAG_STDIN) && m->c->in == APP_IO_STREAM && m->in_fd >= 0) {
                        flush_input(m);
                        close(m->in_fd);
                        m->in_fd = -1;
                }
                break;
        default:
                drop_client(m, i);
        }
}

static void accept_client(Mux *m) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC|SOCK_NONBLOCK);

        if (fd < 0)
                return;
        if (m->n_clients >= MAX_CLIENTS) {
                close(fd);
                return;
        }
        m->clients[m->n_clients++] = (Client) { .fd = fd };
}

static _noreturn_ void exit_as(int status);

static void reap(Mux *m) {
        struct signalfd_siginfo si;
        int status;

        while (read(m->sig_fd, &si, sizeof si) == sizeof si)
                /* Stopped before anyone attached: there is no app to wait for. */
                if (si.ssi_signo == SIGTERM && m->child == 0)
                        exit_as(SIGTERM);       /* a wait status: killed by SIGTERM */
        if (m->child > 0 && waitpid(m->child, &status, WNOHANG) == m->child) {
                m->status = status;
                m->exited = true;
        }
}

/* The app's status as ours, for its unit's ExecStopPost= and exit record. */
static _noreturn_ void exit_as(int status) {
        if (WIFSIGNALED(status)) {
                sigset_t s;

                signal(WTERMSIG(status), SIG_DFL);
                (void) prctl(PR_SET_DUMPABLE, 0);       /* no core of ours for the app's */
                sigemptyset(&s);
                sigaddset(&s, WTERMSIG(status));
                sigprocmask(SIG_UNBLOCK, &s, NULL);
                raise(WTERMSIG(status));
        }
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

_noreturn_ void io_mux_exec(const AppExec *e, const IoMuxConfig *c) {
        Mux m = { .c = c, .app = e->name, .child = 0 };
        sigset_t mask;

        /* SIGTERM and friends are the app's to act on (the unit sends them to its whole cgroup); we go on
         * relaying until it is gone. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGPIPE);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        m.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);
        if (m.sig_fd < 0)
                die(&m, "signalfd");
        /* Nothing in the pod may trace us. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        open_streams(&m);
        open_socket(&m);
        if (!c->wait_attach)
                start_app(&m, e);

        for (;;) {
                struct pollfd p[5 + MAX_CLIENTS];
                size_t n = 0, first_client;
                int k;

                if (m.child > 0 && m.exited && m.out_fd < 0 && m.err_fd < 0)
                        break;
                p[n++] = (struct pollfd) { .fd = m.sig_fd, .events = POLLIN };
                p[n++] = (struct pollfd) { .fd = m.listen_fd, .events = POLLIN };
                p[n++] = (struct pollfd) { .fd = m.child > 0 ? m.out_fd : -1, .events = POLLIN };
                p[n++] = (struct pollfd) { .fd = m.child > 0 ? m.err_fd : -1, .events = POLLIN };
                p[n++] = (struct pollfd) { .fd = m.n_pending > 0 ? m.in_fd : -1, .events = POLLOUT };
                first_client = n;
                for (size_t i = 0; i < m.n_clients; i++)
                        p[n++] = (struct pollfd) { .fd = m.clients[i].fd, .events = POLLIN };
                /* Once the app is gone: what its output still holds, not what descendants that keep it
                 * open may write some day. */
                k = poll(p, n, m.exited ? 100 : -1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        die(&m, "poll");
                }
                if (k == 0) {
                        m.out_fd = m.err_fd = -1;
                        continue;
                }
                if (p[0].revents)
                        reap(&m);
                if (p[1].revents)
                        accept_client(&m);
                if (p[2].revents && relay_output(&m, m.out_fd, false) < 0) {
                        if (m.in_fd == m.out_fd)
                                m.in_fd = -1;
                        m.out_fd = -1;
                }
                if (p[3].revents && relay_output(&m, m.err_fd, true) < 0)
                        m.err_fd = -1;
                if (p[4].revents)
                        flush_input(&m);
                /* Clients, last first (a dropped one's place is taken by the last). */
                for (size_t i = n - first_client; i > 0; i--)
                        if (i - 1 < m.n_clients && p[first_client + i - 1].revents)
                                client_message(&m, i - 1);
                if (m.child == 0 && m.attached)
                        start_app(&m, e);
        }
        {
                char msg[1 + sizeof(int)] = { 'X' };

                memcpy(msg + 1, &m.status, sizeof m.status);
                for (size_t i = 0; i < m.n_clients; i++)
                        (void) send(m.clients[i].fd, msg, sizeof msg, MSG_DONTWAIT|MSG_NOSIGNAL);
        }
        exit_as(m.status);
}
