/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket-pod-helper: runs inside the pod, under the pod's systemd, from the stage1 image. Linked against
 * libc, libcap and libseccomp only (libraries the image's systemd loads anyway).
 *
 *   hold-lock DIR            take a shared lock on DIR and keep it while the pod runs (Type=forking)
 *   exec APP [--user=U] [--group=G] [--workdir=W] [--supplementary-gids=GID,...] [--oom-score-adj=N]
 *            [--caps=CAP,...] [--no-new-privs] [--no-user-namespaces]
 *            [--mask-paths] [--seccomp=retain|remove --syscalls=NAME,... [--seccomp-errno=E]]
 *            [--stdin=M --stdout=M --stderr=M [--wait-attach]] -- CMD [ARGS...]
 *                            the app's process, confined by app_exec() (app-exec.h) as every stage1's is;
 *                            with a tty or stream among its I/O modes, our child, and we its I/O
 *                            multiplexer (io-mux.h)
 *   wait-path APP PATH       wait until PATH exists in the app's rootfs (ExecStartPost=, for readiness),
 *                            failing if the app ($MAINPID) exits first
 *   app-started APP          record that the app started ($MAINPID, the time), forgetting an earlier exit
 *                            (ExecStartPost= in a sandbox, whose apps start and stop on request)
 *   app-exited [--keep-pod] APP
 *                            record the app's exit ($EXIT_CODE, $EXIT_STATUS) and power the pod off
 *                            when it failed or was the last one running; --keep-pod (a sandbox): only
 *                            record it
 *
 * Called as sh (the stage1's /usr/bin/sh): the shell entry of machinectl shell and login (see there).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "app-exec.h"
#include "exit-record.h"
#include "io-mux.h"
#include "stage1-abi.h"
#include "time-util.h"


static const char *app_name = "rocket-pod-helper";

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int code, const char *fmt, ...) {
        va_list ap;

        fprintf(stderr, "%s: ", app_name);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

static const char *value_of(const char *arg, const char *option) {
        size_t n = strlen(option);

        return strncmp(arg, option, n) == 0 ? arg + n : NULL;
}

static bool valid_name(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int hold_lock(const char *dir) {
        int fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        pid_t pid;

        if (fd < 0)
                return fail(1, "cannot open %s: %m", dir);
        if (flock(fd, LOCK_SH) < 0)
                return fail(1, "cannot lock %s: %m", dir);
        pid = fork();
        if (pid < 0)
                return fail(1, "fork: %m");
        if (pid > 0)
                return 0;       /* the child keeps the lock: it shares the open file description */
        setsid();
        for (;;)
                pause();
}

/* "a,b,c" into a NULL-terminated list (in place). */
static char **split_list(char *s) {
        size_t n = 1;
        char **l, *save = NULL;

        for (const char *c = s; *c; c++)
                n += *c == ',';
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return NULL;
        n = 0;
        for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save))
                l[n++] = t;
        return l;
}

/* The app's service: the unit's options into an AppExec, then the executor every stage1 shares. */
static int exec_app(int argc, char *argv[]) {
        AppExec e = { .caps_all = true, .keep_env = true };
        IoMuxConfig io = { .in = APP_IO_NULL, .out = APP_IO_LOG, .err = APP_IO_LOG };
        gid_t *gids = NULL;
        bool mux = false;
        const char *listen_fds = getenv("LISTEN_FDS"), *listen_pid = getenv("LISTEN_PID");
        char root[PATH_MAX];
        int i;

        if (argc < 2 || !valid_name(argv[1]))
                return fail(1, "exec: missing or invalid app name");
        app_name = e.name = argv[1];
        for (i = 2; i < argc; i++) {
                const char *v;

                if (strcmp(argv[i], "--") == 0) {
                        i++;
                        break;
                }
                if ((v = value_of(argv[i], "--user=")))
                        e.user = v;
                else if ((v = value_of(argv[i], "--group=")))
                        e.group = v;
                else if ((v = value_of(argv[i], "--workdir=")))
                        e.workdir = v;
                else if ((v = value_of(argv[i], "--supplementary-gids="))) {
                        char **l = split_list(argv[i] + strlen("--supplementary-gids="));
                        size_t n = 0;

                        while (l && l[n])
                                n++;
                        gids = calloc(n + 1, sizeof(gid_t));
                        if (!l || !gids)
                                return fail(1, "out of memory");
                        for (size_t k = 0; k < n; k++)
                                gids[k] = (gid_t) strtoul(l[k], NULL, 10);
                        e.extra_gids = gids;
                        e.n_extra_gids = n;
                        free(l);
                } else if ((v = value_of(argv[i], "--oom-score-adj="))) {
                        e.oom_score_adj = atoi(v);
                        e.oom_score_adj_set = true;
                }
                else if ((v = value_of(argv[i], "--caps="))) {
                        e.caps = split_list(argv[i] + strlen("--caps="));
                        e.caps_all = false;
                        if (!e.caps)
                                return fail(1, "out of memory");
                } else if ((v = value_of(argv[i], "--seccomp=")))
                        e.seccomp_mode = v;
                else if ((v = value_of(argv[i], "--syscalls="))) {
                        e.seccomp_syscalls = split_list(argv[i] + strlen("--syscalls="));
                        if (!e.seccomp_syscalls)
                                return fail(1, "out of memory");
                } else if ((v = value_of(argv[i], "--seccomp-errno=")))
                        e.seccomp_errno = v;
                else if (strcmp(argv[i], "--no-new-privs") == 0)
                        e.no_new_privs = true;
                else if (strcmp(argv[i], "--no-user-namespaces") == 0)
                        e.no_user_namespaces = true;
                else if (strcmp(argv[i], "--mask-paths") == 0)
                        e.mask_paths = true;
                else if ((v = value_of(argv[i], "--stdin=")) || (v = value_of(argv[i], "--stdout=")) ||
                         (v = value_of(argv[i], "--stderr="))) {
                        AppIOMode m = app_io_mode_from_string(v);

                        if (m < 0)
                                return fail(1, "exec: invalid I/O mode '%s'", argv[i]);
                        *(argv[i][5] == 'i' ? &io.in : argv[i][5] == 'o' ? &io.out : &io.err) = m;
                        mux = mux || m == APP_IO_TTY || m == APP_IO_STREAM;
                } else if (strcmp(argv[i], "--wait-attach") == 0)
                        io.wait_attach = true;
                else
                        return fail(1, "exec: unknown argument '%s'", argv[i]);
        }
        if (i >= argc)
                return fail(1, "exec: no command");
        snprintf(root, sizeof root, STAGE1_STAGE2_DIR "/%s/rootfs", app_name);
        e.root = root;
        e.argv = argv + i;
        /* Socket activation: systemd passed these to the app (fds 3…), and nothing else. */
        if (listen_fds && listen_pid && atol(listen_pid) == (long) getpid())
                e.n_keep_fds = (unsigned) strtoul(listen_fds, NULL, 10);
        /* A terminal or streams: kept by us, the app our child (its exit status ours). */
        if (mux)
                io_mux_exec(&e, &io);
        app_exec(&e);
}

static bool all_exited(void) {
        DIR *d = opendir(STAGE1_POD_DIR "/apps");
        struct dirent *de;
        bool all = true;

        if (!d)
                return false;
        while ((de = readdir(d)) && all) {
                char p[PATH_MAX];

                if (de->d_name[0] == '.')
                        continue;
                snprintf(p, sizeof p, STAGE1_POD_DIR "/apps/%s/exit", de->d_name);
                if (access(p, F_OK) < 0)
                        all = false;
        }
        closedir(d);
        return all;
}

/* apps/APP/NAME, replaced atomically (through .NAME.tmp) and synced. */
static int write_app_file(const char *name, const char *content) {
        char path[PATH_MAX], tmp[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof path, STAGE1_POD_DIR "/apps/%s/%s", app_name, name);
        snprintf(tmp, sizeof tmp, STAGE1_POD_DIR "/apps/%s/.%s.tmp", app_name, name);
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        fputs(content, f);
        if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
                int r = -errno;

                fclose(f);
                return r;
        }
        fclose(f);
        return rename(tmp, path) < 0 ? -errno : 0;
}

static int app_started(int argc, char *argv[]) {
        const char *mainpid = getenv("MAINPID");
        char line[64], path[PATH_MAX];
        int r;

        if (argc < 2 || !valid_name(argv[1]))
                return fail(1, "app-started: missing or invalid app name");
        app_name = argv[1];
        snprintf(path, sizeof path, STAGE1_POD_DIR "/" STAGE1_APP_EXIT, app_name);
        if (unlink(path) < 0 && errno != ENOENT)
                return fail(1, "cannot forget the earlier exit: %m");
        snprintf(line, sizeof line, "%llu %ld\n", (unsigned long long) now_realtime_usec(),
                 mainpid ? atol(mainpid) : 0L);
        r = write_app_file(STAGE1_APP_STARTED_FILE, line);
        if (r < 0) {
                errno = -r;
                return fail(1, "cannot record the start: %m");
        }
        return 0;
}

static int app_exited(int argc, char *argv[]) {
        char line[EXIT_RECORD_MAX];
        bool keep_pod = argc >= 2 && strcmp(argv[1], "--keep-pod") == 0;
        uint64_t now;
        ExitRecord rec;
        int r;

        if (keep_pod) {
                argc--;
                argv++;
        }
        if (argc < 2 || !valid_name(argv[1]))
                return fail(1, "app-exited: missing or invalid app name");
        app_name = argv[1];
        now = now_realtime_usec();
        /* Never started (a failed condition or dependency): recorded as a failure. */
        if (exit_record_from_systemd(getenv("EXIT_CODE"), getenv("EXIT_STATUS"), now, &rec) < 0)
                (void) exit_record_from_systemd("exited", "1", now, &rec);
        if (exit_record_format(&rec, line) < 0)
                return fail(1, "cannot record the exit: unknown signal %i", rec.status);

        r = write_app_file(STAGE1_APP_EXIT_FILE, line);
        if (r < 0) {
                errno = -r;
                return fail(1, "cannot record the exit: %m");
        }
        if (keep_pod)
                return 0;

        /* The pod ends when an app fails (as rkt's did): a graceful poweroff, so the other apps get SIGTERM
         * and their exits are recorded. When the last app has exited there is nothing left to stop
         * gracefully: an immediate poweroff (systemd-shutdown at once; journald still syncs on SIGTERM),
         * which spares the pod's systemd a stop job for each of its mounts. */
        if (exit_record_failed(&rec)) {
                if (kill(1, SIGRTMIN + 4) < 0)
                        return fail(1, "cannot power the pod off: %m");
        } else if (all_exited())
                if (kill(1, SIGRTMIN + 14) < 0)
                        return fail(1, "cannot power the pod off: %m");
        return 0;
}

static int wait_path(int argc, char *argv[]) {
        const char *mainpid = getenv("MAINPID");
        char root[PATH_MAX];
        struct open_how how = { .flags = O_PATH|O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
        int root_fd;

        if (argc < 3 || !valid_name(argv[1]) || argv[2][0] != '/')
                return fail(1, "wait-path: usage: wait-path APP /PATH");
        app_name = argv[1];
        snprintf(root, sizeof root, STAGE1_STAGE2_DIR "/%s/rootfs", app_name);
        root_fd = open(root, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (root_fd < 0)
                return fail(1, "cannot open %s: %m", root);
        for (;;) {
                long fd = syscall(SYS_openat2, root_fd, argv[2], &how, sizeof how);

                if (fd >= 0)
                        return 0;
                if (errno != ENOENT)
                        return fail(1, "cannot check %s: %m", argv[2]);
                if (mainpid && kill((pid_t) atol(mainpid), 0) < 0 && errno == ESRCH)
                        return fail(1, "exited before %s appeared", argv[2]);
                usleep(10 * 1000);
        }
}

/* A file of NUL-terminated words (units.c: write_words()) as a NULL-terminated list pointing into *buf;
 * NULL if it cannot be read whole (at most 1 MiB). */
static char **read_words(const char *path, char **buf) {
        const size_t max = 1024 * 1024;
        char **l;
        size_t size = 0, n = 0;
        ssize_t k = 1;
        int fd = open(path, O_RDONLY|O_CLOEXEC|O_NOFOLLOW);

        if (fd < 0)
                return NULL;
        *buf = malloc(max + 1);
        while (*buf && size < max && (k = read(fd, *buf + size, max - size)) > 0)
                size += (size_t) k;
        close(fd);
        if (!*buf || k < 0 || size == max)
                return NULL;
        (*buf)[size] = 0;
        l = calloc(size + 1, sizeof(char *));
        if (!l)
                return NULL;
        for (size_t i = 0; i < size; i += strlen(*buf + i) + 1)
                l[n++] = *buf + i;
        return l;
}

/* The stage1's /usr/bin/sh, which machinectl shell and login and `systemd-run -M POD /bin/sh` run: the
 * command goes into an app ($ROCKET_APP, else the pod's first), into its service's cgroup and with its
 * environment and confinement (the same executor as the app's own process and `rocket enter`), as the
 * app's /bin/sh with the arguments given. The stage1 itself has no shell to offer. */
static int shell_entry(int argc, char *argv[]) {
        const char *app = getenv("ROCKET_APP"), *term = getenv("TERM");
        char first[64] = "", path[PATH_MAX], *obuf = NULL, *ebuf = NULL, **options, **env, **args;
        size_t n = 0, n_env = 0;
        int fd;

        if (!app) {
                fd = open(STAGE1_APPS_DIR "/default", O_RDONLY|O_CLOEXEC);
                if (fd < 0 || read(fd, first, sizeof first - 1) <= 0)
                        return fail(1, "sh: this pod has no app to enter");
                close(fd);
                app = first;
        }
        if (!valid_name(app))
                return fail(1, "sh: invalid app name '%s'", app);
        app_name = app;
        snprintf(path, sizeof path, STAGE1_APPS_DIR "/%s.exec", app);
        options = read_words(path, &obuf);
        snprintf(path, sizeof path, STAGE1_APPS_DIR "/%s.env", app);
        env = read_words(path, &ebuf);
        if (!options || !env)
                return fail(1, "sh: the pod has no app %s", app);

        /* Its cgroup first, so that its device policy and limits hold from here on. */
        snprintf(path, sizeof path, "/sys/fs/cgroup/system.slice/%s.service/cgroup.procs", app);
        fd = open(path, O_WRONLY|O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1)
                return fail(1, "sh: app %s is not running", app);
        close(fd);

        /* Its environment, with the caller's terminal type. */
        while (env[n_env])
                n_env++;
        if (term) {
                char *t = malloc(strlen(term) + 6), **e = realloc(env, (n_env + 2) * sizeof(char *));

                if (!t || !e)
                        return fail(1, "out of memory");
                env = e;
                sprintf(t, "TERM=%s", term);
                env[n_env++] = t;
                env[n_env] = NULL;
        }
        environ = env;

        /* exec APP OPTIONS… -- /bin/sh ARGS… */
        while (options[n])
                n++;
        args = calloc(n + (size_t) argc + 5, sizeof(char *));
        if (!args)
                return fail(1, "out of memory");
        n = 0;
        args[n++] = (char *) "exec";
        args[n++] = (char *) app;
        for (char **o = options; *o; o++)
                args[n++] = *o;
        args[n++] = (char *) "--";
        args[n++] = (char *) "/bin/sh";
        for (int i = 1; i < argc; i++)
                args[n++] = argv[i];
        return exec_app((int) n, args);
}

int main(int argc, char *argv[]) {
        const char *base = strrchr(argv[0], '/');

        if (strcmp(base ? base + 1 : argv[0], "sh") == 0)
                return shell_entry(argc, argv);
        if (argc >= 3 && strcmp(argv[1], "hold-lock") == 0)
                return hold_lock(argv[2]);
        if (argc >= 2 && strcmp(argv[1], "exec") == 0)
                return exec_app(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "wait-path") == 0)
                return wait_path(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "app-exited") == 0)
                return app_exited(argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "app-started") == 0)
                return app_started(argc - 1, argv + 1);
        return fail(1, "usage: rocket-pod-helper hold-lock DIR | exec APP ... -- CMD | wait-path APP PATH | app-started APP | app-exited [--keep-pod] APP");
}
