/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"
#include "pod-manifest.h"

/* In the app's process: chroot, working directory, user, capability bounding set, no_new_privs, seccomp,
 * then exec. Never returns. */
_noreturn_ void fly_exec_app(const PodApp *a, const char *root);
/* The pod's PID 1: passes SIGINT/SIGTERM/SIGHUP to the app, reaps everything, returns when the app exits. */
void fly_init_loop(pid_t app, int *ret_status);
/* /proc/kcore & co. masked, /proc/sys & co. read-only, under root. */
int fly_mask_paths(const char *root);
/* The pod's PID 1 from "pid", checked (its cwd's pod directory holds our manifest). */
int fly_leader_pid(const char *machine_id, pid_t *ret);
int fly_enter(int argc, char *argv[]);
/* The seccomp filter of the manifest, for the native and the 32-bit ABIs. */
int fly_seccomp(const PodApp *a);
