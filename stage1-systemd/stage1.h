/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* stage1-systemd: the entrypoints rocket execs (see rocket-stage1(7)), one binary dispatching on its name. */

#include <stdint.h>
#include <sys/types.h>

#include "pod-manifest.h"
#include "stage1-abi.h"

#define STAGE1_SYSTEMD "/usr/lib/systemd/systemd"

int stage1_run(int argc, char *argv[]);
int stage1_enter(int argc, char *argv[]);
int stage1_stop(int argc, char *argv[]);
int stage1_gc(int argc, char *argv[]);

/* A socket passed to rocket (socket activation), as the pod's systemd must declare it to take it over. */
typedef struct PassedSocket {
        int fd;                 /* in the stage1 process: 4… */
        char *name;             /* LISTEN_FDNAMES */
        const char *directive;  /* ListenStream, ListenDatagram, ListenSequentialPacket */
        char *address;          /* as a .socket unit writes it */
        int ipv6_only;          /* -1: not IPv6 */
        const char *app;        /* the app it goes to, NULL: none asked */
} PassedSocket;

/* sockets.c: takes LISTEN_FDS/LISTEN_FDNAMES (fds 4…) and decides which app gets which. */
int passed_sockets_take(const PodManifest *m, PassedSocket **ret, size_t *ret_n);
void passed_sockets_free(PassedSocket *l, size_t n);

/* units.c: writes APP.service for every app, and a .socket unit per passed socket, into the pod root's
 * /etc/systemd/system. mds_url: the apps' $AC_METADATA_URL (pod_mds_url()), or NULL. */
int units_write(int root_fd, const PodManifest *m, const char *mds_url, const PassedSocket *socks, size_t n_socks);
/* One app's unit and shell-entry files; at_start: linked into default.target.wants (started with the pod).
 * For rocket app add/rm too, from within the running pod's mount namespace. */
int units_write_app(int root_fd, const PodManifest *m, const PodApp *a, const char *mds_url, const PassedSocket *socks,
                    size_t n_socks, bool at_start);
int units_remove_app(int root_fd, const char *app);
/* Quotes one word for an Exec*= or Environment= line (systemd's quoting, % and $ escaped). */
int unit_quote(const char *s, bool exec, char **ret);

/* mounts.c: builds the pod's filesystem in the child, before pivot_root: what does not depend on the pod's
 * cgroup while machined registers it, then the rest (cgroup2, the apps' API filesystems and files). */
/* userns_fd >= 0 (--private-users): the image layers and host volumes are idmapped into that user namespace. */
int pod_mount_all(const PodManifest *m, const char *pod_dir, const char *root, int userns_fd);
int pod_mount_finish(const PodManifest *m, const char *pod_dir, const char *root, int userns_fd);
/* rocket app add: app a's rootfs (an overlay built on the host side, with its volumes) moved into the running
 * pod's mount namespace, that of leader, and set up as at the pod's start, and its unit written into the
 * pod; in a process of its own (it stays in the pod's mount namespace). Logs. */
int pod_mount_app_live(const PodManifest *m, const PodApp *a, int pod_fd, const char *pod_dir, pid_t leader);
/* --readonly-rootfs: the mount of the app's rootfs (its root, open) read-only, not what is mounted on it. */
int app_rootfs_make_readonly(const PodApp *a, int rootfs_fd);
/* In the pod's mount namespace: the app's rootfs detached with all below it, its directory removed. */
int pod_umount_app_live(const char *app);
/* Opens path inside root (symlinks resolved within root), creating the missing directories. */
int open_in_root(int root_fd, const char *path, bool create_dirs, int *ret_fd);

/* net.c: the pod's own network (see there). */
typedef struct PodNetRun {
        int *reserved;          /* the host ports the pod forwards, bound while it runs */
        size_t n_reserved;
        int *ifindices;         /* the host-side interfaces of its networks, for machined */
        size_t n_ifindices;
        char **addresses;       /* its addresses, first network first */
        char *gateway;          /* the first network's gateway: the host, as the pod reaches it */
} PodNetRun;
void pod_net_run_done(PodNetRun *r);
/* /run/netns/rocket-UUID. */
int net_netns_path(const char *uuid, char **ret);
/* In the child, in its new network namespace. */
int net_loopback_up(void);
/* The parent, once the child exists: host ports reserved, its network namespace named, every network
 * ADDed (results cached in the pod directory's net/). Logs; on failure, pod_net_teardown() undoes it. */
int pod_net_setup(const PodManifest *m, int pod_fd, pid_t child, PodNetRun *run);
/* net/resolv.conf (absent with --dns=none) and net/hosts in the pod directory, which the child installs
 * into each app. */
int pod_net_write_files(const PodManifest *m, int pod_fd, const PodNetRun *run);
/* --mds-register: the apps' $AC_METADATA_URL, http://HOST:18112/TOKEN (NULL without); -ENOENT if the pod's
 * token or host address is missing. */
int pod_mds_url(const PodManifest *m, int pod_fd, char **ret);
/* Every network DELeted (last first, with its cached result) and the namespace's name removed; best effort,
 * also for a pod that died without it (gc). quiet: a DEL that fails is logged at debug level only (after a
 * failed setup, whose own error is what counts). < 0 when something of it is left. */
int pod_net_teardown(const PodManifest *m, int pod_fd, bool quiet);

/* machine.c: machined registration and the cgroup placement of the pod. */
typedef struct MachineRegistration MachineRegistration;
/* ifindices: the pod's host-side network interfaces (machinectl status shows them). */
int machine_register(const PodManifest *m, pid_t leader, const char *root_directory, bool keep_unit,
                     const int *ifindices, size_t n_ifindices, MachineRegistration **ret);
void machine_unregister(MachineRegistration *reg);
/* Whether rocket runs inside a unit that delegates its cgroup to us (then the pod stays in it). */
bool machine_in_delegated_unit(void);
/* Whether systemd marked a unit's cgroup as delegated (trusted.delegate or user.delegate): on its cgroup2
 * directory v2_dir (the unified hierarchy, or a hybrid host's /sys/fs/cgroup/unified, which is the only
 * place systemd 252 marks there), or on its v1 name=systemd directory v1_dir. Either may be NULL. */
bool cgroup_dirs_delegated(const char *v2_dir, const char *v1_dir);
/* Moves us into <unit>/supervisor and pid into <unit>/payload (keep-unit mode, before the child's cgroupns). */
int machine_split_unit_cgroup(pid_t pid);
/* gc: terminates the pod's machine if machined still has it (only this pod's: the ID must match). */
int machine_terminate_by_name(const char *name, const char *machine_id);

/* cgroup.c */
bool cgroup_host_is_unified(void);
/* In the child, before its cgroup namespace: on a host that does not track in cgroup2, moves us into a
 * cgroup2 cgroup of our own (at our v1 path, mounting the hierarchy on scratch for a moment) and returns
 * its path; NULL when the host is cgroup2. */
/* owner != 0 (--private-users): the cgroup is delegated to owner, as systemd delegates one. */
int cgroup_child_prepare(const char *scratch, uid_t owner, char **ret_v2_path);
/* enter: moves us into the cgroup of the app's service in the pod (cgroup2) and the pod's cgroups of the v1
 * hierarchies, mounting cgroup2 on scratch in a mount namespace of our own where the host has no cgroup2
 * mount. -ESRCH: the app (or the pod's systemd) is not running. */
int cgroup_join_app(pid_t leader, const char *app, const char *scratch);
/* Which of the pod's own limits (memory, CPU quota, tasks) the kernel applies to it, from the cgroups of
 * its PID 1 and the ones above: *ret_record "NAME=VALUE enforced|not-enforced" lines, NULL when it asks
 * for none; *ret_missing the names of those asked for and not in force (the default tasks limit is not
 * asked for), NULL when all are. */
int cgroup_pod_limits_in_force(pid_t leader, const PodManifest *m, char **ret_record, char **ret_missing);
/* gc: removes what cgroup_child_prepare() created (in a mount namespace of our own). */
int cgroup_v2_remove(const char *scratch, const char *path);

/* output.c: prints the apps' output from the pod's journal, as it comes. */
typedef struct AppOutput AppOutput;
int app_output_new(const PodManifest *m, const char *journal_dir, AppOutput **ret);
int app_output_fd(AppOutput *o);
/* The events to wait for on that fd, and the CLOCK_MONOTONIC time by which to look again anyway
 * (UINT64_MAX: none), as sd-journal asks. */
int app_output_events(AppOutput *o);
int app_output_timeout(AppOutput *o, uint64_t *ret_usec);
/* Prints what is new. */
int app_output_flush(AppOutput *o);
AppOutput *app_output_free(AppOutput *o);

/* The pod's PID 1 from the pod directory's "pid", checked to be this pod's (its $container_uuid). */
int pod_leader_pid(int pod_fd, const char *machine_id, pid_t *ret);
/* stage1.c, for the entrypoints (cwd: the pod directory): the manifest and the pod's machine ID; the
 * leader's PID, waiting a little for a pod that is starting. */
int stage1_load_pod(PodManifest **ret, char mid[static 33]);
int stage1_leader_pid_wait(const char *machine_id, pid_t *ret);

/* pod-bus.c: the pod's systemd, driven over its private bus (/run/systemd/private in the pod). */
typedef struct sd_bus sd_bus;
int pod_bus_open(pid_t leader, sd_bus **ret);
int pod_bus_reload(sd_bus *bus);
/* StartUnit or StopUnit ("replace"), waiting for the job's end: *ret_result its result ("done", "failed",
 * "timeout", …). After timeout_usec (0: none) the unit's processes are sent SIGKILL, and we wait on. */
int pod_bus_job(sd_bus *bus, const char *method, const char *unit, uint64_t timeout_usec, char **ret_result);
/* Sends sig to every process of the unit. */
int pod_bus_kill(sd_bus *bus, const char *unit, int sig);
/* The unit's ActiveState ("active", "inactive", "failed", …). */
int pod_bus_unit_state(sd_bus *bus, const char *unit, char **ret);
/* Whether the unit is loaded from its file as it is now (1), or the pod's systemd needs a reload for it (0):
 * a unit never referenced before loads on first use, without one. */
int pod_bus_unit_loaded(sd_bus *bus, const char *unit);
int pod_bus_reset_failed(sd_bus *bus, const char *unit);

/* app.c: the app entrypoints (rocket app add/start/stop/rm). */
int stage1_app(int argc, char *argv[]);
/* attach.c */
int stage1_attach(int argc, char *argv[]);

/* userns.c: --private-users (see there). */
/* A user namespace mapping 0…65535 to base…, as a file descriptor. */
int userns_new(uid_t base, int *ret_fd);
/* A bind of source (with its submounts: recursive), idmapped into the user namespace, as a detached
 * mount tree; -EINVAL and friends where a filesystem in it cannot be idmapped. */
int userns_idmap_tree(int userns_fd, const char *source, bool recursive, int *ret_fd);
/* The same, not recursive, mounted at target. */
int userns_idmap_mount(int userns_fd, const char *source, const char *target);
/* Shifts the owners below 65536 of path and everything below it on the same mount by base (chown). */
int userns_shift_tree(const char *path, uid_t base);
int userns_chown_pod_dir(int pod_fd, const PodManifest *m, uid_t base);
int userns_chown_cgroup(const char *dir, uid_t base);
/* In the child, after pivot_root: into the user namespace as its root, and a mount namespace of its own. */
int userns_enter(int userns_fd);
