/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket run, prepare, run-prepared: from images to a pod directory, then into the stage1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "config.h"
#include "fs-util.h"
#include "log.h"
#include "pod-build.h"
#include "rocket-pod.h"
#include "rocket-store.h"
#include "string-util.h"
#include "pod-file.h"
#include "pod-userns.h"
#include "run-args.h"
#include "verb-all.h"
#include "time-util.h"
#include "mds.h"
#include "stage1-abi.h"

static void help(const char *verb) {
        bool prepare = streq(verb, "prepare");

        printf("Usage: rocket %s [OPTIONS...] IMAGE [APP OPTIONS...] [-- ARGS...] [--- IMAGE ...]\n"
               "       rocket %s [OPTIONS...] --pod=NAME|FILE\n"
               "\n"
               "%s\n"
               "\n"
               "IMAGE is a name or ID in the store, or anything 'rocket fetch' reads. App options follow\n"
               "their IMAGE; given before the first IMAGE they apply to every app. '--' starts the\n"
               "app's arguments, '---' ends them.\n"
               "\n"
               "Pod options:\n"
               "  -h --help                Show this help\n"
               "     --name=NAME          Name the pod (the machine name; default APP-UUIDPREFIX)\n"
               "     --hostname=NAME      The pod's hostname (default: the pod name)\n"
               "     --set-env=K=V        Set an environment variable in every app\n"
               "     --set-env-file=FILE  Set the K=V lines of FILE in every app (below --set-env)\n"
               "     --inherit-env[=BOOL] Pass rocket's own environment to every app (below all else)\n"
               "     --volume=NAME,kind=host|empty[,source=PATH][,readOnly=BOOL][,idmap=BOOL]\n"
               "              [,mode=MODE][,uid=UID][,gid=GID]  (mode, uid, gid: of an empty volume)\n"
               "                          Define a volume the apps can mount\n"
               "     --uuid-file-save=FILE  Write the pod's UUID to FILE\n"
               "     --stage1-path=DIR    Use the stage1 in DIR\n"
               "     --stage1-name=NAME   Use the installed stage1 NAME (default: systemd, or stage1.d's)\n"
               "     --stage1-from-dir=NAME  Use the stage1 directory NAME of the stage1 images directory\n"
               "     --stage1-hash=ID     Use the installed stage1 of that ID (a prefix; see 'rocket version')\n"
               "     --pod=NAME|FILE      Take the pod from a .pod file (see rocket.pod(5))\n"
               "     --pod-manifest=FILE  Take the pod from a JSON pod manifest (rocket-stage1(7))\n"
               "     --private-users[=BOOL]  Run the pod in a user namespace of its own (a range of\n"
               "                          65536 host UIDs, picked free)\n"
               "     --pids-limit=N|max   The pod's tasks limit (default 4096)\n"
               "     --ipc=auto|private|parent  An IPC namespace of the pod's (auto, private), or the host's\n"
               "     --no-overlay         Copy the images into the pod instead of stacking them with overlayfs\n"
               "     --mds-register[=BOOL]  Register the pod with the metadata service ($AC_METADATA_URL)\n"
               "     --net[=NAME[:ARGS],...|host|none|all]\n"
               "                          The pod's networks (default: default, a network of its own)\n"
               "     --port=NAME:[HOSTIP:]HOSTPORT | [HOSTIP:]HOSTPORT:PODPORT[/tcp|/udp]\n"
               "                          Forward a host port to the pod\n"
               "     --dns=IP,...|host|none  The pod's nameservers (default: its networks', else the host's)\n"
               "     --dns-search=DOMAIN  --dns-opt=OPTION  --dns-domain=DOMAIN\n"
               "                          The pod's resolv.conf search, options and domain\n"
               "     --hosts-entry=IP=NAME|host  Add to the pod's /etc/hosts (host: the host's)\n"
               "     --annotation=NAME=VALUE  --user-annotation=NAME=VALUE  --user-label=NAME=VALUE\n"
               "                          The pod's annotations, user annotations and labels (shown by\n"
               "                          rocket status and cat-manifest)\n"
               "     --insecure-options=none|image|tls|http|pubkey|capabilities|paths|seccomp|\n"
               "                        all-fetch|all-run|all,...\n"
               "                          Switch secure defaults off on purpose (image, tls, http:\n"
               "                          for fetching)\n"
               "     --pull-policy=new|never|update\n"
               "                          Pull docker:// images missing from the store (new, the\n"
               "                          default), never, or ask the registry for a newer one\n"
               "%s"
               "\n"
               "App options:\n"
               "     --name=NAME          Name the app (default: from the image name)\n"
               "     --exec=CMD           Run CMD instead of the image's entrypoint and command\n"
               "     --user=USER          Run as USER (name or UID, resolved in the image)\n"
               "     --group=GROUP        Run with GROUP (name or GID)\n"
               "     --working-dir=DIR    Start in DIR\n"
               "     --supplementary-gids=GID,...  Also these groups (beyond the image's of the user)\n"
               "     --oom-score-adj=N    Its OOM score adjustment (-1000…1000)\n"
               "     --environment=K=V    Set an environment variable in this app\n"
               "     --mount=volume=NAME,target=PATH[,readOnly=BOOL]\n"
               "                          Mount a volume at PATH in the app\n"
               "     --ready-path=PATH    The app counts as started once PATH exists in it\n"
               "     --caps-retain=CAP,...  Bounding set: only these capabilities\n"
               "     --caps-remove=CAP,...  Bounding set: the default minus these\n"
               "     --seccomp=mode=retain|remove[,errno=NAME],SYSCALL|@GROUP,...\n"
               "                          Replace the default system call filter\n"
               "     --memory=SIZE        Memory limit (256M, 1G); before the first IMAGE: the pod's\n"
               "     --cpu=AMOUNT         CPU limit (500m, 2); before the first IMAGE: the pod's\n"
               "     --cpu-shares=N       CPU weight, as cgroup v1 shares (1024 = default)\n"
               "     --no-new-privs=BOOL  Set no_new_privs (default true)\n"
               "     --readonly-rootfs[=BOOL]  Mount its rootfs read-only (its volumes as they are)\n"
               "     --sockets=NAME,...   Pass it these sockets of the ones rocket was given\n"
               "                          (socket activation; by LISTEN_FDNAMES name, or all)\n"
               "     --stdin=null|tty|stream  --stdout=log|null|tty|stream  --stderr=…\n"
               "                          Where its I/O goes (default null, log, log): the journal,\n"
               "                          /dev/null, a terminal or pipes kept by the pod (rocket attach)\n",
               verb, verb,
               prepare ? "Prepare a pod from images and print its UUID; start it with 'rocket run-prepared'."
                       : "Run a pod of one or more apps from images, in the foreground. Exits with the status of\n"
                         "the first app that failed, 0 if all succeeded. SIGINT/SIGTERM stop the pod gracefully.",
               prepare ? "     --quiet              Print only the UUID\n"
                       : "     --keep-unit          Stay in the systemd unit rocket runs in (default when\n"
                         "                          that unit delegates its cgroup)\n"
                         "  -i --interactive        Our stdin, stdout and stderr are the app's (one app)\n"
                         "  -t --tty                Give the app a terminal, relayed to ours (one app)\n");
}

#define ANNOTATION_OPTIONS                                                              \
        { "annotation", required_argument, NULL, ARG_ANNOTATION },                      \
        { "user-annotation", required_argument, NULL, ARG_USER_ANNOTATION },            \
        { "user-label", required_argument, NULL, ARG_USER_LABEL }

#define POD_OPTIONS                                                                     \
        { "help", no_argument, NULL, 'h' },                                             \
        { "hostname", required_argument, NULL, ARG_HOSTNAME },                          \
        { "set-env", required_argument, NULL, ARG_SET_ENV },                            \
        { "set-env-file", required_argument, NULL, ARG_SET_ENV_FILE },                  \
        { "inherit-env", optional_argument, NULL, ARG_INHERIT_ENV },                    \
        { "volume", required_argument, NULL, ARG_VOLUME },                              \
        { "uuid-file-save", required_argument, NULL, ARG_UUID_FILE },                   \
        { "stage1-path", required_argument, NULL, ARG_STAGE1_PATH },                    \
        { "stage1-name", required_argument, NULL, ARG_STAGE1_NAME },                    \
        { "stage1-from-dir", required_argument, NULL, ARG_STAGE1_FROM_DIR },            \
        { "stage1-hash", required_argument, NULL, ARG_STAGE1_HASH },                    \
        { "pod", required_argument, NULL, ARG_POD },                                    \
        { "pod-manifest", required_argument, NULL, ARG_POD_MANIFEST },                  \
        APP_OPTIONS,                                                                    \
        { "insecure-options", required_argument, NULL, ARG_INSECURE },                  \
        { "pull-policy", required_argument, NULL, ARG_PULL_POLICY },                    \
        { "private-users", optional_argument, NULL, ARG_PRIVATE_USERS },                \
        { "pids-limit", required_argument, NULL, ARG_PIDS_LIMIT },                      \
        { "net", optional_argument, NULL, ARG_NET },                                    \
        { "port", required_argument, NULL, ARG_PORT },                                  \
        { "dns", required_argument, NULL, ARG_DNS },                                    \
        { "dns-search", required_argument, NULL, ARG_DNS_SEARCH },                      \
        { "dns-opt", required_argument, NULL, ARG_DNS_OPT },                            \
        { "dns-domain", required_argument, NULL, ARG_DNS_DOMAIN },                      \
        { "hosts-entry", required_argument, NULL, ARG_HOSTS_ENTRY },                    \
        { "ipc", required_argument, NULL, ARG_IPC },                                    \
        { "no-overlay", no_argument, NULL, ARG_NO_OVERLAY },                            \
        { "mds-register", optional_argument, NULL, ARG_MDS_REGISTER },                  \
        ANNOTATION_OPTIONS

static const struct option run_options[] = {
        POD_OPTIONS,
        { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
        { "interactive", no_argument, NULL, 'i' },
        { "tty", no_argument, NULL, 't' },
        {}
};

/* A sandbox has pod options only: its apps come later, with options of their own (rocket app add). */
static const struct option sandbox_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "name", required_argument, NULL, ARG_NAME },
        { "hostname", required_argument, NULL, ARG_HOSTNAME },
        { "volume", required_argument, NULL, ARG_VOLUME },
        { "uuid-file-save", required_argument, NULL, ARG_UUID_FILE },
        { "stage1-path", required_argument, NULL, ARG_STAGE1_PATH },
        { "stage1-name", required_argument, NULL, ARG_STAGE1_NAME },
        { "stage1-from-dir", required_argument, NULL, ARG_STAGE1_FROM_DIR },
        { "stage1-hash", required_argument, NULL, ARG_STAGE1_HASH },
        { "pod", required_argument, NULL, ARG_POD },
        { "memory", required_argument, NULL, ARG_MEMORY },
        { "cpu", required_argument, NULL, ARG_CPU },
        { "cpu-shares", required_argument, NULL, ARG_CPU_SHARES },
        { "pids-limit", required_argument, NULL, ARG_PIDS_LIMIT },
        { "private-users", optional_argument, NULL, ARG_PRIVATE_USERS },
        { "net", optional_argument, NULL, ARG_NET },
        { "port", required_argument, NULL, ARG_PORT },
        { "dns", required_argument, NULL, ARG_DNS },
        { "dns-search", required_argument, NULL, ARG_DNS_SEARCH },
        { "dns-opt", required_argument, NULL, ARG_DNS_OPT },
        { "dns-domain", required_argument, NULL, ARG_DNS_DOMAIN },
        { "hosts-entry", required_argument, NULL, ARG_HOSTS_ENTRY },
        { "no-overlay", no_argument, NULL, ARG_NO_OVERLAY },
        { "mds-register", optional_argument, NULL, ARG_MDS_REGISTER },
        { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
        ANNOTATION_OPTIONS,
        {}
};

void help_sandbox_options(void) {
        printf("     --name=NAME          Name the pod (the machine name; default sandbox-UUIDPREFIX)\n"
               "     --hostname=NAME      The pod's hostname (default: the pod name)\n"
               "     --volume=NAME,kind=host|empty[,source=PATH][,readOnly=BOOL]\n"
               "              [,mode=MODE][,uid=UID][,gid=GID]\n"
               "                          Define a volume the apps can mount\n"
               "     --uuid-file-save=FILE  Write the pod's UUID to FILE\n"
               "     --stage1-path=DIR    Use the stage1 in DIR\n"
               "     --stage1-name=NAME   Use the installed stage1 NAME (default: systemd, or stage1.d's)\n"
               "     --stage1-from-dir=NAME  Use the stage1 directory NAME of the stage1 images directory\n"
               "     --stage1-hash=ID     Use the installed stage1 of that ID (a prefix; see 'rocket version')\n"
               "     --pod=NAME|FILE      Take the pod from a .pod file (see rocket.pod(5))\n"
               "     --memory=SIZE        The pod's memory limit (256M, 1G)\n"
               "     --cpu=AMOUNT         The pod's CPU limit (500m, 2)\n"
               "     --cpu-shares=N       The pod's CPU weight, as cgroup v1 shares\n"
               "     --pids-limit=N|max   The pod's tasks limit (default 4096)\n"
               "     --private-users[=BOOL]  Run the pod in a user namespace of its own\n"
               "     --net[=NAME[:ARGS],...|host|none|all]\n"
               "                          The pod's networks (default: default, a network of its own)\n"
               "     --port=[HOSTIP:]HOSTPORT:PODPORT[/tcp|/udp]\n"
               "                          Forward a host port to the pod\n"
               "     --dns=IP,...|host|none  The pod's nameservers\n"
               "     --dns-search=DOMAIN  --dns-opt=OPTION  --dns-domain=DOMAIN\n"
               "                          The pod's resolv.conf search, options and domain\n"
               "     --hosts-entry=IP=NAME|host  Add to the pod's /etc/hosts\n"
               "     --no-overlay         Copy the apps' images into the pod instead of stacking them\n"
               "     --mds-register[=BOOL]  Register the pod with the metadata service ($AC_METADATA_URL)\n"
               "     --annotation=NAME=VALUE  --user-annotation=NAME=VALUE  --user-label=NAME=VALUE\n"
               "                          The pod's annotations, user annotations and labels\n"
               "     --keep-unit          Stay in the systemd unit rocket runs in\n");
}

static void help_sandbox(void) {
        printf("Usage: rocket app sandbox [OPTIONS...]\n"
               "       rocket app sandbox [OPTIONS...] --pod=NAME|FILE\n"
               "\n"
               "Run a pod with no apps, in the foreground, until 'rocket stop'; apps are added, started,\n"
               "stopped and removed with 'rocket app add|start|stop|rm'. Prints the pod's UUID first.\n"
               "\n"
               "Options:\n"
               "  -h --help                Show this help\n");
        help_sandbox_options();
}

static const struct option prepare_options[] = {
        POD_OPTIONS,
        { "quiet", no_argument, NULL, ARG_QUIET },
        {}
};

static void help_run(void) {
        help("run");
}

static void help_prepare(void) {
        help("prepare");
}

typedef struct PodOptionContext {
        const char *verb;
        PodArgs *args;
} PodOptionContext;

static int parse_pod_option(int option, const char *arg, void *userdata) {
        PodOptionContext *c = userdata;
        PodArgs *p = c->args;
        int r;

        switch (option) {
        case ARG_KEEP_UNIT:
                p->keep_unit = true;
                return 0;
        case 'i':
                p->interactive = true;
                return 0;
        case 't':
                p->tty = true;
                return 0;
        case ARG_QUIET:
                p->quiet = true;
                return 0;
        case ARG_POD:
                /* Logged already; a definition that is missing or wrong has an exit status of its own. */
                r = pod_file_find(arg, &p->pod_file);
                if (r >= 0)
                        r = pod_file_load(p->pod_file, pod_file_default_name(arg), p);
                if (r < 0)
                        return r == -ENOMEM ? r : -ERRNO_BAD_DEFINITION;
                return 0;
        case ARG_POD_MANIFEST:
                r = pod_manifest_file_load(arg, p);
                if (r < 0)
                        return r == -ENOMEM ? r : -ERRNO_BAD_DEFINITION;
                if (!(p->pod_manifest = strdup(arg)))
                        return log_oom();
                return 0;
        default:
                return run_pod_option(c->verb, p, option, arg);
        }
}

static int parse_args(const char *verb, int argc, char *argv[], PodArgs *p) {
        bool prepare = streq(verb, "prepare"), sandbox = streq(verb, "app sandbox");
        PodOptionContext c = { .verb = verb, .args = p };
        int r;

        r = verb_parse_options_full(verb, sandbox || prepare ? "+:h" : "+:hit", argc, argv,
                                    sandbox ? sandbox_options : prepare ? prepare_options : run_options,
                                    sandbox ? help_sandbox : prepare ? help_prepare : help_run, parse_pod_option, &c);
        if (r <= 0)
                return r;
        if (!!p->stage1_path + !!p->stage1_name + !!p->stage1_from_dir + !!p->stage1_hash > 1)
                return log_usage("%s: --stage1-path, --stage1-name, --stage1-from-dir and --stage1-hash exclude each other.",
                                 verb);
        if ((p->pod_file || p->pod_manifest) && optind < argc)
                return log_usage("%s: --pod=/--pod-manifest= define the apps; give no IMAGE.", verb);
        if (p->pod_file && p->pod_manifest)
                return log_usage("%s: --pod= and --pod-manifest= exclude each other.", verb);
        if (sandbox && optind < argc)
                return log_usage("%s: takes no IMAGE; add apps with 'rocket app add POD IMAGE'.", verb);
        r = run_parse_apps(verb, argc, argv, optind, p);
        if (r < 0)
                return r;
        /* A .pod file without apps declares a sandbox. */
        if (p->n_apps == 0 && !sandbox && !p->pod_file)
                return log_usage("%s: no IMAGE given.", verb);
        return 1;
}

/* Under the pods lock, one look at the pods: the name must be free among pods that have not exited (an
 * exited pod of the same name moves to exited-garbage, its journal stays until gc); with private_users,
 * the pod gets the lowest user namespace range no other pod has (in any state, until removed, in any
 * pods directory: pod-userns.h). */
static int claim_name_and_users(int pods_fd, PodManifest *m, bool private_users) {
        bool used[POD_USERNS_N] = {};
        Pod **l = NULL;
        size_t n = 0;
        int r;

        r = pod_list_summaries(pods_fd, &l, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to list pods: %m");
        for (size_t i = 0; i < n && r >= 0; i++) {
                Pod *p = l[i];

                if (!p->manifest)
                        continue;
                if (p->manifest->userns_base)
                        used[(p->manifest->userns_base - POD_USERNS_FIRST) / POD_USERNS_SIZE] = true;
                if (!streq(p->manifest->name, m->name))
                        continue;
                if (p->state == POD_EXITED) {
                        r = pod_transition(pods_fd, p, POD_EXITED_GARBAGE);
                        if (r < 0 && r != -ENOENT)
                                r = log_error_errno(r, "Failed to retire exited pod %s: %m", p->uuid);
                        else
                                r = 0;
                } else if (p->state < POD_EXITED)
                        r = log_error_errno(SYNTHETIC_ERRNO(EEXIST), "A pod named '%s' already exists (%s, %s).",
                                            m->name, p->uuid, pod_state_to_string(p->state));
        }
        pod_array_free(l, n);
        if (r < 0 || !private_users)
                return r;
        r = pod_userns_claim(ROCKET_USERNS_REGISTRY, pods_fd, m->uuid, used, &m->userns_base);
        if (r == -EUSERS)
                return log_error_errno(r, "No free user namespace range left; remove exited pods.");
        if (r < 0)
                return log_error_errno(r, "Failed to record the pod's user namespace range in %s: %m",
                                       ROCKET_USERNS_REGISTRY);
        return 0;
}

static int write_uuid_file(const char *path, const char *uuid) {
        _cleanup_free_ char *line = NULL;
        int r;

        if (asprintf(&line, "%s\n", uuid) < 0)
                return log_oom();
        r = write_file_atomic_at(AT_FDCWD, path, line, strlen(line), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the pod's UUID to '%s': %m", path);
        return 0;
}

/* With --private-users the pod's root writes into its pod directory (journal, exit records, empty
 * volumes), which members of group rocket can reach: a set-user-ID file it leaves there must not work
 * for them. So the pods directory is a nosuid,nodev mount, a bind onto itself made once per boot (the
 * pods' own mounts are overlays with flags of their own, unaffected). Under the pods lock. */
static int pods_dir_make_nosuid(int pods_fd) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV };
        _cleanup_free_ char *path = NULL;
        struct statvfs sv;
        char self[64];

        if (fstatvfs(pods_fd, &sv) < 0)
                return log_error_errno(errno, "Failed to look at the pods directory: %m");
        if ((sv.f_flag & ST_NOSUID) && (sv.f_flag & ST_NODEV))
                return 0;
        snprintf(self, sizeof self, "/proc/self/fd/%i", pods_fd);
        path = realpath(self, NULL);
        if (!path)
                return log_oom();
        if (mount(path, path, NULL, MS_BIND, NULL) < 0 ||
            syscall(SYS_mount_setattr, AT_FDCWD, path, 0, &attr, sizeof attr) < 0)
                return log_error_errno(errno, "Failed to make %s a nosuid,nodev mount for pods with --private-users: %m",
                                       path);
        log_debug("Made %s a nosuid,nodev mount.", path);
        return 0;
}

/* --mds-register: the pod's token from the metadata service, kept in its directory (root's alone) for the
 * stage1 to give the apps their $AC_METADATA_URL. */
static int register_with_mds(RocketContext *ctx, const Pod *p) {
        _cleanup_free_ char *token = NULL;
        int r;

        r = mds_register_remote(MDS_SOCKET, p->uuid, ctx->dir, &token);
        if (r < 0)
                return r;
        r = write_file_atomic_at(p->dir_fd, MDS_TOKEN_FILE, token, strlen(token), 0600);
        if (r < 0)
                return log_error_errno(r, "Failed to keep the pod's metadata service token: %m");
        return 0;
}

/* Creates the pod directory in embryo/ and moves it to `to`, under the pods lock; *ret_pod is the pod there. */
static int create_pod(RocketContext *ctx, int pods_fd, PodManifest *m, PodState to, const char *uuid_file,
                      bool private_users, Pod **ret_pod) {
        _cleanup_close_ int lock_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_free_ char *rel = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        lock_fd = openat(pods_fd, "lock", O_RDWR|O_CREAT|O_CLOEXEC, 0600);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0)
                return log_error_errno(errno, "Failed to lock the pods directory: %m");
        r = claim_name_and_users(pods_fd, m, private_users);
        if (r < 0)
                return r;
        if (private_users) {
                r = pods_dir_make_nosuid(pods_fd);
                if (r < 0)
                        return r;
        }

        if (asprintf(&rel, "embryo/%s", m->uuid) < 0)
                return log_oom();
        if (mkdirat(pods_fd, rel, 0750) < 0)
                return log_error_errno(errno, "Failed to create the pod directory: %m");
        dir_fd = openat(pods_fd, rel, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
        if (dir_fd < 0 || flock(dir_fd, LOCK_EX) < 0) {
                r = log_error_errno(errno, "Failed to open the pod directory: %m");
                goto fail;
        }
        r = pod_manifest_save_at(dir_fd, "pod", m);
        if (r >= 0)
                r = pod_manifest_save_summary_at(dir_fd, "summary", m);
        if (r < 0) {
                log_error_errno(r, "Failed to write the pod manifest: %m");
                goto fail;
        }
        r = mkdirat(dir_fd, "apps", 0755) < 0 ? -errno : 0;
        for (size_t i = 0; i < m->n_apps && r >= 0; i++)
                r = mkdirat(dir_fd, strjoina("apps/", m->apps[i].name), 0755) < 0 ? -errno : 0;
        if (r < 0) {
                log_error_errno(r, "Failed to create the app directories: %m");
                goto fail;
        }
        if (uuid_file) {
                r = write_uuid_file(uuid_file, m->uuid);
                if (r < 0)
                        goto fail;
        }
        r = pod_load(pods_fd, POD_EMBRYO, m->uuid, &p);
        if (r >= 0)
                r = pod_transition(pods_fd, p, to);
        if (r < 0) {
                log_error_errno(r, "Failed to move the pod to %s: %m", pod_state_dir(to));
                goto fail;
        }
        safe_close(p->dir_fd);
        p->dir_fd = TAKE_FD(dir_fd);
        p->state = to;
        *ret_pod = TAKE_PTR(p);
        return 0;
fail:
        /* No half-created pod stays behind in any state directory. */
        (void) rm_rf_at(pods_fd, rel);
        if (uuid_file)
                (void) unlink(uuid_file);
        return r;
}

/* Sockets passed to us by systemd (socket activation): taken before we open anything else, handed to the
 * stage1 at fd 4… with LISTEN_FDS and LISTEN_FDNAMES. */
typedef struct ListenFds {
        int *fds;
        size_t n;
        char **names;
} ListenFds;

static void listen_fds_done(ListenFds *l) {
        for (size_t i = 0; i < l->n; i++)
                safe_close(l->fds[i]);
        free(l->fds);
        strv_free(l->names);
}

static int listen_fds_take(ListenFds *l) {
        int n = sd_listen_fds_with_names(true, &l->names);

        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets passed by systemd: %m");
        if (n == 0)
                return 0;
        l->fds = calloc((size_t) n, sizeof(int));
        if (!l->fds)
                return log_oom();
        for (int i = 0; i < n; i++)
                l->fds[i] = SD_LISTEN_FDS_START + i;    /* close-on-exec now, until we hand them on */
        l->n = (size_t) n;
        return 0;
}

static int exec_run(RocketContext *ctx, int pods_fd, Pod *p, bool keep_unit, ListenFds *lfds) {
        char *args[3], buf[32];
        size_t n = 0;

        /* Shared from here on: the stage1 and the pod take it too; gc probes with an exclusive lock. */
        if (flock(p->dir_fd, LOCK_SH) < 0)
                return log_error_errno(errno, "Failed to lock pod %s: %m", p->uuid);
        if (ctx->debug || log_get_max_level() >= LOG_DEBUG)
                args[n++] = (char *) "--debug";
        if (keep_unit)
                args[n++] = (char *) "--keep-unit";
        args[n] = NULL;
        if (lfds->n > 0) {
                _cleanup_free_ char *names = NULL;

                snprintf(buf, sizeof buf, "%zu", lfds->n);
                if (strv_join(lfds->names, ":", &names) < 0 || setenv("LISTEN_FDS", buf, 1) < 0 ||
                    setenv("LISTEN_FDNAMES", names, 1) < 0)
                        return log_oom();
        }
        (void) sd_notifyf(false, "STATUS=Starting pod %s (%zu app%s)", p->manifest->name, p->manifest->n_apps,
                          p->manifest->n_apps == 1 ? "" : "s");
        return rocket_stage1_exec(pods_fd, p, p->dir_fd, STAGE1_ENTRYPOINT_RUN, args, lfds->fds, lfds->n);
}

static int do_run(const char *verb, int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(pod_args_done) PodArgs pa = { .defaults.iso.no_new_privs = -1, .pod_iso.no_new_privs = -1 };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(listen_fds_done) ListenFds lfds = {};
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *stage1 = NULL;
        _cleanup_strv_free_ char **features = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        bool prepare = streq(verb, "prepare");
        char uuid[37];
        int r;

        r = listen_fds_take(&lfds);
        if (r < 0)
                return r;
        r = parse_args(verb, argc, argv, &pa);
        if (r <= 0)
                return r;
        pa.insecure |= ctx->insecure;
        pa.sandbox = streq(verb, "app sandbox") || pa.n_apps == 0;
        if (pa.tty && !isatty(STDIN_FILENO))
                return log_usage("%s: -t/--tty needs a terminal on stdin.", verb);
        if (prepare && lfds.n > 0)
                return log_usage("prepare: sockets are passed to 'rocket run' or 'run-prepared', not prepare.");
        (void) sd_notify(false, "STATUS=Preparing the pod");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: running pods needs root.", verb);
        r = rocket_stage1_find(ctx, &(Stage1Choice) { pa.stage1_path, pa.stage1_name, pa.stage1_from_dir, pa.stage1_hash }, &stage1);
        if (r < 0)
                return r;
        r = rocket_stage1_features(stage1, &features);
        if (r < 0)
                return r;
        /* Refused before any image is fetched or touched; again below with what the images add. */
        {
                PodNeeds needs = pod_needs_of_args(&pa, lfds.n);

                r = pod_check_stage1_features(stage1, features, &needs);
                if (r < 0)
                        return r;
        }
        pa.stage1_device_policy = strv_contains(features, "device-policy");
        pa.stage1_volumes = strv_contains(features, "volumes");
        r = pod_uuid_new(uuid);
        if (r < 0)
                return log_error_errno(r, "Failed to generate a UUID: %m");
        /* The store stays open (locked against image gc) until the pod's manifest names its images. */
        r = rocket_store_open(ctx, STORE_CREATE, &s);
        if (r < 0)
                return r;
        r = pod_build_manifest(verb, ctx, s, &pa, uuid, stage1, strv_contains(features, "network"), &m);
        if (r < 0)
                return r;
        {
                PodNeeds needs = pod_needs_of_manifest(&pa, m, lfds.n);

                r = pod_check_stage1_features(stage1, features, &needs);
                if (r < 0)
                        return r;
        }
        r = rocket_pods_open(ctx, true, &pods_fd);
        if (r < 0)
                return r;
        r = create_pod(ctx, pods_fd, m, prepare ? POD_PREPARED : POD_RUNNING, pa.uuid_file, pa.private_users, &p);
        if (r < 0)
                return r;
        s = store_free(s);
        if (m->mds_register) {
                r = register_with_mds(ctx, p);
                if (r < 0) {
                        (void) rocket_pod_remove(pods_fd, p);
                        if (pa.uuid_file)
                                (void) unlink(pa.uuid_file);
                        return r;
                }
        }
        if (prepare) {
                printf("%s\n", p->uuid);
                if (!pa.quiet)
                        log_info("Prepared pod %s (%s); start it with 'rocket run-prepared %s'.", m->name, p->uuid,
                                 m->name);
                return 0;
        }
        log_debug("Running pod %s (%s).", m->name, p->uuid);
        /* Whoever started a sandbox adds apps to it by this. */
        if (pa.sandbox) {
                printf("%s\n", p->uuid);
                fflush(stdout);
        }
        return exec_run(ctx, pods_fd, p, pa.keep_unit, &lfds);
}

int verb_run(int argc, char *argv[], RocketContext *ctx) {
        return do_run("run", argc, argv, ctx);
}

int verb_app_sandbox(int argc, char *argv[], RocketContext *ctx) {
        return do_run("app sandbox", argc, argv, ctx);
}

int verb_prepare(int argc, char *argv[], RocketContext *ctx) {
        return do_run("prepare", argc, argv, ctx);
}

static void help_run_prepared(void) {
        printf("Usage: rocket run-prepared [OPTIONS...] POD\n"
               "\n"
               "Run a prepared pod (UUID, UUID prefix or name), in the foreground.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --keep-unit         Stay in the systemd unit rocket runs in\n");
}

static int parse_run_prepared_option(int option _unused_, const char *arg _unused_, void *userdata) {
        bool *keep_unit = userdata;     /* --keep-unit, the only option */

        *keep_unit = true;
        return 0;
}

int verb_run_prepared(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
                {}
        };
        _cleanup_(listen_fds_done) ListenFds lfds = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        bool keep_unit = false;
        int r;

        r = listen_fds_take(&lfds);
        if (r < 0)
                return r;
        r = verb_parse_options("run-prepared", argc, argv, options, help_run_prepared, parse_run_prepared_option,
                               &keep_unit);
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return log_usage("run-prepared: give exactly one POD.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "run-prepared: running pods needs root.");
        r = rocket_pod_find(ctx, argv[optind], &pods_fd, &p);
        if (r < 0)
                return r;
        if (p->state != POD_PREPARED)
                return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Pod %s is %s, not prepared.", p->uuid,
                                       pod_state_to_string(p->state));
        r = pod_lock_exclusive(p->dir_fd);
        if (r < 0)
                return log_error_errno(r, "Pod %s is being started or removed by another rocket.", p->uuid);
        r = pod_transition(pods_fd, p, POD_RUNNING);
        if (r < 0)
                return log_error_errno(r, "Failed to move pod %s to run/: %m", p->uuid);
        return exec_run(ctx, pods_fd, p, keep_unit, &lfds);
}
