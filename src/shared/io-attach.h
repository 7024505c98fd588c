/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The client side of an app's I/O socket (io-proto.h): rocket attach, and rocket run -i relaying the caller's
 * stdin, stdout and stderr to its app. libc only. */

#include <stdbool.h>
#include <sys/types.h>

#include "io-proto.h"

/* Connects to app's I/O socket in the pod whose PID 1 is leader (resolved within its root) and says hello
 * with flags (APP_IO_FLAG_*). -ENOENT while the app has no socket (yet). */
int io_attach_connect(pid_t leader, const char *app, unsigned flags, int *ret_fd);

typedef struct IoAttachOptions {
        unsigned flags;         /* what was attached */
        bool tty;               /* the app's terminal: ours raw while attached, our window size passed on */
        bool detach_keys;       /* ctrl-p ctrl-q on our terminal detach */
} IoAttachOptions;

/* Relays between our stdin/stdout/stderr and the socket until the app ends (1, *ret_status its wait status),
 * the socket closes (0), or the detach keys (2). Our terminal is restored. */
int io_attach_relay(int fd, const IoAttachOptions *o, int *ret_status);
