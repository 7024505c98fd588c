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

/* Looks at our stdin, stdout and stderr: 1 when any is a terminal (a relay is wanted), else 0. */
int pty_relay_init(PtyRelay *ret);
/* Opens the pseudo-terminal pair, on the devpts instance whose ptmx node this is (a pod's own
 * /dev/pts/ptmx, opened in the pod's mount namespace, so that the pod knows its terminal by name), of
 * our terminal's size, with echo off when only stdin is a terminal (the caller's echoes). */
int pty_relay_open_at(PtyRelay *p, const char *ptmx);
/* Hands the master side to the process at the other end of a Unix socket (the relay), closing ours. */
int pty_relay_send_master(PtyRelay *p, int sock);
int pty_relay_recv_master(PtyRelay *p, int sock);
/* In the process that is to use it: a session of its own with the pseudo-terminal as its controlling
 * terminal, on those of fds 0-2 that were terminals. */
int pty_relay_attach(const PtyRelay *p);
/* Copies between our terminal and the pseudo-terminal until child is gone and the pseudo-terminal
 * drained. SIGTERM and SIGHUP end the relay (*ret_status then says killed by it) or, with forward,
 * are sent on to child as SIGTERM. */
int pty_relay_run(PtyRelay *p, pid_t child, bool forward, int *ret_status);
/* For enter: forks with SIGCHLD and SIGWINCH (and, when p has a terminal to relay, SIGTERM and SIGHUP)
 * blocked in the parent, so that none is lost or ends us before the relay or the wait below runs; the
 * child gets them back. Returns the child's PID in the parent, 0 in the child, or a negative errno. */
pid_t pty_relay_fork(const PtyRelay *p);
/* Relays until child is gone when p has a master, else just waits for it. Returns the child's exit
 * status as a shell reports it (128 + signal when killed), or a negative errno. */
int pty_relay_wait(PtyRelay *p, pid_t child);
void pty_relay_done(PtyRelay *p);
