/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pod manifest: everything a stage1 needs to run the pod, fully resolved by stage0 (no store access
 * needed afterwards). Stored as JSON in the pod directory as "pod". */

#include <errno.h>
#include <stdint.h>

#include "app-exec.h"
#include "io-proto.h"
#include "json-util.h"
#include "macro.h"
#include "pod-network.h"

#define POD_MANIFEST_VERSION 1

typedef enum VolumeKind {
        VOLUME_HOST,            /* bind-mount source from the host */
        VOLUME_EMPTY,           /* an empty directory in the pod directory, shared by the pod's apps */
        _VOLUME_KIND_MAX,
        _VOLUME_KIND_INVALID = -EINVAL,
} VolumeKind;

typedef struct PodVolume {
        char *name;
        VolumeKind kind;
        char *source;           /* VOLUME_HOST: absolute host path */
        bool read_only;
        bool idmap;             /* VOLUME_HOST with a user namespace: idmapped into it (files keep their owners) */
        mode_t mode;            /* VOLUME_EMPTY: the directory's mode (rkt's default 0755) */
        uid_t uid;              /* VOLUME_EMPTY: its owner, as the pod sees it (default root) */
        gid_t gid;
} PodVolume;

#define POD_VOLUME_MODE_DEFAULT 0755



typedef struct PodMount {
        char *volume;
        char *target;           /* absolute, inside the app's rootfs */
        bool read_only;
        bool copy_up;           /* an empty volume gets what the image has at target, if it is still empty */
} PodMount;

/* One volume or mount of a manifest's JSON (rocket-stage1(7)), checked: -EBADMSG if it is not valid. */
int pod_volume_from_json(json_object *vo, PodVolume *ret);
int pod_mount_from_json(json_object *mo, PodMount *ret);
/* A volume's fields hang together: a valid name, a host volume with a safe absolute source and no
 * mode or owner, an empty one with no source and no idmap. */
bool pod_volume_is_valid(const PodVolume *v);
void pod_volume_done(PodVolume *v);
void pod_mount_done(PodMount *pm);
int pod_volume_copy(const PodVolume *v, PodVolume *ret);
int pod_mount_copy(const PodMount *pm, PodMount *ret);

typedef struct PodApp {
        char *name;
        char *image_id;         /* sha256:… */
        char *image_name;       /* as the user named it, may be NULL */
        char *image_signer;     /* the key whose signature was verified when the image came in, may be NULL */
        char *layers_dir;       /* the store's layers/ directory */
        char **layers;          /* directory names in layers_dir, bottom first */
        char **exec;            /* argv; exec[0] is looked up in PATH inside the app if relative */
        char **env;             /* "K=V" */
        char *working_dir;
        char *user;             /* name or number, resolved inside the app's rootfs */
        char *group;            /* NULL: the user's primary group */
        PodMount *mounts;
        size_t n_mounts;
        char *ready_path;       /* started once this path exists in the app's rootfs */
        char **annotations;     /* the image's (an ACI's), "NAME=VALUE" */
        char **pre_start;       /* the image's event handlers (appc): run in the app's rootfs and confinement */
        char **post_stop;       /* before it (its failure is the app's) and after it ended (whatever its end) */
        /* Isolation (all decided by stage0; a stage1 applies them as it can). */
        char **caps;            /* the capability bounding set ("CAP_…"), unless caps_all */
        bool caps_all;
        char *seccomp_mode;     /* "remove" (a blocklist) or "retain" (an allowlist); NULL: no filter */
        char **seccomp_syscalls;        /* names and systemd @groups */
        char *seccomp_errno;    /* errno name, NULL: EPERM */
        bool no_new_privs;
        bool no_user_namespaces;        /* refuse new user namespaces */
        bool mask_paths;        /* /proc/kcore & co. masked, /proc/sys & co. read-only (app-exec.c); also only
                                 * the standard pseudo devices (a device policy) */
        uint64_t memory_max;    /* bytes, 0: none */
        uint64_t cpu_quota_milli;       /* 1000 = one CPU, 0: none */
        uint64_t cpu_weight;    /* 1..10000, 0: default */
        char **sockets;         /* passed sockets (by LISTEN_FDNAMES name, or "all") this app receives */
        AppIOMode io[3];        /* stdin, stdout, stderr (io-proto.h); stdin APP_IO_NULL, the rest LOG by default */
        bool interactive;       /* rocket run -i: the app starts once the caller is attached */
        bool readonly_rootfs;   /* its rootfs mounted read-only (its volumes as they are) */
        gid_t *supplementary_gids;      /* beyond the image's groups of its user */
        size_t n_supplementary_gids;
        int oom_score_adj;      /* -1000…1000, when oom_score_adj_set */
        bool oom_score_adj_set;
} PodApp;

typedef struct PodManifest {
        char *uuid;             /* 8-4-4-4-12 lowercase */
        char *name;             /* the machine name */
        char *hostname;
        uint64_t created_usec;  /* CLOCK_REALTIME */
        char *stage1;           /* directory of the stage1 this pod runs with */
        PodApp *apps;
        size_t n_apps;
        PodVolume *volumes;
        size_t n_volumes;
        uint32_t userns_base;   /* --private-users: host UID/GID of the pod's root (65536 of them); 0: none */
        uint64_t memory_max;    /* the whole pod's limits, 0: none */
        uint64_t cpu_quota_milli;
        uint64_t cpu_weight;
        uint64_t pids_max;      /* tasks in the whole pod; UINT64_MAX: no limit */
        PodNet net;
        bool sandbox;           /* rocket app sandbox: apps come and go (rocket app add/rm); the pod stays up
                                 * with none, and an app that fails is recorded, not the pod's end */
        char **annotations;     /* the pod's annotations, user annotations and user labels (rkt's): */
        char **user_annotations;        /* "NAME=VALUE" each, names unique */
        char **user_labels;
        bool ipc_parent;        /* --ipc=parent: the pod stays in the host's IPC namespace */
        bool no_overlay;        /* --no-overlay: each app's layers copied into its directory, no overlayfs */
        bool mds_register;      /* --mds-register: registered with the metadata service, whose token the pod
                                 * directory keeps (mds-token); the apps get $AC_METADATA_URL */
} PodManifest;

PodManifest *pod_manifest_free(PodManifest *m);
/* The app's process as the manifest confines it (app-exec.h), rooted at root; argv: the app's own
 * command. Points into a and root. */
void pod_app_exec_init(const PodApp *a, const char *root, AppExec *ret);
/* The same for a command entered into the app: cmd instead of the app's, user and group instead of the
 * app's where given, the app's environment with the caller's $TERM (*ret_env, which ret points into). */
int pod_app_exec_for_enter(const PodApp *a, const char *root, const char *user, const char *group,
                           char *const *cmd, AppExec *ret, char ***ret_env);
DEFINE_POINTER_CLEANUP(PodManifest, pod_manifest_free);

const char *volume_kind_to_string(VolumeKind k) _pure_;
VolumeKind volume_kind_from_string(const char *s) _pure_;

int pod_manifest_to_json(const PodManifest *m, json_object **ret);
/* Parses and validates (names, absolute paths, known volumes). -EBADMSG on anything wrong. */
int pod_manifest_from_json(json_object *o, PodManifest **ret);
int pod_manifest_load_at(int dir_fd, const char *path, PodManifest **ret);
int pod_manifest_save_at(int dir_fd, const char *path, const PodManifest *m);
/* What `rocket list` shows of a pod (uuid, name, created, privateUsers, the apps' name, image and
 * imageName), saved next to the manifest so that listing many pods parses a fraction of the bytes. A
 * summary loads as a PodManifest with only those members. */
int pod_manifest_save_summary_at(int dir_fd, const char *path, const PodManifest *m);
int pod_manifest_load_summary_at(int dir_fd, const char *path, PodManifest **ret);
/* "NAME=VALUE": NAME of letters, digits, '.', '_', '-' and '/' (at most 253, starting with a letter or
 * digit), VALUE one line of at most 4096 bytes. */
bool pod_annotation_is_valid(const char *kv) _pure_;
/* Adds l to o as key, a JSON object of NAME: VALUE; nothing when l is empty. */
int pod_annotations_to_json(json_object *o, const char *key, char *const *l);

/* rocket app add/rm: the app appended (taken over, emptied) or removed by name (-ENOENT). */
int pod_manifest_add_app(PodManifest *m, PodApp *a);
int pod_manifest_remove_app(PodManifest *m, const char *name);
void pod_app_done(PodApp *a);

const PodApp *pod_manifest_find_app(const PodManifest *m, const char *name);
const PodVolume *pod_manifest_find_volume(const PodManifest *m, const char *name);
/* appc's implicit volumes: an empty one for each copy-up mount of the app whose volume the pod lacks. */
int pod_manifest_add_implicit_volumes(PodManifest *m, const PodApp *a);
/* The 32 hex digits of the UUID: the pod's machine ID. */
int pod_machine_id(const char *uuid, char ret[static 33]);
/* The tasks limit of a pod unless --pids-limit says otherwise. */
#define POD_PIDS_MAX_DEFAULT 4096U
/* --private-users: each pod gets POD_USERNS_SIZE host UIDs/GIDs from this range, above what
 * systemd-nspawn picks and below systemd's own high ranges (docs/UIDS-GIDS.md). */
#define POD_USERNS_SIZE 65536U
#define POD_USERNS_FIRST 0x70000000U
#define POD_USERNS_LAST 0x7FFD0000U

/* Whether any of the app's streams is a tty or a stream (kept by the stage1, attachable). */
bool pod_app_has_io(const PodApp *a) _pure_;
/* The I/O modes hang together: stdin is never "log"; a tty is stdin's and stdout's both. */
bool pod_app_io_is_valid(const AppIOMode io[static 3]) _pure_;

/* --no-overlay: the app's layers copied, bottom first, into a new directory "rootfs" of app_dir_fd (-EEXIST if
 * there is one), whiteouts applied; *ret_fd (if not NULL): that directory. */
int pod_app_rootfs_copy(const PodApp *a, int app_dir_fd, int *ret_fd);
/* The same in POD_DIR/apps/APP (made if missing), bind-mounted at target: the app's root at the pod's start. */
int pod_app_rootfs_copy_bind(const PodApp *a, const char *pod_dir, const char *target);

/* overlayfs' lowerdir= for the app: its layer names, top first, ':'-separated (relative to layers_dir). */
int pod_app_lowerdir(const PodApp *a, char **ret);
