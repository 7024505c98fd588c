/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>

/* Pods on disk. A pod's state is the directory it sits in under ROCKET_DIR/pods/, and whether it is alive
 * is whether someone holds a lock on its directory:
 *
 *   embryo/UUID          being created (locked exclusively by the creating rocket)
 *   prepared/UUID        prepared, waiting for run-prepared
 *   run/UUID             locked (shared) by its stage1 and the pod itself: running; unlocked: exited
 *   exited-garbage/UUID  exited and marked by gc; removed after the grace period
 *   garbage/UUID         never ran (expired prepared pods, failed preparations); removed by gc
 *
 * Inside a pod directory: "pod" (the manifest), "pid" (host PID of the pod's PID 1, written by the stage1),
 * apps/APP/exit (written when APP exits), "exited" (written by the stage1 when the pod has ended), and
 * whatever the stage1 keeps (writable layers, the journal). */

#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
#include "pod-manifest.h"

typedef enum PodState {
        POD_EMBRYO,
        POD_PREPARING,          /* embryo, locked */
        POD_PREPARED,
        POD_RUNNING,
        POD_EXITED,
        POD_EXITED_GARBAGE,
        POD_GARBAGE,
        _POD_STATE_MAX,
        _POD_STATE_INVALID = -EINVAL,
} PodState;

const char *pod_state_to_string(PodState s) _pure_;
PodState pod_state_from_string(const char *s) _pure_;

/* The directory a state lives in ("run" for running and exited). */
const char *pod_state_dir(PodState s) _pure_;

typedef struct PodAppStatus {
        char *name;
        bool exited;
        char *how;              /* "exited", "killed", "dumped" (systemd's $EXIT_CODE) */
        int status;             /* exit status, or the signal number when killed or dumped */
        uint64_t when_usec;
        bool started;           /* a sandbox's apps: whether (and when) it last started, its PID in the pod */
        uint64_t started_usec;
        pid_t pod_pid;
} PodAppStatus;

typedef struct Pod {
        char *uuid;
        char *path;             /* ROCKET_DIR/pods/STATE/UUID */
        int dir_fd;
        PodState state;
        PodManifest *manifest;  /* NULL if unreadable (a broken embryo) */
        uint64_t created_usec, started_usec, finished_usec;
        pid_t pid;              /* of the pod's PID 1, 0 if not known */
        PodAppStatus *apps;
        size_t n_apps;
} Pod;

Pod *pod_free(Pod *p);
DEFINE_POINTER_CLEANUP(Pod, pod_free);
void pod_array_free(Pod **l, size_t n);

/* Opens the pod directory ROCKET_DIR/pods/ with its state subdirectories, creating them if needed. */
int pods_open(const char *rocket_dir, bool create, int *ret_fd);

/* Loads a pod's manifest, state, PID, timestamps and app exits. */
int pod_load(int pods_fd, PodState dir_state, const char *uuid, Pod **ret);
/* Whether a pod of that full UUID is in any state directory. */
bool pod_exists(int pods_fd, const char *uuid);
/* Every pod, oldest first. */
int pod_list(int pods_fd, Pod ***ret, size_t *ret_n);
/* The same, with each pod's manifest only as far as its summary goes (pod_manifest_load_summary_at()),
 * where it has one: for looking over many pods (list, the name and range a new pod claims, the images
 * pods use). */
int pod_list_summaries(int pods_fd, Pod ***ret, size_t *ret_n);
/* By full UUID, unique UUID prefix, or name (a pod not exited wins over exited ones of the same name,
 * then the newest). -ENOENT if none, -ENOTUNIQ if the prefix is ambiguous. */
int pod_resolve(int pods_fd, const char *what, Pod **ret);

/* Tries to take the pod directory's lock: exclusive, without waiting. -EBUSY if held. */
int pod_lock_exclusive(int dir_fd);
/* Whether someone holds the lock (probes with an exclusive lock, released at once). */
bool pod_is_locked(int dir_fd);

/* Moves the pod from one state directory to another (an atomic rename), updating p->path and state. */
int pod_transition(int pods_fd, Pod *p, PodState to);
/* Whether the pod's stage1 recorded that it ended it and left nothing outside its directory
 * (stage1-abi.h: STAGE1_POD_CLEAN), so that removing the pod needs no gc entrypoint. */
bool pod_ended_clean(const Pod *p);
/* Removes the host's /var/log/journal link to the pod's journal, if it points at this pod's. */
void pod_unlink_journal(const Pod *p);

/* Removes a pod directory (not locked by anyone) for good. */
int pod_remove(int pods_fd, Pod *p);

/* Generates a random (v4) UUID in its 8-4-4-4-12 form. */
int pod_uuid_new(char ret[static 37]);
/* Whether s is a UUID as pod_uuid_new() writes them: 8-4-4-4-12 lowercase hex digits. */
bool pod_uuid_is_valid(const char *s) _pure_;

/* A file of the pod directory that the pod could have written (with --private-users its root owns apps/,
 * and may have put a symbolic link, a FIFO or a device there): only a regular file below dir_fd is read,
 * never followed or blocked on. */
int pod_read_written_file(int dir_fd, const char *path, size_t max, char **ret);

/* "created" (a sandbox's app not started yet), "running" or "exited". */
const char *pod_app_state(const Pod *p, const PodAppStatus *a) _pure_;
/* Whether the app's end counts as a failure: a non-zero exit, or a signal other than SIGHUP, SIGINT,
 * SIGTERM and SIGPIPE (systemd's clean signals, so a pod stopped on request ends successfully). */
bool pod_app_failed(const PodAppStatus *a);
/* An app's end as a shell reports it: its exit status, or 128 + the signal that killed it. */
int pod_app_exit_status(const PodAppStatus *a) _pure_;
/* The first app that failed (by exit time): its status (128+signal for a signal), else 0. -ENODATA if
 * an app has no recorded exit. */
int pod_exit_status(const Pod *p);
