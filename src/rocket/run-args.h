/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What `rocket run`/`prepare` are asked for, from the command line or a .pod file (rocket.pod(5)): the
 * same options either way, checked by the same code. */

#include "pull-policy.h"
#include "isolation.h"
#include "net-args.h"
#include "io-proto.h"
#include "macro.h"

/* What the command line says about one app; a pod-level instance holds the defaults for all apps. */
typedef struct AppArgs {
        char *image;
        char *name;
        char *exec;
        char **args;
        bool have_args;
        char *user;
        char *group;
        char *working_dir;
        char **env;             /* --environment (app) or --set-env (pod) */
        PodMount *mounts;       /* parsed and checked where given */
        size_t n_mounts;
        char *ready_path;       /* the app is started once this path exists in its rootfs */
        char **sockets;         /* names (LISTEN_FDNAMES) of the passed sockets this app gets; "all" */
        AppIOMode io[3];        /* --stdin, --stdout, --stderr, where io_given */
        bool io_given[3];
        bool readonly_rootfs, readonly_rootfs_given;    /* --readonly-rootfs */
        char *supplementary_gids;       /* --supplementary-gids, checked */
        char *oom_score_adj;            /* --oom-score-adj, checked */
        IsolationArgs iso;
} AppArgs;

typedef struct PodArgs {
        char *name;
        char *hostname;
        char *uuid_file;
        char *stage1_path;
        char *stage1_name;
        char *stage1_from_dir;
        char *stage1_hash;
        PodVolume *volumes;     /* parsed and checked where given (a host source as given, not resolved) */
        size_t n_volumes;
        bool keep_unit;
        bool quiet;
        char *pod_file;         /* --pod= */
        char *pod_manifest;     /* --pod-manifest= */
        IsolationArgs pod_iso;  /* --memory/--cpu/--cpu-shares before the first image: the whole pod's */
        InsecureOption insecure;
        PullPolicy pull_policy; /* PULL_NEW unless --pull-policy */
        char **env_file;        /* --set-env-file: K=V from files, below --set-env */
        bool inherit_env;       /* --inherit-env: rocket's own environment, below everything */
        bool private_users;
        uint64_t pids_max;      /* --pids-limit: 0 unset (the default), UINT64_MAX: none */
        bool stage1_device_policy;      /* the stage1 keeps apps to the standard pseudo devices */
        bool stage1_volumes;            /* and mounts volumes (an ACI's mount points get implicit ones) */
        NetArgs net;
        bool sandbox;           /* rocket app sandbox, or a .pod file without apps */
        bool interactive;       /* run -i: the caller's stdin, stdout and stderr reach the one app */
        bool tty;               /* run -t: through a terminal of the pod's */
        bool ipc_parent;        /* --ipc=parent: the host's IPC namespace (auto and private: one of its own) */
        bool no_overlay;        /* --no-overlay: the apps' layers copied, no overlayfs */
        bool mds_register;      /* --mds-register: the apps get $AC_METADATA_URL (mds.h) */
        char **annotations;     /* --annotation, --user-annotation, --user-label: "NAME=VALUE", a later NAME */
        char **user_annotations;        /* replacing an earlier one (pod-manifest.h) */
        char **user_labels;
        AppArgs defaults;
        AppArgs *apps;
        size_t n_apps;
} PodArgs;

enum {
        ARG_NAME = 0x100,
        ARG_HOSTNAME,
        ARG_SET_ENV,
        ARG_VOLUME,
        ARG_UUID_FILE,
        ARG_STAGE1_PATH,
        ARG_STAGE1_NAME,
        ARG_STAGE1_FROM_DIR,
        ARG_STAGE1_HASH,
        ARG_KEEP_UNIT,
        ARG_QUIET,
        ARG_EXEC,
        ARG_USER,
        ARG_GROUP,
        ARG_WORKDIR,
        ARG_ENVIRONMENT,
        ARG_MOUNT,
        ARG_READY_PATH,
        ARG_SOCKETS,
        ARG_POD,
        ARG_POD_MANIFEST,
        ARG_CAPS_RETAIN,
        ARG_CAPS_REMOVE,
        ARG_SECCOMP,
        ARG_MEMORY,
        ARG_CPU,
        ARG_CPU_SHARES,
        ARG_NO_NEW_PRIVS,
        ARG_INSECURE,
        ARG_PRIVATE_USERS,
        ARG_PULL_POLICY,
        ARG_SET_ENV_FILE,
        ARG_INHERIT_ENV,
        ARG_PIDS_LIMIT,
        ARG_NET,
        ARG_PORT,
        ARG_DNS,
        ARG_DNS_SEARCH,
        ARG_DNS_OPT,
        ARG_DNS_DOMAIN,
        ARG_HOSTS_ENTRY,
        ARG_STDIN,
        ARG_STDOUT,
        ARG_STDERR,
        ARG_READONLY_ROOTFS,
        ARG_ANNOTATION,
        ARG_USER_ANNOTATION,
        ARG_USER_LABEL,
        ARG_SUPPLEMENTARY_GIDS,
        ARG_OOM_SCORE_ADJ,
        ARG_IPC,
        ARG_NO_OVERLAY,
        ARG_MDS_REGISTER,
};


/* The options of an app: after its IMAGE, and before the first IMAGE as defaults for all ("name" there
 * names the pod). One list for both tables. */
#define APP_OPTIONS                                                                     \
        { "name", required_argument, NULL, ARG_NAME },                                  \
        { "exec", required_argument, NULL, ARG_EXEC },                                  \
        { "user", required_argument, NULL, ARG_USER },                                  \
        { "group", required_argument, NULL, ARG_GROUP },                                \
        { "working-dir", required_argument, NULL, ARG_WORKDIR },                        \
        { "environment", required_argument, NULL, ARG_ENVIRONMENT },                    \
        { "mount", required_argument, NULL, ARG_MOUNT },                                \
        { "ready-path", required_argument, NULL, ARG_READY_PATH },                      \
        { "sockets", required_argument, NULL, ARG_SOCKETS },                            \
        { "stdin", required_argument, NULL, ARG_STDIN },                                \
        { "stdout", required_argument, NULL, ARG_STDOUT },                              \
        { "stderr", required_argument, NULL, ARG_STDERR },                              \
        { "readonly-rootfs", optional_argument, NULL, ARG_READONLY_ROOTFS },            \
        { "supplementary-gids", required_argument, NULL, ARG_SUPPLEMENTARY_GIDS },      \
        { "oom-score-adj", required_argument, NULL, ARG_OOM_SCORE_ADJ },                \
        { "caps-retain", required_argument, NULL, ARG_CAPS_RETAIN },                    \
        { "caps-remove", required_argument, NULL, ARG_CAPS_REMOVE },                    \
        { "seccomp", required_argument, NULL, ARG_SECCOMP },                            \
        { "memory", required_argument, NULL, ARG_MEMORY },                              \
        { "cpu", required_argument, NULL, ARG_CPU },                                    \
        { "cpu-shares", required_argument, NULL, ARG_CPU_SHARES },                      \
        { "no-new-privs", required_argument, NULL, ARG_NO_NEW_PRIVS }

/* Parses IMAGE [APP OPTIONS] [-- ARGS] [---] from argv[i], repeatedly, into p's apps. Logs. */
int run_parse_apps(const char *verb, int argc, char *argv[], int i, PodArgs *p);

void app_args_done(AppArgs *a);
void pod_args_done(PodArgs *p);
/* Take v and pm over (emptied on success), checked as pod_volume_is_valid() and with a unique name. */
int pod_args_add_volume(const char *where, PodArgs *p, PodVolume *v);
int app_args_add_mount(const char *where, AppArgs *a, PodMount *pm);
/* Adds a new, empty app for image. */
int pod_args_add_app(PodArgs *p, const char *image, AppArgs **ret);

/* A stage1 named as rkt named its images ("coreos.com/rkt/stage1-fly:1.30.0", "stage1-fly") → "fly", its
 * nspawn flavours (coreos, host, src) → "systemd"; -EINVAL if no valid name is left. */
int stage1_name_normalize(const char *name, char **ret);

/* One option (an ARG_* value) with its argument; where prefixes error messages ("run", "web.pod:3"). Logs
 * and returns -ERRNO_USAGE on bad input. */
int run_app_option(const char *where, AppArgs *a, int option, const char *arg);
int run_pod_option(const char *where, PodArgs *p, int option, const char *arg);

/* "NAME,kind=host|empty,source=PATH,readOnly=BOOL" and "volume=NAME,target=PATH,readOnly=BOOL", split into
 * key=value words (the first word of a volume is its name). */
const char *spec_get(char **kv, const char *key);
int spec_check(const char *where, const char *what, const char *spec, char **kv, const char *const *allowed);
int spec_bool(const char *where, const char *spec, const char *v, bool *ret);
bool target_is_safe(const char *t);
/* A --volume or --mount spec, checked and taken apart (the strings are the caller's to free). A host
 * volume's source is as given, not resolved. */
int volume_spec_parse(const char *where, const char *spec, PodVolume *ret);
int mount_spec_parse(const char *where, const char *spec, PodMount *ret);
/* Splits a command line into words: whitespace separates, '…' and "…" quote, \ escapes. */
int split_words(const char *where, const char *s, char ***ret);
