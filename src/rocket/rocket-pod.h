/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "digest.h"
#include "pod.h"
#include "rocket.h"
#include "time-util.h"

/* Opens ROCKET_DIR/pods (creating it with create), logging a clear error. Without create, a missing
 * directory is -ENOENT, logged at debug level only (no pods yet). */
int rocket_pods_open(RocketContext *ctx, bool create, int *ret_fd);
/* The same without create, where no pods directory yet is no error: *ret_fd = -EBADF. */
int rocket_pods_open_existing(RocketContext *ctx, int *ret_fd);
/* Finds a pod by UUID, UUID prefix or name, logging why not (pods_fd < 0: there is none). */
int rocket_pod_resolve(int pods_fd, const char *what, Pod **ret);
/* Both: the pods directory (if any) and the pod what in it. */
int rocket_pod_find(RocketContext *ctx, const char *what, int *ret_pods_fd, Pod **ret);

/* What the command line asks for: at most one of them; none: $ROCKET_STAGE1_PATH, stage1.d's, ours. */
typedef struct Stage1Choice {
        const char *path;       /* --stage1-path: a stage1 directory */
        const char *name;       /* --stage1-name: an installed one, rkt's image names too */
        const char *from_dir;   /* --stage1-from-dir: a directory in the stage1 images directory */
        const char *hash;       /* --stage1-hash: an installed one, by its ID (a prefix of it) */
} Stage1Choice;

/* A stage1's ID: "sha256:" and the SHA-256 of its stage1.json and its run entrypoint, as installed. */
int rocket_stage1_id(const char *dir, char ret[static DIGEST_STRING_MAX]);

/* The directory of the stage1 chosen, unchecked; the same, checked to be a stage1. Log. */
int rocket_stage1_dir(const RocketContext *ctx, const Stage1Choice *c, char **ret);
int rocket_stage1_find(const RocketContext *ctx, const Stage1Choice *c, char **ret);
/* The "features" stage1.json of the stage1 in dir lists (rocket-stage1(7)); NULL for none. Logs. */
int rocket_stage1_features(const char *dir, char ***ret);

/* The path of a stage1's entrypoint that may be run as root on the host: the stage1's directory, each one
 * above it and the entrypoint (a link within that directory, or a file) owned by root and writable by
 * nobody else, and not within the pods directory. -EPERM otherwise. */
int rocket_stage1_entrypoint(int pods_fd, const char *stage1, const char *entrypoint, char **ret);
/* Runs (fork, wait) or execs one of the pod's stage1 entrypoints, checked as above, with cwd = the pod
 * directory and fd 3 = the pod directory. Returns the entrypoint's exit status, or a negative errno
 * (logged) when it may not run. */
int rocket_stage1_call(int pods_fd, const Pod *p, const char *entrypoint, char *const *args);
int rocket_stage1_exec(int pods_fd, const Pod *p, int pod_fd, const char *entrypoint, char *const *args,
                       const int *listen_fds, size_t n_listen_fds);
/* Puts pod_fd at 3 and the sockets at 4… (not close-on-exec), as rocket-stage1(7) says. */
int rocket_fds_arrange(int pod_fd, const int *listen_fds, size_t n);

/* For a verb that changes or attaches to a running pod: its manifest readable, the pod running, and its stage1
 * listing feature in stage1.json (else "The stage1 at DIR <cannot> (…)"). Logs. */
int rocket_pod_check_running(const Pod *p, const char *feature, const char *cannot);

/* Lists the image IDs that pods still use (so image gc keeps them). */
int rocket_pods_images_in_use(RocketContext *ctx, char ***ret);

/* The POD argument at optind (the verb's usage error when there is none), found as rocket_pod_find(). */
/* The pod a verb acts on: the one whose UUID uuid_file holds (--uuid-file, as --uuid-file-save wrote it), else
 * the first argument. *ret_consumed (if not NULL): how many arguments named it (0 or 1). */
int rocket_pod_find_arg(RocketContext *ctx, const char *verb, const char *uuid_file, int argc, char *argv[],
                        int *ret_pods_fd, Pod **ret, int *ret_consumed);
/* The pods a verb that takes several acts on: its arguments, and the one whose UUID uuid_file holds. */
int rocket_pod_targets(const char *verb, const char *uuid_file, int argc, char *argv[], char ***ret);
/* Reads a pod UUID from a file: one UUID, a trailing newline allowed. Logs why not. */
int rocket_uuid_file_read(const char *verb, const char *path, char **ret);
/* Waits until nobody holds the pod's lock (its stage1 and the pod itself do while it runs), at most
 * timeout_usec (0: forever): -ETIMEDOUT. */
int pod_wait_unlocked(const Pod *p, uint64_t timeout_usec);
/* Removes a pod that nobody runs: the stage1's gc entrypoint, then the directory and its user range. Logs. */
int rocket_pod_remove(int pods_fd, Pod *p);
