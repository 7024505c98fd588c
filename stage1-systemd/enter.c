/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The enter entrypoint: a command in one app of a running pod, with exactly that app's confinement.
 *
 * Three processes: we stay on the host, in our own namespaces; a child joins the app's cgroup and the
 * pod's namespaces as host root (so nothing in the pod can trace it) and forks the command, which alone
 * enters the pod's user namespace and then goes through app_exec(), the same code that starts the app's
 * own process: its rootfs as root, its masked paths, user, bounding set, no_new_privs and seccomp
 * filter. Nothing of the stage1's tree or of ours (no fd, no capability beyond the app's) reaches the
 * command. On a terminal the command gets a pseudo-terminal of its own, relayed by us (pty-relay.h). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "pty-relay.h"
#include "stage1.h"
#include "string-util.h"
#include "exit-record.h"

static const char *const pod_namespaces[] = { "net", "ipc", "uts", "cgroup", "pid", "mnt" };

typedef struct EnterContext {
        int ns_fds[ELEMENTSOF(pod_namespaces)];
        int userns_fd;          /* -EBADF: the pod shares ours */
        pid_t leader;
        const PodApp *app;
        const char *user;       /* --user, --group: instead of the app's */
        const char *group;
        char *const *cmd;
        PtyRelay pty;
        int pty_sock;           /* the child hands the pseudo-terminal's master to us over this */
        char *mds_env;          /* "AC_METADATA_URL=…" for a pod registered with the metadata service */
} EnterContext;

static int open_namespaces(EnterContext *c) {
        struct stat a, b;
        char path[64];

        for (size_t i = 0; i < ELEMENTSOF(pod_namespaces); i++) {
                snprintf(path, sizeof path, "/proc/%i/ns/%s", (int) c->leader, pod_namespaces[i]);
                c->ns_fds[i] = open(path, O_RDONLY|O_CLOEXEC);
                if (c->ns_fds[i] < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        snprintf(path, sizeof path, "/proc/%i/ns/user", (int) c->leader);
        if (stat(path, &a) < 0 || stat("/proc/self/ns/user", &b) < 0)
                return log_error_errno(errno, "Failed to look at the pod's user namespace: %m");
        c->userns_fd = -EBADF;
        if (a.st_ino != b.st_ino) {
                c->userns_fd = open(path, O_RDONLY|O_CLOEXEC);
                if (c->userns_fd < 0)
                        return log_error_errno(errno, "Failed to open %s: %m", path);
        }
        return 0;
}

/* The command's process: into the pod's user namespace, onto our pseudo-terminal, then the app's
 * confinement, by the code that starts the app itself. */
static _noreturn_ void exec_command(const EnterContext *c) {
        _cleanup_strv_free_ char **env = NULL;
        char root[PATH_MAX];
        AppExec e;
        int r;

        if (c->userns_fd >= 0 && (setns(c->userns_fd, CLONE_NEWUSER) < 0 || setgroups(0, NULL) < 0 ||
                                  setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
                log_error_errno(errno, "Failed to enter the pod's user namespace: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        r = pty_relay_attach(&c->pty);
        if (r < 0) {
                log_error_errno(r, "Failed to set up the terminal: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        snprintf(root, sizeof root, STAGE1_STAGE2_DIR "/%s/rootfs", c->app->name);
        if (pod_app_exec_for_enter(c->app, root, c->user, c->group, c->cmd, &e, &env) < 0 ||
            (c->mds_env && strv_extend(&env, c->mds_env) < 0)) {
                log_oom();
                _exit(EXIT_STAGE_ERROR);
        }
        e.env = env;    /* (extended: where it is now) */
        app_exec(&e);
}

/* The child: the app's cgroup and the pod's namespaces, then the command as its own child (the PID
 * namespace applies to children only). Exits as the command did. */
static _noreturn_ void enter_child(EnterContext *c) {
        pid_t cmd;
        int r, status;

        /* Into the app's cgroup first, so that its limits and device policy apply from here on. */
        r = cgroup_join_app(c->leader, c->app->name, "stage1/rootfs");
        if (r == -ESRCH) {
                log_error("App %s is not running; enter needs its cgroup.", c->app->name);
                _exit(EXIT_STAGE_ERROR);
        }
        if (r < 0) {
                log_error_errno(r, "Failed to join the cgroup of app %s: %m", c->app->name);
                _exit(EXIT_STAGE_ERROR);
        }
        for (size_t i = 0; i < ELEMENTSOF(pod_namespaces); i++)
                if (setns(c->ns_fds[i], 0) < 0) {
                        log_error_errno(errno, "Failed to enter the pod's %s namespace: %m", pod_namespaces[i]);
                        _exit(EXIT_STAGE_ERROR);
                }
        /* The terminal from the pod's own devpts, so that the command knows it by name (tty(1)). */
        if (c->pty_sock >= 0) {
                r = pty_relay_open_at(&c->pty, "/dev/pts/ptmx");
                if (r >= 0)
                        r = pty_relay_send_master(&c->pty, c->pty_sock);
                if (r < 0) {
                        log_error_errno(r, "Failed to allocate a pseudo-terminal in the pod: %m");
                        _exit(EXIT_STAGE_ERROR);
                }
        }
        cmd = fork();
        if (cmd < 0) {
                log_error_errno(errno, "fork: %m");
                _exit(EXIT_STAGE_ERROR);
        }
        if (cmd == 0)
                exec_command(c);
        (void) syscall(SYS_close_range, 3U, ~0U, 0U);
        if (waitpid(cmd, &status, 0) < 0)
                _exit(EXIT_STAGE_ERROR);
        _exit(wait_status_to_exit_code(status));
}

int stage1_enter(int argc, char *argv[]) {
        enum { ARG_USER = 0x100, ARG_GROUP };
        static const struct option options[] = {
                { "app",   required_argument, NULL, 'a'       },
                { "user",  required_argument, NULL, ARG_USER  },
                { "group", required_argument, NULL, ARG_GROUP },
                {}
        };
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        char *const default_cmd[] = { (char *) "/bin/sh", NULL };
        EnterContext c = { .userns_fd = -EBADF, .pty = { .master_fd = -EBADF, .slave_fd = -EBADF }, .pty_sock = -EBADF };
        int socks[2] = { -EBADF, -EBADF };
        const char *app = NULL;
        char mid[33];
        pid_t child;
        int opt, r;

        for (size_t i = 0; i < ELEMENTSOF(c.ns_fds); i++)
                c.ns_fds[i] = -EBADF;
        optind = 0;
        while ((opt = getopt_long(argc, argv, "+", options, NULL)) >= 0)
                switch (opt) {
                case 'a':
                        app = optarg;
                        break;
                case ARG_USER:
                        c.user = optarg;
                        break;
                case ARG_GROUP:
                        c.group = optarg;
                        break;
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "enter: unknown option.");
                }
        c.cmd = optind < argc ? argv + optind : default_cmd;
        /* The pod directory (fd 3) must not reach the command: it is a way out of the app's root. */
        (void) close(STAGE1_POD_FD);

        r = stage1_load_pod(&m, mid);
        if (r < 0)
                return r;
        if (!app && m->n_apps == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no apps to enter.", m->uuid);
        c.app = app ? pod_manifest_find_app(m, app) : &m->apps[0];
        if (!c.app)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", m->uuid, app);
        r = stage1_leader_pid_wait(mid, &c.leader);
        if (r < 0)
                return log_error_errno(r, "Pod %s is not running.", m->uuid);
        /* What the app has of the pod's metadata service, the command has too (the pod directory is our
         * working directory). */
        {
                _cleanup_free_ char *url = NULL;

                r = pod_mds_url(m, AT_FDCWD, &url);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the pod's metadata service token and address: %m");
                if (url && asprintf(&c.mds_env, "AC_METADATA_URL=%s", url) < 0)
                        return log_oom();
        }
        r = open_namespaces(&c);
        if (r < 0)
                return r;
        if (pty_relay_init(&c.pty) > 0 && socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC, 0, socks) < 0)
                return log_error_errno(errno, "socketpair: %m");

        child = pty_relay_fork(&c.pty);
        if (child < 0)
                return log_error_errno(child, "fork: %m");
        if (child == 0) {
                socks[0] = safe_close(socks[0]);
                c.pty_sock = socks[1];
                enter_child(&c);
        }
        socks[1] = safe_close(socks[1]);
        for (size_t i = 0; i < ELEMENTSOF(c.ns_fds); i++)
                safe_close(c.ns_fds[i]);
        safe_close(c.userns_fd);
        /* No master: the child failed before it had one, and said why; then we only wait. */
        if (socks[0] >= 0)
                (void) pty_relay_recv_master(&c.pty, socks[0]);
        r = pty_relay_wait(&c.pty, child);
        pty_relay_done(&c.pty);
        safe_close(socks[0]);
        free(c.mds_env);
        if (r < 0)
                return log_error_errno(r, "Failed to wait for the command: %m");
        return r;
}
