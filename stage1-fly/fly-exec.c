/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fly.h"
#include "pty-relay.h"
#include "fs-util.h"
#include "log.h"
#include "stage1-abi.h"
#include "string-util.h"

void fly_init_loop(pid_t app, int *ret_status) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        for (;;) {
                siginfo_t si;
                int status;
                pid_t p;

                while ((p = waitpid(-1, &status, WNOHANG)) > 0)
                        if (p == app) {
                                *ret_status = status;
                                return;
                        }
                if (sigwaitinfo(&mask, &si) > 0 && si.si_signo != SIGCHLD)
                        (void) kill(app, si.si_signo);
        }
}

int fly_leader_pid(const char *machine_id, pid_t *ret) {
        _cleanup_free_ char *text = NULL, *here = NULL;
        char link[64], cwd[PATH_MAX];
        ssize_t n;
        long v;

        if (read_full_file_at(AT_FDCWD, STAGE1_POD_PID, 64, &text, NULL) < 0)
                return -ESRCH;
        v = strtol(text, NULL, 10);
        if (v <= 1)
                return -ESRCH;
        /* The PID may have been reused: the pod's PID 1 works in this pod directory. */
        snprintf(link, sizeof link, "/proc/%li/cwd", v);
        n = readlink(link, cwd, sizeof cwd - 1);
        here = getcwd(NULL, 0);
        if (n <= 0 || !here)
                return -ESRCH;
        cwd[n] = 0;
        if (!streq(cwd, here))
                return -ESRCH;
        *ret = (pid_t) v;
        return 0;
}

/* The command: the pod's namespaces, then the app's confinement by the code that starts the app. */
static _noreturn_ void enter_command(const PodApp *a, const char *root, const PtyRelay *pty, const char *user,
                                     const char *group, char *const *cmd) {
        _cleanup_strv_free_ char **env = NULL;
        AppExec e;
        int r;

        r = pty_relay_attach(pty);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the terminal: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        if (pod_app_exec_for_enter(a, root, user, group, cmd, &e, &env) < 0) {
                log_oom();
                _exit(EXIT_STAGE_ERROR);
        }
        app_exec(&e);
}

int fly_enter(int argc, char *argv[]) {
        enum { ARG_USER = 0x100, ARG_GROUP };
        static const char *const namespaces[] = { "ipc", "pid", "mnt" };
        static const struct option options[] = {
                { "app",   required_argument, NULL, 'a'       },
                { "user",  required_argument, NULL, ARG_USER  },
                { "group", required_argument, NULL, ARG_GROUP },
                {}
        };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        char *const default_cmd[] = { (char *) "/bin/sh", NULL };
        PtyRelay pty = { .master_fd = -EBADF, .slave_fd = -EBADF };
        const char *user = NULL, *group = NULL;
        char *const *cmd;
        _cleanup_free_ char *root = NULL, *here = NULL;
        char mid[33], path[PATH_MAX];
        int fds[3], c, r;
        pid_t pid, child;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        break;  /* one app: it is that one */
                case ARG_USER:
                        user = optarg;
                        break;
                case ARG_GROUP:
                        group = optarg;
                        break;
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "enter: unknown option.");
                }
        cmd = optind < argc ? argv + optind : default_cmd;
        (void) close(STAGE1_POD_FD);    /* the pod directory: not for the entered command */
        r = fly_load_pod(&m, mid);
        if (r < 0)
                return r;
        if (fly_leader_pid(mid, &pid) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is not running.", m->uuid);
        here = getcwd(NULL, 0);
        if (!here || asprintf(&root, "%s/stage1/rootfs", here) < 0)
                return log_oom();
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++) {
                snprintf(path, sizeof path, "/proc/%i/ns/%s", (int) pid, namespaces[i]);
                fds[i] = open(path, O_RDONLY|O_CLOEXEC);
                if (fds[i] < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        for (size_t i = 0; i < ELEMENTSOF(namespaces); i++)
                if (setns(fds[i], 0) < 0)
                        return log_error_errno(errno, "Failed to enter the pod's %s namespace: %m", namespaces[i]);
        /* A terminal of the pod's own devpts (its /dev), so that the command knows it by name. */
        if (pty_relay_init(&pty) > 0) {
                snprintf(path, sizeof path, "%s/dev/pts/ptmx", root);
                r = pty_relay_open_at(&pty, path);
                if (r < 0)
                        return log_error_errno(r, "Failed to allocate a pseudo-terminal in the pod: %m");
        }
        child = pty_relay_fork(&pty);
        if (child < 0)
                return log_error_errno(child, "fork: %m");
        if (child == 0)
                enter_command(&m->apps[0], root, &pty, user, group, cmd);
        r = pty_relay_wait(&pty, child);
        pty_relay_done(&pty);
        if (r < 0)
                return log_error_errno(r, "Failed to wait for the command: %m");
        return r;
}
