/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1-fly: a chroot-only stage1 for trusted system tools. One app; new mount, PID and IPC namespaces,
 * the host's network and UTS; no systemd inside and no machined registration. Reduced isolation, not
 * none: the app is started by app_exec() (app-exec.h), the code stage1-systemd's apps and every enter
 * go through, and gets a /dev of its own and, on a terminal, a pseudo-terminal relayed by us. Same
 * entrypoint contract as every stage1 (rocket-stage1(7)): run, enter, stop, gc, by the name it is
 * called as. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "dev-setup.h"
#include "exit-record.h"
#include "fly.h"
#include "fs-util.h"
#include "log.h"
#include "pod-manifest.h"
#include "pty-relay.h"
#include "stage1-abi.h"
#include "string-util.h"
#include "time-util.h"


int fly_load_pod(PodManifest **ret, char mid[static 33]) {
        int r = pod_manifest_load_at(AT_FDCWD, STAGE1_POD_MANIFEST, ret);

        if (r < 0)
                return log_error_errno(r, "Failed to load the pod manifest: %m");
        if ((*ret)->n_apps != 1)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "The fly stage1 runs exactly one app, not %zu.",
                                       (*ret)->n_apps);
        return pod_machine_id((*ret)->uuid, mid);
}

/* The app's rootfs: its layers under the pod's writable layer, at stage1/rootfs. */
static int mount_rootfs(const PodManifest *m, const PodApp *a, const char *pod_dir, const char *root) {
        _cleanup_free_ char *lower = NULL, *opts = NULL, *upper = NULL, *work = NULL;

        /* --no-overlay: a copy of the layers in the app's directory, bind-mounted. */
        if (m->no_overlay)
                return pod_app_rootfs_copy_bind(a, pod_dir, root);

        if (pod_app_lowerdir(a, &lower) < 0)
                return -ENOMEM;
        if (asprintf(&upper, "%s/apps/%s/upper", pod_dir, a->name) < 0 ||
            asprintf(&work, "%s/apps/%s/work", pod_dir, a->name) < 0 ||
            asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
                return -ENOMEM;
        if (mkdir_p_at(AT_FDCWD, upper, 0755) < 0 || mkdir_p_at(AT_FDCWD, work, 0755) < 0)
                return -errno;
        if (chdir(a->layers_dir) < 0)
                return -errno;
        if (mount("overlay", root, "overlay", MS_NODEV, opts) < 0)
                return -errno;
        return chdir(pod_dir) < 0 ? -errno : 0;
}

static int bind_into(const char *root, const char *src, const char *dst, unsigned long flags) {
        _cleanup_free_ char *p = NULL;
        int r;

        if (asprintf(&p, "%s%s", root, dst) < 0)
                return -ENOMEM;
        r = mkdir_p_at(AT_FDCWD, p, 0755);
        if (r < 0)
                return r;
        if (mount(src, p, NULL, MS_BIND|MS_REC, NULL) < 0)
                return -errno;
        /* A read-only remount is not recursive: mount_setattr() is, for the submounts of /sys too. */
        if (flags & MS_RDONLY) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV };

                if (syscall(SYS_mount_setattr, AT_FDCWD, p, AT_RECURSIVE, &attr, sizeof attr) < 0)
                        return -errno;
        }
        return 0;
}

static void record_exit(const PodManifest *m, int status) {
        char path[PATH_MAX], line[EXIT_RECORD_MAX];
        ExitRecord rec;

        exit_record_from_wait_status(status, now_realtime_usec(), &rec);
        if (exit_record_format(&rec, line) < 0)
                return;
        snprintf(path, sizeof path, STAGE1_APP_EXIT, m->apps[0].name);
        (void) write_file_atomic_at(STAGE1_POD_FD, path, line, strlen(line), 0644);
}

static _noreturn_ void child(const PodManifest *m, const char *pod_dir, int go_fd, PtyRelay *pty, int pty_sock) {
        const PodApp *a = &m->apps[0];
        _cleanup_free_ char *root = NULL, *proc = NULL;
        pid_t app;
        char c;
        int r, status;

        if (read(go_fd, &c, 1) != 1)
                _exit(EXIT_STAGE_ERROR);
        if (asprintf(&root, "%s/stage1/rootfs", pod_dir) < 0 || asprintf(&proc, "%s/stage1/rootfs/proc", pod_dir) < 0)
                _exit(EXIT_STAGE_ERROR);
        if (mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) < 0) {
                log_error_errno(errno, "Failed to make / a slave mount: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        r = mkdir_p_at(AT_FDCWD, root, 0755);
        if (r >= 0)
                r = mount_rootfs(m, a, pod_dir, root);
        if (r < 0) {
                log_error_errno(r, "Failed to mount the app's rootfs: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        /* A /dev of its own (never the host's: its disks, its /dev/shm, its terminals), the host's /sys
         * read-only, a /proc of the pod's PID namespace. */
        r = dev_setup(root, 0);
        if (r >= 0)
                r = bind_into(root, "/sys", "/sys", MS_RDONLY);
        if (r >= 0 && (mkdir_p_at(AT_FDCWD, proc, 0555) < 0 || mount("proc", proc, "proc", MS_NOSUID|MS_NODEV|MS_NOEXEC, NULL) < 0))
                r = -errno;
        if (r < 0) {
                log_error_errno(r, "Failed to mount the app's /dev, /sys or /proc: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        /* On a terminal: one of the pod's own devpts, its master to rocket's side to relay. */
        if (pty_sock >= 0) {
                _cleanup_free_ char *ptmx = NULL;

                if (asprintf(&ptmx, "%s/dev/pts/ptmx", root) < 0)
                        _exit(EXIT_STAGE_ERROR);
                r = pty_relay_open_at(pty, ptmx);
                if (r >= 0)
                        r = pty_relay_send_master(pty, pty_sock);
                if (r < 0) {
                        log_error_errno(r, "Failed to allocate the pod's pseudo-terminal: %m");
                        _exit(EXIT_STAGE_ERROR);
                }
                safe_close(pty_sock);
        }

        /* PID 1 of the pod: start the app, pass signals on, reap, leave with the app's status. */
        app = fork();
        if (app < 0)
                _exit(EXIT_STAGE_ERROR);
        if (app == 0) {
                AppExec e;

                /* A session of its own even without a terminal to relay: never the caller's. */
                r = pty_relay_attach(pty);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up the terminal: %m");
                        _exit(EXIT_STAGE_ERROR);
                }
                pod_app_exec_init(a, root, &e);
                app_exec(&e);
        }
        pty_relay_done(pty);
        fly_init_loop(app, &status);
        /* Recorded here, by the pod itself, so a killed 'rocket run' loses nothing. */
        record_exit(m, status);
        {
                char now[32];

                snprintf(now, sizeof now, "%lld\n", (long long) time(NULL));
                (void) write_file_volatile_at(STAGE1_POD_FD, STAGE1_POD_EXITED, now, strlen(now), 0644);
                /* fly leaves nothing outside the pod directory: gc needs no entrypoint of ours. */
                (void) write_file_volatile_at(STAGE1_POD_FD, STAGE1_POD_CLEAN, "", 0, 0644);
        }
        _exit(wait_status_to_exit_code(status));
}

static int on_pod_exit(sd_event_source *s, const siginfo_t *si, void *userdata) {
        int *status = userdata;

        *status = wait_status_from_siginfo(si);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) kill(*(pid_t *) userdata, SIGTERM);
        return 0;
}

/* Until the pod's PID 1 ends, passing SIGINT, SIGTERM and SIGHUP on as SIGTERM (all blocked already). */
static int wait_pod(pid_t pod, int *ret_status) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        int r;

        r = sd_event_new(&e);
        if (r >= 0)
                r = sd_event_add_child(e, NULL, pod, WEXITED, on_pod_exit, ret_status);
        for (size_t i = 0; r >= 0 && i < 3; i++)
                r = sd_event_add_signal(e, NULL, (const int[]) { SIGINT, SIGTERM, SIGHUP }[i], on_stop_signal, &pod);
        if (r >= 0)
                r = sd_event_loop(e);
        return r;
}

static int fly_run(int argc, char *argv[]) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_free_ char *pod_dir = NULL;
        PtyRelay pty = { .master_fd = -EBADF, .slave_fd = -EBADF };
        int pipe_go[2], pty_socks[2] = { -EBADF, -EBADF }, status = 0;
        char mid[33], pid[32], self[64];
        sigset_t mask;
        pid_t c;
        int r;

        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--debug"))
                        log_set_max_level(LOG_DEBUG);
        /* fd 3 stays open in the pod's PID 1 (it is not close-on-exec there): the pod holds its own lock. */
        r = fly_load_pod(&m, mid);
        if (r < 0)
                return r;
        snprintf(self, sizeof self, "/proc/self/fd/%i", STAGE1_POD_FD);
        pod_dir = realpath(self, NULL);
        if (!pod_dir)
                return log_error_errno(errno, "fd 3 is not the pod directory: %m");
        if (pipe2(pipe_go, O_CLOEXEC) < 0)
                return log_error_errno(errno, "pipe: %m");
        /* Never the caller's terminal: a pseudo-terminal of the pod's, relayed. */
        if (pty_relay_init(&pty) > 0 && socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, pty_socks) < 0)
                return log_error_errno(errno, "socketpair: %m");

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);      /* so that the wait below wakes when the pod ends */
        sigprocmask(SIG_BLOCK, &mask, NULL);

        c = (pid_t) syscall(SYS_clone, CLONE_NEWNS|CLONE_NEWPID|(m->ipc_parent ? 0 : CLONE_NEWIPC)|SIGCHLD, NULL, NULL,
                            NULL, 0);
        if (c < 0)
                return log_error_errno(errno, "Failed to create the pod's namespaces: %m");
        if (c == 0) {
                sigprocmask(SIG_UNBLOCK, &mask, NULL);
                safe_close(pipe_go[1]);
                safe_close(pty_socks[0]);
                child(m, pod_dir, pipe_go[0], &pty, pty_socks[1]);
        }
        safe_close(pipe_go[0]);
        pty_socks[1] = safe_close(pty_socks[1]);
        snprintf(pid, sizeof pid, "%i\n", (int) c);
        r = write_file_volatile_at(STAGE1_POD_FD, STAGE1_POD_PID, pid, strlen(pid), 0644);
        if (r < 0 || write(pipe_go[1], "g", 1) != 1) {
                kill(c, SIGKILL);
                waitpid(c, NULL, 0);
                return log_error_errno(r < 0 ? r : -errno, "Failed to start the pod: %m");
        }
        safe_close(pipe_go[1]);
        /* The app is told to start: as ready as fly can tell. */
        (void) write_file_volatile_at(STAGE1_POD_FD, STAGE1_POD_READY, "", 0, 0644);

        /* No master: the pod failed before it had one, and said why; its status follows. */
        if (pty_socks[0] >= 0 && pty_relay_recv_master(&pty, pty_socks[0]) >= 0) {
                safe_close(pty_socks[0]);
                r = pty_relay_run(&pty, c, true, &status);
                pty_relay_done(&pty);
                if (r < 0)
                        return log_error_errno(r, "Failed to relay the pod's terminal: %m");
                return wait_status_to_exit_code(status);
        }
        /* SIGINT/SIGTERM/SIGHUP to us: to the pod's PID 1, which passes them to the app. */
        r = wait_pod(c, &status);
        if (r < 0)
                return log_error_errno(r, "Failed to wait for the pod: %m");
        return wait_status_to_exit_code(status);
}

static int fly_stop(int argc, char *argv[]) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        bool force = argc > 1 && streq(argv[1], "--force");
        char mid[33];
        pid_t pid;
        int r;

        r = fly_load_pod(&m, mid);
        if (r < 0)
                return r;
        r = fly_leader_pid(mid, &pid);
        if (r < 0)
                return log_error_errno(r, "Pod %s is not running.", m->uuid);
        if (kill(pid, force ? SIGKILL : SIGTERM) < 0)
                return log_error_errno(errno, "Failed to signal pod %s: %m", m->uuid);
        return 0;
}

static int fly_gc(int argc, char *argv[]) {
        return 0;       /* nothing outside the pod directory */
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char *copy = strdup(argv[0]);
        const char *name = copy ? basename(copy) : argv[0];
        int r;

        log_setup("rocket");
        if (argc > 1 && !IN_SET(name[0], 'r', 'e', 's', 'g')) {
                name = argv[1];
                argc--;
                argv++;
        }
        if (streq(name, "run"))
                r = fly_run(argc, argv);
        else if (streq(name, "enter"))
                r = fly_enter(argc, argv);
        else if (streq(name, "stop"))
                r = fly_stop(argc, argv);
        else if (streq(name, "gc"))
                r = fly_gc(argc, argv);
        else {
                fprintf(stderr, "rocket stage1-fly: unknown entrypoint '%s' (run, enter, stop, gc).\n", name);
                return 2;
        }
        return r < 0 ? EXIT_STAGE_ERROR : r;
}
