/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one way an app's process is started, for every stage1 and for enter: stage1-systemd's in-pod
 * helper (the app's service), stage1-fly's pod, and both stage1s' enter. Whatever runs as an app, or in
 * one, gets the same confinement from the same code. libc, libcap and libseccomp only (the in-pod helper
 * links it). */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"

typedef struct AppExec {
        const char *name;               /* the app's name: $AC_APP_NAME, and what errors start with */
        const char *root;               /* its rootfs, as seen from where we are: chroot(2)ed into */
        const char *user;               /* as the image names them (image-user.h); NULL: root */
        const char *group;
        const gid_t *extra_gids;        /* supplementary groups beyond those the image lists the user in */
        size_t n_extra_gids;
        int oom_score_adj;              /* when oom_score_adj_set: its /proc/self/oom_score_adj */
        bool oom_score_adj_set;
        const char *workdir;            /* NULL: / */
        char *const *caps;              /* the bounding set kept, by name ("CAP_CHOWN"); all when caps_all */
        bool caps_all;
        bool no_new_privs;
        bool no_user_namespaces;
        bool mask_paths;                /* app_masked_paths and friends, in a mount namespace of its own */
        const char *seccomp_mode;       /* NULL: no filter; "retain" or "remove" (seccomp-util.h) */
        char *const *seccomp_syscalls;
        const char *seccomp_errno;      /* NULL: EPERM */
        char *const *env;               /* NAME=VALUE, on an empty environment (unless keep_env) */
        bool keep_env;                  /* on the environment we have (systemd made it for the service) */
        unsigned n_keep_fds;            /* fds 3… passed on (socket activation); every other one is closed */
        char *const *argv;
} AppExec;

/* In a process of its own: sets up e and execs e->argv (searched in $PATH). Never returns: exit status
 * 127 when the command is not found, 126 when it cannot be executed, 1 when the confinement cannot be
 * set up (one line on stderr says why). */
_noreturn_ void app_exec(const AppExec *e);
