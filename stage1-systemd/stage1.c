/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1-systemd: what the entrypoints share (the manifest, the pod's PID 1), and the stop and gc
 * entrypoints; main.c dispatches. The contract is rocket-stage1(7): cwd is the pod directory, fd 3 the
 * pod directory locked. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

int pod_leader_pid(int pod_fd, const char *machine_id, pid_t *ret) {
        _cleanup_free_ char *text = NULL, *env = NULL, *want = NULL;
        char path[64];
        size_t size = 0;
        long v;
        int r;

        r = read_full_file_at(pod_fd, STAGE1_POD_PID, 64, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        v = strtol(text, NULL, 10);
        if (v <= 1)
                return -EBADMSG;
        /* The PID may have been reused: the pod's PID 1 carries the pod's UUID in its environment. */
        snprintf(path, sizeof path, "/proc/%li/environ", v);
        r = read_full_file_at(AT_FDCWD, path, 1 << 20, &env, &size);
        if (r < 0)
                return -ESRCH;
        if (asprintf(&want, "container_uuid=") < 0)
                return -ENOMEM;
        for (size_t off = 0; off < size; off += strlen(env + off) + 1) {
                const char *val = startswith(env + off, want);
                char mid[33];

                if (val && pod_machine_id(val, mid) >= 0 && streq(mid, machine_id)) {
                        *ret = (pid_t) v;
                        return 0;
                }
        }
        return -ESRCH;
}

/* Right after 'rocket run' the pod's PID 1 may still be setting up (not yet systemd, so without its
 * $container_uuid): give it a moment. */
int stage1_leader_pid_wait(const char *machine_id, pid_t *ret) {
        int r = -ESRCH;

        for (int i = 0; i < 100; i++) {
                r = pod_leader_pid(AT_FDCWD, machine_id, ret);
                if (r >= 0 || r == -EBADMSG)
                        return r;
                usleep(50 * 1000);
        }
        return r;
}

int stage1_load_pod(PodManifest **ret, char mid[static 33]) {
        int r = pod_manifest_load_at(AT_FDCWD, STAGE1_POD_MANIFEST, ret);

        if (r < 0)
                return log_error_errno(r, "Failed to load the pod manifest: %m");
        return pod_machine_id((*ret)->uuid, mid);
}

int stage1_stop(int argc, char *argv[]) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        bool force = argc > 1 && streq(argv[1], "--force");
        char mid[33];
        pid_t pid;
        int r;

        r = stage1_load_pod(&m, mid);
        if (r < 0)
                return r;
        r = stage1_leader_pid_wait(mid, &pid);
        if (r < 0)
                return log_error_errno(r, "Pod %s is not running.", m->uuid);
        /* SIGRTMIN+4 is the pod's systemd's poweroff; SIGKILL to PID 1 ends the whole PID namespace. */
        if (kill(pid, force ? SIGKILL : SIGRTMIN + 4) < 0)
                return log_error_errno(errno, "Failed to signal pod %s: %m", m->uuid);
        return 0;
}

int stage1_gc(int argc, char *argv[]) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_free_ char *cwd = NULL, *target = NULL;
        char mid[33], link[PATH_MAX];
        int r;

        r = stage1_load_pod(&m, mid);
        if (r < 0)
                return r;
        /* Our run entrypoint unregistered the machine when the pod ended, unless it was killed first. */
        if (access("exited", F_OK) < 0)
                (void) machine_terminate_by_name(m->name, mid);
        /* And DELeted its networks, unless it was killed first. */
        (void) pod_net_teardown(m, AT_FDCWD, false);
        /* The cgroup2 subtree the pod had on a legacy/hybrid host. */
        {
                _cleanup_free_ char *cg = NULL;

                if (read_full_file_at(AT_FDCWD, "cgroup", PATH_MAX, &cg, NULL) >= 0) {
                        r = cgroup_v2_remove("stage1/rootfs", cg);
                        if (r < 0)
                                log_warning_errno(r, "Failed to remove the pod's cgroup %s: %m", cg);
                }
        }
        /* The journal link points into this pod directory: remove it with the pod. */
        snprintf(link, sizeof link, "/var/log/journal/%s", mid);
        cwd = getcwd(NULL, 0);
        if (cwd && asprintf(&target, "%s/journal", cwd) >= 0) {
                char buf[PATH_MAX];
                ssize_t n = readlink(link, buf, sizeof buf - 1);

                if (n > 0) {
                        buf[n] = 0;
                        if (streq(buf, target) || endswith(buf, strjoina(m->uuid, "/journal")))
                                (void) unlink(link);
                }
        }
        return 0;
}
