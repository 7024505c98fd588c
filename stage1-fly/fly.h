/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "macro.h"
#include "pod-manifest.h"

/* The pod's PID 1: passes SIGINT/SIGTERM/SIGHUP to the app, reaps everything, returns when the app exits. */
void fly_init_loop(pid_t app, int *ret_status);
/* The pod's manifest from the pod directory (our cwd), of exactly one app, and its machine ID; logged. */
int fly_load_pod(PodManifest **ret, char mid[static 33]);
/* The pod's PID 1 from "pid", checked (its cwd's pod directory holds our manifest). */
int fly_leader_pid(const char *machine_id, pid_t *ret);
/* enter: a command in the pod's namespaces with the app's confinement (app_exec()). */
int fly_enter(int argc, char *argv[]);
