/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The seccomp filters of an app (app-exec.c), with libseccomp. Linked into the in-pod helper too, so it
 * uses libc and libseccomp only. */

#include <stdbool.h>

typedef struct SyscallGroup {
        const char *name;               /* "@clock" */
        const char *const *members;     /* system call names and other groups, NULL-terminated */
} SyscallGroup;

/* systemd's groups, as the systemd rocket was built against defines them (generated at build time). */
extern const SyscallGroup syscall_groups[];

/* The members of a group, NULL for an unknown one. */
const char *const *syscall_group_members(const char *name);

/* "EPERM" → EPERM; -EINVAL for a name that is no errno. */
int errno_from_name(const char *name);

/* Loads the filter a manifest asks for: mode "retain" (only these calls, execve too, the rest fail with
 * err) or "remove" (these calls fail with err). Names are system calls or groups; a call this
 * architecture lacks is left out. -ENOENT and *reterr_name: an unknown group. For the native ABI and,
 * on x86-64, the 32-bit ones. */
int seccomp_load_app_filter(const char *mode, char *const *names, int err, const char **reterr_name);

/* Loads the restrictions that a list of names cannot express, as a filter of its own: personality()
 * only with the values Docker's profile allows (restrict_personality), and no new user namespaces
 * (no unshare/clone/setns of CLONE_NEWUSER, no setns of an unnamed type, clone3 reports ENOSYS so that
 * libc falls back to clone). Loaded before the app's filter, which may not allow seccomp(2) itself. */
int seccomp_load_restrictions(bool restrict_personality, bool no_user_namespaces);
