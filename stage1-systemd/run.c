/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The run entrypoint: builds the pod in new namespaces and runs the pod's systemd as its PID 1, while this
 * process (rocket run, in the foreground) registers the pod with machined, prints the apps' output, relays
 * SIGINT/SIGTERM as a graceful poweroff, and reports how the apps ended. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "pod.h"
#include "stage1.h"
#include "string-util.h"

#define POD_FD 3

typedef struct RunArgs {
        bool keep_unit;
        bool keep_unit_auto;
} RunArgs;

/* The child's report to the parent before it execs systemd: a message, then EOF (close-on-exec) on success. */
static _noreturn_ void child_fail(int err_fd, int r, const char *what) {
        char buf[512];
        int n = snprintf(buf, sizeof buf, "%s: %s", what, strerror(ERRNO_VALUE(r)));

        if (n > 0)
                (void) !write(err_fd, buf, (size_t) MIN(n, (int) sizeof buf - 1));
        _exit(1);
}

static _noreturn_ void child_main(const PodManifest *m, const char *pod_dir, const char *root, int go_fd, int err_fd) {
        char mid[33], c;
        const char *env[8];
        size_t n = 0;
        _cleanup_free_ char *e_uuid = NULL, *e_mid = NULL;
        int r;

        /* Wait until the parent has registered us with machined (which moves us into the pod's scope). */
        if (read(go_fd, &c, 1) != 1)
                _exit(1);
        safe_close(go_fd);

        /* Nothing of the pod's mounts may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) < 0)
                child_fail(err_fd, -errno, "Failed to make / a slave mount");
        {
                _cleanup_free_ char *v2 = NULL;

                r = cgroup_child_prepare(root, &v2);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to give the pod a cgroup2 subtree of its own");
                /* Recorded for the stage1's gc, which removes it. */
                if (v2 && write_file_atomic_at(AT_FDCWD, strjoina(pod_dir, "/cgroup"), v2, strlen(v2), 0644) < 0)
                        child_fail(err_fd, -EIO, "Failed to record the pod's cgroup");
        }
        if (unshare(CLONE_NEWCGROUP) < 0)
                child_fail(err_fd, -errno, "Failed to create the cgroup namespace");

        /* Errors below are logged to the inherited stderr as well. */
        r = pod_mount_all(m, pod_dir, root);
        if (r < 0)
                child_fail(err_fd, r, "Failed to build the pod's filesystem");

        if (chdir(root) < 0)
                child_fail(err_fd, -errno, "Failed to enter the pod root");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                child_fail(err_fd, -errno, "Failed to pivot into the pod root");
        if (umount2(".", MNT_DETACH) < 0)
                child_fail(err_fd, -errno, "Failed to detach the host's root");
        if (chdir("/") < 0)
                child_fail(err_fd, -errno, "Failed to enter /");
        if (sethostname(m->hostname, strlen(m->hostname)) < 0)
                child_fail(err_fd, -errno, "Failed to set the hostname");

        (void) pod_machine_id(m->uuid, mid);
        if (asprintf(&e_uuid, "container_uuid=%s", m->uuid) < 0 || asprintf(&e_mid, "ROCKET_POD_UUID=%s", m->uuid) < 0)
                child_fail(err_fd, -ENOMEM, "Out of memory");
        env[n++] = "container=rocket";
        env[n++] = e_uuid;
        env[n++] = e_mid;
        env[n++] = "PATH=/usr/bin:/usr/sbin";
        env[n++] = "LANG=C.UTF-8";
        env[n] = NULL;

        /* stdin from /dev/null: the pod's systemd is not an interactive program. */
        {
                int nul = open("/dev/null", O_RDWR|O_CLOEXEC);

                if (nul >= 0) {
                        (void) dup2(nul, STDIN_FILENO);
                        safe_close(nul);
                }
        }
        execve(STAGE1_SYSTEMD, (char *const[]) { (char *) STAGE1_SYSTEMD, (char *) "--show-status=0", NULL },
               (char *const *) env);
        child_fail(err_fd, -errno, "Failed to execute the pod's systemd");
}

static int ensure_dirs(int pod_fd, const PodManifest *m) {
        static const char *const dirs[] = { "stage1/upper", "stage1/work", "stage1/rootfs", "journal", "apps", "volumes" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdir_p_at(pod_fd, dirs[i], 0755);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < m->n_apps; i++) {
                char p[PATH_MAX];

                snprintf(p, sizeof p, "apps/%s/upper", m->apps[i].name);
                r = mkdir_p_at(pod_fd, p, 0755);
                if (r < 0)
                        return r;
                snprintf(p, sizeof p, "apps/%s/work", m->apps[i].name);
                r = mkdir_p_at(pod_fd, p, 0755);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < m->n_volumes; i++) {
                char p[PATH_MAX];

                if (m->volumes[i].kind != VOLUME_EMPTY)
                        continue;
                snprintf(p, sizeof p, "volumes/%s", m->volumes[i].name);
                r = mkdir_p_at(pod_fd, p, 0755);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The host sees the pod's journal after the pod is gone too, as with nspawn's --link-journal. */
static void link_journal(const char *pod_dir, const char *mid) {
        char link[PATH_MAX], target[PATH_MAX];

        snprintf(link, sizeof link, "/var/log/journal/%s", mid);
        snprintf(target, sizeof target, "%s/journal", pod_dir);
        if (mkdir_p_at(AT_FDCWD, "/var/log/journal", 0755) < 0)
                return;
        (void) unlink(link);
        if (symlink(target, link) < 0)
                log_debug_errno(errno, "Failed to link %s to the pod journal: %m", link);
}

static int write_stamp(int pod_fd, const char *name, const char *content) {
        return write_file_atomic_at(pod_fd, name, content, strlen(content), 0644);
}

static int supervise(pid_t child, AppOutput *out, int *ret_wait_status) {
        _cleanup_close_ int sfd = -EBADF;
        sigset_t mask;
        bool stopping = false;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC|SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(errno, "signalfd: %m");

        for (;;) {
                struct pollfd p[2] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = out ? app_output_fd(out) : -1, .events = POLLIN },
                };
                struct signalfd_siginfo si;
                int status;

                if (out)
                        (void) app_output_flush(out);
                if (waitpid(child, &status, WNOHANG) == child) {
                        *ret_wait_status = status;
                        return 0;
                }
                if (poll(p, 2, 250) < 0 && errno != EINTR)
                        return log_error_errno(errno, "poll: %m");
                while (read(sfd, &si, sizeof si) == sizeof si) {
                        if (si.ssi_signo == SIGCHLD)
                                continue;
                        /* The pod's systemd re-executes on SIGTERM: ask it to power off instead. */
                        log_debug("Got signal %u, %s the pod.", si.ssi_signo, stopping ? "killing" : "stopping");
                        (void) kill(child, stopping && si.ssi_signo == SIGINT ? SIGKILL : SIGRTMIN + 4);
                        stopping = true;
                }
        }
}

int stage1_run(int argc, char *argv[]) {
        static const struct option options[] = {
                { "keep-unit", no_argument, NULL, 'k' },
                { "debug", no_argument, NULL, 'd' },
                {}
        };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_free_ char *pod_dir = NULL, *root = NULL;
        _cleanup_close_ int go_r = -EBADF, go_w = -EBADF, err_r = -EBADF, err_w = -EBADF;
        MachineRegistration *reg = NULL;
        AppOutput *out = NULL;
        bool keep_unit = false;
        char mid[33], buf[600];
        sigset_t mask;
        pid_t child;
        int c, r, status = 0, pipe_go[2], pipe_err[2];
        ssize_t n;

        optind = 0;
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'k':
                        keep_unit = true;
                        break;
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "run: unknown option.");
                }

        /* fd 3 is the pod directory, locked (shared) by rocket; we keep it open until the pod is gone. */
        if (fcntl(POD_FD, F_SETFD, FD_CLOEXEC) < 0)
                return log_error_errno(errno, "run: fd 3 is not the pod directory: %m");
        r = pod_manifest_load_at(POD_FD, "pod", &m);
        if (r < 0)
                return log_error_errno(r, "Failed to load the pod manifest: %m");
        {
                char self[64];

                snprintf(self, sizeof self, "/proc/self/fd/%i", POD_FD);
                pod_dir = realpath(self, NULL);
                if (!pod_dir)
                        return log_error_errno(errno, "Failed to resolve the pod directory: %m");
        }
        if (asprintf(&root, "%s/stage1/rootfs", pod_dir) < 0)
                return log_oom();
        (void) pod_machine_id(m->uuid, mid);
        if (!keep_unit)
                keep_unit = machine_in_delegated_unit();

        r = ensure_dirs(POD_FD, m);
        if (r < 0)
                return log_error_errno(r, "Failed to create the pod's directories: %m");
        link_journal(pod_dir, mid);
        r = app_output_new(m, strjoina(pod_dir, "/journal"), &out);
        if (r < 0)
                log_warning_errno(r, "Cannot follow the pod's journal, the apps' output will not be shown: %m");

        if (pipe2(pipe_go, O_CLOEXEC) < 0 || pipe2(pipe_err, O_CLOEXEC) < 0)
                return log_error_errno(errno, "pipe: %m");
        go_r = pipe_go[0];
        go_w = pipe_go[1];
        err_r = pipe_err[0];
        err_w = pipe_err[1];

        /* SIGCHLD/SIGINT/SIGTERM/SIGHUP through a signalfd, blocked from here on (the child unblocks). */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        fflush(stdout);
        fflush(stderr);
        child = (pid_t) syscall(SYS_clone, CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|CLONE_NEWIPC|SIGCHLD, NULL, NULL, NULL, 0);
        if (child < 0)
                return log_error_errno(errno, "Failed to create the pod's namespaces: %m");
        if (child == 0) {
                sigprocmask(SIG_UNBLOCK, &mask, NULL);
                go_w = safe_close(go_w);
                err_r = safe_close(err_r);
                child_main(m, pod_dir, root, go_r, err_w);
        }
        go_r = safe_close(go_r);
        err_w = safe_close(err_w);

        if (keep_unit) {
                r = machine_split_unit_cgroup(child);
                if (r < 0) {
                        log_error_errno(r, "Failed to move the pod into its own cgroup in our unit: %m");
                        goto kill_child;
                }
        }
        r = machine_register(m, child, root, keep_unit, &reg);
        if (r < 0)
                goto kill_child;
        {
                char pid[32];

                snprintf(pid, sizeof pid, "%i\n", (int) child);
                r = write_stamp(POD_FD, "pid", pid);
                if (r < 0) {
                        log_error_errno(r, "Failed to record the pod's PID: %m");
                        goto kill_child;
                }
        }
        if (write(go_w, "g", 1) != 1) {
                r = log_error_errno(errno, "Failed to start the pod: %m");
                goto kill_child;
        }
        go_w = safe_close(go_w);

        n = read(err_r, buf, sizeof buf - 1);
        if (n > 0) {
                buf[n] = 0;
                (void) waitpid(child, NULL, 0);
                r = log_error_errno(SYNTHETIC_ERRNO(EIO), "%s", buf);
                goto finish;
        }

        r = supervise(child, out, &status);
        if (r < 0)
                goto kill_child;
        if (out)
                (void) app_output_flush(out);
        goto finish;

kill_child:
        (void) kill(child, SIGKILL);
        (void) waitpid(child, NULL, 0);
finish:
        machine_unregister(reg);
        {
                char now[32];
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                snprintf(now, sizeof now, "%lld\n", (long long) ts.tv_sec);
                (void) write_stamp(POD_FD, "exited", now);
        }
        app_output_free(out);
        if (r < 0)
                return r;

        /* How the pod ended: the first app that failed, else 0; if no app could record its exit (the pod
         * was killed), how its PID 1 ended. */
        {
                _cleanup_(pod_freep) Pod *p = NULL;
                _cleanup_close_ int pods_fd = openat(POD_FD, "../..", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
                int ex = -ENODATA;

                if (pods_fd >= 0 && pod_load(pods_fd, POD_RUNNING, m->uuid, &p) >= 0)
                        ex = pod_exit_status(p);
                if (ex >= 0)
                        return ex;
                if (WIFSIGNALED(status))
                        return 128 + WTERMSIG(status);
                return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
        }
}
