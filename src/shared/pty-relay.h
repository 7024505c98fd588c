/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A pseudo-terminal between the caller's terminal and whatever runs in a pod, so that the caller's own
 * terminal never reaches the pod, where a program could keep it open or push input into it (TIOCSTI).
 * For enter and for stage1-fly's run. */

#include <stdbool.h>
#include <sys/types.h>

typedef struct PtyRelay {
        bool tty[3];            /* which of our stdin, stdout, stderr are terminals */
        int master_fd;
        int slave_fd;
} PtyRelay;

/* Looks at our stdin, stdout and stderr; where any is a terminal, opens a pseudo-terminal pair of its
 * size (with echo off when only stdin is one: the caller's terminal echoes). Returns 1 with a pair, 0
 * with no terminal (fds -EBADF). */
int pty_relay_open(PtyRelay *ret);
/* In the process that is to use it: a session of its own with the pseudo-terminal as its controlling
 * terminal, on those of fds 0-2 that were terminals. */
int pty_relay_attach(const PtyRelay *p);
/* Copies between our terminal and the pseudo-terminal until child is gone and the pseudo-terminal
 * drained. SIGTERM and SIGHUP end the relay (*ret_status then says killed by it) or, with forward,
 * are sent on to child as SIGTERM. */
int pty_relay_run(PtyRelay *p, pid_t child, bool forward, int *ret_status);
void pty_relay_done(PtyRelay *p);
