/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* How an app's I/O is kept (rocket run --stdin/--stdout/--stderr, -i, -t) and the protocol of its I/O
 * socket, between the stage1's I/O multiplexer (the app's main process when any of its streams is a tty or
 * a stream: stage1-systemd/io-mux.c) and whoever attaches (rocket attach, rocket run -i: io-attach.h).
 * libc only (the in-pod helper includes it).
 *
 * The socket is SOCK_SEQPACKET, one message per packet, its first byte the type:
 *   to the app:   'H' FLAGS      hello, first: which of stdin, stdout, stderr the client attaches to
 *                 'I' DATA       input for the app's stdin (or its terminal)
 *                 'W' ROWS COLS  the client's window size (two uint16_t, host order), for a tty
 *                 'E'            end of the client's input: the app's stdin pipe is closed
 *   to a client:  'O' DATA       the app's output (stdout, or its terminal)
 *                 'R' DATA       its stderr (a stream)
 *                 'X' STATUS     the app ended (an int: its wait status); the socket closes after it
 * A client that does not read its messages in time is detached. */

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

typedef enum AppIOMode {
        APP_IO_LOG,             /* the journal (stdout and stderr by default) */
        APP_IO_NULL,            /* /dev/null (stdin by default) */
        APP_IO_TTY,             /* a pseudo-terminal of the pod's, kept by the multiplexer */
        APP_IO_STREAM,          /* a pipe kept by the multiplexer; output to the journal too */
        _APP_IO_MODE_MAX,
        _APP_IO_MODE_INVALID = -EINVAL,
} AppIOMode;

#define APP_IO_FLAG_STDIN  0x1
#define APP_IO_FLAG_STDOUT 0x2
#define APP_IO_FLAG_STDERR 0x4

#define APP_IO_MSG_MAX 4096

/* In the stage1-systemd pod's own tree (not the apps'): the socket of app APP. */
#define APP_IO_SOCKET_DIR "/run/rocket/io"
#define APP_IO_SOCKET_FMT APP_IO_SOCKET_DIR "/%s.sock"

/* Keys that detach an attached terminal: ctrl-p ctrl-q, as docker's. */
#define APP_IO_DETACH_1 0x10
#define APP_IO_DETACH_2 0x11

static inline const char *app_io_mode_to_string(AppIOMode m) {
        static const char *const table[_APP_IO_MODE_MAX] = { "log", "null", "tty", "stream" };

        return m >= 0 && m < _APP_IO_MODE_MAX ? table[m] : NULL;
}

static inline AppIOMode app_io_mode_from_string(const char *s) {
        for (int m = 0; m < _APP_IO_MODE_MAX; m++)
                if (s && __builtin_strcmp(s, app_io_mode_to_string((AppIOMode) m)) == 0)
                        return (AppIOMode) m;
        return _APP_IO_MODE_INVALID;
}

/* All of n bytes to fd (a relay's output): 0, or the errno of the write that failed. */
static inline int io_write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}
