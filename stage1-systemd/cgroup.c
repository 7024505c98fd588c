/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where the pod sits in the host's cgroup tree. The pod's systemd always gets the unified (cgroup2) layout:
 * on a cgroup2 host, its own subtree; on a legacy or hybrid host (systemd tracks processes in the v1
 * name=systemd hierarchy), a subtree of the cgroup2 hierarchy at the same path as its v1 cgroup, created
 * here and removed by the stage1's gc, so pods never share a cgroup. */
#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/magic.h>

#include <systemd/sd-login.h>

#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

static bool is_fs(const char *path, long magic) {
        struct statfs fs;

        return statfs(path, &fs) == 0 && fs.f_type == magic;
}

/* The path of one "ID:CONTROLLER:PATH" line of a /proc/PID/cgroup text ("" for cgroup2). */
static int path_in(const char *text, const char *controller, char **ret) {
        for (const char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

                nl = strchr(l, '\n');
                if (!c2 || (nl && c2 > nl))
                        continue;
                if ((size_t) (c2 - c1 - 1) == strlen(controller) && strneq(c1 + 1, controller, strlen(controller))) {
                        *ret = strndup(c2 + 1, nl ? (size_t) (nl - c2 - 1) : strlen(c2 + 1));
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

static int read_cgroups(pid_t pid, char **ret) {
        char path[64];

        /* Not getpid(): in the pod's PID namespace that is 1, and /proc is still the host's. */
        if (pid == 0)
                snprintf(path, sizeof path, "/proc/self/cgroup");
        else
                snprintf(path, sizeof path, "/proc/%i/cgroup", (int) pid);
        return read_full_file_at(AT_FDCWD, path, 64 * 1024, ret, NULL);
}

/* Our cgroup in the hierarchy of controller ("" for cgroup2, "name=systemd"). */
static int cgroup_of(pid_t pid, const char *controller, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_cgroups(pid, &text);

        return r < 0 ? r : path_in(text, controller, ret);
}

bool cgroup_host_is_unified(void) {
        return is_fs("/sys/fs/cgroup", CGROUP2_SUPER_MAGIC);
}

/* The hierarchy systemd tracks units in: its mount point and our path in it. */
static int systemd_hierarchy(pid_t pid, const char **ret_mnt, char **ret_path) {
        if (cgroup_host_is_unified()) {
                *ret_mnt = "/sys/fs/cgroup";
                return cgroup_of(pid, "", ret_path);
        }
        if (is_fs("/sys/fs/cgroup/systemd", CGROUP_SUPER_MAGIC)) {
                *ret_mnt = "/sys/fs/cgroup/systemd";
                return cgroup_of(pid, "name=systemd", ret_path);
        }
        return -EOPNOTSUPP;
}

static bool dir_delegated(const char *dir) {
        char v[8];

        return dir && ((getxattr(dir, "trusted.delegate", v, sizeof v) > 0 && v[0] == '1') ||
                       (getxattr(dir, "user.delegate", v, sizeof v) > 0 && v[0] == '1'));
}

bool cgroup_dirs_delegated(const char *v2_dir, const char *v1_dir) {
        return dir_delegated(v2_dir) || dir_delegated(v1_dir);
}

bool machine_in_delegated_unit(void) {
        _cleanup_free_ char *unit = NULL, *cg = NULL, *dir = NULL, *v2 = NULL, *v2dir = NULL, *session = NULL;
        const char *mnt;

        if (!getenv("INVOCATION_ID"))
                return false;
        if (sd_pid_get_unit(0, &unit) < 0 || sd_pid_get_session(0, &session) >= 0)
                return false;
        /* A hybrid host's cgroup2, where systemd 252 marks the units it delegates. */
        if (!cgroup_host_is_unified() && is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC) &&
            cgroup_of(0, "", &v2) >= 0 && asprintf(&v2dir, "/sys/fs/cgroup/unified%s", v2) < 0)
                v2dir = NULL;
        if (systemd_hierarchy(0, &mnt, &cg) < 0 || asprintf(&dir, "%s%s", mnt, cg) < 0)
                dir = NULL;
        if (cgroup_dirs_delegated(v2dir, dir))
                return true;
        log_debug("Running in %s, which does not delegate its cgroup; the pod gets a scope of its own.", unit);
        return false;
}

static int attach(const char *dir, const char *sub, pid_t pid) {
        _cleanup_free_ char *p = NULL;
        char buf[32];
        ssize_t n;
        int fd;

        if (asprintf(&p, "%s/%s", dir, sub) < 0)
                return -ENOMEM;
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return -errno;
        free(p);
        if (asprintf(&p, "%s/%s/cgroup.procs", dir, sub) < 0)
                return -ENOMEM;
        fd = open(p, O_WRONLY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        snprintf(buf, sizeof buf, "%i\n", (int) pid);
        n = write(fd, buf, strlen(buf));
        safe_close(fd);
        return n < 0 ? -errno : 0;
}

int machine_split_unit_cgroup(pid_t pid) {
        _cleanup_free_ char *cg = NULL, *dir = NULL;
        const char *mnt;
        int r;

        r = systemd_hierarchy(0, &mnt, &cg);
        if (r < 0)
                return r;
        if (asprintf(&dir, "%s%s", mnt, cg) < 0)
                return -ENOMEM;
        /* Inner cgroups hold no processes in cgroup v2: we go to supervisor/, the pod to payload/. */
        r = attach(dir, "payload", pid);
        if (r >= 0)
                r = attach(dir, "supervisor", getpid());
        return r;
}

/* Creates path (and its parents) in the cgroup2 hierarchy mounted at mnt and moves us into it. */
static int join_v2(const char *mnt, const char *path) {
        _cleanup_free_ char *dir = NULL;
        int r;

        if (asprintf(&dir, "%s%s", mnt, path) < 0)
                return -ENOMEM;
        r = mkdir_p_at(AT_FDCWD, dir, 0755);
        if (r < 0)
                return r;
        return attach(dir, ".", 0);
}

int cgroup_child_prepare(const char *scratch, uid_t owner, char **ret_v2_path) {
        _cleanup_free_ char *path = NULL, *dir = NULL;
        const char *mnt;
        int r;

        *ret_v2_path = NULL;
        if (cgroup_host_is_unified()) {
                /* Already in a cgroup of our own (the scope, or payload/). */
                if (owner == 0)
                        return 0;
                r = cgroup_of(0, "", &path);
                if (r < 0)
                        return r;
                if (asprintf(&dir, "/sys/fs/cgroup%s", path) < 0)
                        return -ENOMEM;
                return userns_chown_cgroup(dir, owner);
        }
        r = systemd_hierarchy(0, &mnt, &path);
        if (r < 0)
                return r;
        /* Only a cgroup that is the pod's own (its machine scope, or payload/ in keep-unit mode): the path is
         * recorded for gc, which removes it. */
        {
                const char *base = strrchr(path, '/');

                if (!base || !(streq(base, "/payload") || (startswith(base, "/machine-") && endswith(base, ".scope"))))
                        return log_error_errno(SYNTHETIC_ERRNO(EBUSY),
                                               "The pod is in cgroup %s, not in a machine scope or payload/ of its own.",
                                               path);
        }
        /* The cgroup2 hierarchy, mounted for a moment (our mounts do not propagate to the host). */
        if (mount("cgroup2", scratch, "cgroup2", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) < 0)
                return -errno;
        r = join_v2(scratch, path);
        if (r >= 0 && owner != 0) {
                if (asprintf(&dir, "%s%s", scratch, path) < 0)
                        r = -ENOMEM;
                else
                        r = userns_chown_cgroup(dir, owner);
        }
        (void) umount2(scratch, MNT_DETACH);
        if (r < 0)
                return r;
        *ret_v2_path = TAKE_PTR(path);
        return 0;
}

/* Removes a cgroup directory tree bottom-up (cgroupfs directories go with rmdir once empty). */
static int rmdir_tree(int dir_fd, const char *name) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_at(dir_fd, name, &d);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        for (struct dirent *de; (de = readdir(d)); )
                if (de->d_type == DT_DIR && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        (void) rmdir_tree(dirfd(d), de->d_name);
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* The cgroup2 hierarchy on scratch, in a mount namespace of our own (nothing reaches the host). */
static int mount_v2_private(const char *scratch) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) < 0 ||
            mount("cgroup2", scratch, "cgroup2", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) < 0)
                return -errno;
        return 0;
}

int cgroup_v2_remove(const char *scratch, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (!startswith(path, "/") || strstr(path, "/.."))
                return -EINVAL;
        r = mount_v2_private(scratch);
        if (r < 0)
                return r;
        fd = open(scratch, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (fd < 0)
                r = -errno;
        else
                r = rmdir_tree(fd, path + 1);
        fd = safe_close(fd);
        (void) umount2(scratch, MNT_DETACH);
        return r;
}

/* Moves us into dir/cgroup.procs, where dir must exist already (we never create an app's cgroup: the
 * pod's systemd owns it, and it is gone when the app is). */
static int attach_existing(const char *dir) {
        struct stat st;

        if (stat(dir, &st) < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        return attach(dir, ".", 0);
}

int cgroup_join_app(pid_t leader, const char *app, const char *scratch) {
        _cleanup_free_ char *text = NULL, *v2 = NULL, *dir = NULL;
        const char *mnt;
        char *init;
        int r;

        r = read_cgroups(leader, &text);
        if (r >= 0)
                r = path_in(text, "", &v2);
        if (r < 0)
                return r;
        /* The pod's systemd runs in its init.scope; its services sit in system.slice beside it. */
        init = (char *) endswith(v2, "/init.scope");
        if (!init)
                return -ESRCH;
        *init = 0;
        /* "N:memory:PATH", "N:cpu,cpuacct:PATH", "N:pids:PATH", "N:name=systemd:PATH": where a legacy or
         * hybrid host enforces the pod's limits (the pod's systemd manages cgroup2 only, so the app has no
         * cgroup of its own there). Best effort: systemd may have mounted them read-only. */
        for (const char *l = text, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                const char *c1 = strchr(l, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                char v1[PATH_MAX];

                nl = strchr(l, '\n');
                if (!c2 || c2 == c1 + 1 || (nl && c2 > nl))
                        continue;
                c1 = startswith(c1 + 1, "name=") ?: c1 + 1;
                snprintf(v1, sizeof v1, "/sys/fs/cgroup/%.*s%.*s", (int) (c2 - c1), c1,
                         (int) (nl ? nl - c2 - 1 : (ptrdiff_t) strlen(c2 + 1)), c2 + 1);
                if (attach(v1, ".", 0) < 0)
                        log_debug("Could not join the pod's cgroup %s.", v1);
        }
        if (cgroup_host_is_unified())
                mnt = "/sys/fs/cgroup";
        else if (is_fs("/sys/fs/cgroup/unified", CGROUP2_SUPER_MAGIC))
                mnt = "/sys/fs/cgroup/unified";
        else {
                /* A legacy host without a cgroup2 mount: ours, for a moment. */
                r = mount_v2_private(scratch);
                if (r < 0)
                        return r;
                mnt = scratch;
        }
        if (asprintf(&dir, "%s%s/system.slice/%s.service", mnt, v2, app) < 0)
                return -ENOMEM;
        return attach_existing(dir);
}

/* One pod-level limit: where cgroup2 and the v1 hierarchies keep it, and what reads as "none". */
static const struct {
        const char *name;               /* in the limits record and rocket status */
        const char *v1_controller;      /* as /proc/PID/cgroup names the hierarchy */
        const char *v1_file, *v1_none;  /* v1_none NULL: LONG_MAX rounded down to a page (memory) */
        const char *v2_file, *v2_none;  /* compared up to the first space */
} pod_limits[] = {
        { "memory", "memory",      "memory.limit_in_bytes", NULL,                  "memory.max", "max" },
        { "cpu",    "cpu,cpuacct", "cpu.cfs_quota_us",      "-1",                  "cpu.max",    "max" },
        { "tasks",  "pids",        "pids.max",              "max",                 "pids.max",   "max" },
};

/* Whether dir/file, or the same file in a directory above dir down to root_dir, holds a value other than
 * none: a limit the kernel applies to whatever runs in dir. */
static bool limit_set_in_or_above(const char *root_dir, const char *dir, const char *file, const char *none) {
        _cleanup_free_ char *d = strdup(dir);

        while (d && strlen(d) >= strlen(root_dir)) {
                _cleanup_free_ char *p = NULL, *v = NULL;
                char *slash;

                if (asprintf(&p, "%s/%s", d, file) >= 0 && read_full_file_at(AT_FDCWD, p, 256, &v, NULL) >= 0) {
                        v[strcspn(v, " \n")] = 0;
                        if (!streq(v, none))
                                return true;
                }
                slash = strrchr(d, '/');
                if (!slash || slash == d)
                        break;
                *slash = 0;
        }
        return false;
}

/* What limit i reads as when there is none, on a v1 hierarchy. */
static const char *v1_none(size_t i, char buf[static 32]) {
        long page = sysconf(_SC_PAGESIZE);

        if (pod_limits[i].v1_none)
                return pod_limits[i].v1_none;
        snprintf(buf, 32, "%lld", (long long) (LLONG_MAX / page * page));
        return buf;
}

int cgroup_pod_limits_in_force(pid_t leader, const PodManifest *m, char **ret_record, char **ret_missing) {
        _cleanup_free_ char *text = NULL, *record = NULL, *missing = NULL;
        bool want[ELEMENTSOF(pod_limits)] = {
                m->memory_max > 0, m->cpu_quota_milli > 0, m->pids_max != UINT64_MAX,
        };
        uint64_t value[ELEMENTSOF(pod_limits)] = { m->memory_max, m->cpu_quota_milli, m->pids_max };
        int r;

        r = read_cgroups(leader, &text);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(pod_limits); i++) {
                _cleanup_free_ char *path = NULL, *dir = NULL, *line = NULL;
                bool enforced = false;
                const char *root;
                char none[32];

                if (!want[i])
                        continue;
                if (cgroup_host_is_unified()) {
                        root = "/sys/fs/cgroup";
                        if (path_in(text, "", &path) >= 0 && asprintf(&dir, "%s%s", root, path) >= 0)
                                enforced = limit_set_in_or_above(root, dir, pod_limits[i].v2_file, pod_limits[i].v2_none);
                } else if (path_in(text, pod_limits[i].v1_controller, &path) >= 0 &&
                           asprintf(&dir, "/sys/fs/cgroup/%s%s", pod_limits[i].v1_controller, path) >= 0) {
                        root = strndupa(dir, strlen(dir) - strlen(path));
                        enforced = limit_set_in_or_above(root, dir, pod_limits[i].v1_file, v1_none(i, none));
                }
                if (asprintf(&line, "%s%s=%" PRIu64 " %s\n", strempty(record), pod_limits[i].name, value[i],
                             enforced ? "enforced" : "not-enforced") < 0)
                        return -ENOMEM;
                free(record);
                record = TAKE_PTR(line);
                /* The default tasks limit is a safety net, not something asked for: recorded, not warned about. */
                if (!enforced && !(i == 2 && m->pids_max == POD_PIDS_MAX_DEFAULT)) {
                        char *t = NULL;

                        if (asprintf(&t, "%s%s%s", strempty(missing), missing ? ", " : "", pod_limits[i].name) < 0)
                                return -ENOMEM;
                        free(missing);
                        missing = t;
                }
        }
        *ret_record = TAKE_PTR(record);
        *ret_missing = TAKE_PTR(missing);
        return 0;
}
