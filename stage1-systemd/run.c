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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include "fs-util.h"
#include "log.h"
#include "pod.h"
#include "stage1.h"
#include "string-util.h"
#include "exit-record.h"
#include "io-attach.h"


/* The child's report to the parent before it execs systemd: a message, then EOF (close-on-exec) on success. */
static _noreturn_ void child_fail(int err_fd, int r, const char *what) {
        char buf[512];
        /* what == NULL: the error was logged already, the parent only learns that we failed. */
        int n = what ? snprintf(buf, sizeof buf, "%s: %s", what, strerror(ERRNO_VALUE(r))) : snprintf(buf, sizeof buf, "\1");

        if (n > 0)
                (void) !write(err_fd, buf, (size_t) MIN(n, (int) sizeof buf - 1));
        _exit(1);
}

/* The passed sockets at 3… for the pod's systemd, as its own LISTEN_FDS (LISTEN_PID is 1 in the pod). */
static int arrange_listen_fds(const PassedSocket *socks, size_t n) {
        int tmp[64];

        for (size_t i = 0; i < n; i++) {
                tmp[i] = fcntl(socks[i].fd, F_DUPFD_CLOEXEC, 100);
                if (tmp[i] < 0)
                        return -errno;
        }
        for (size_t i = 0; i < n; i++)
                if (dup2(tmp[i], 3 + (int) i) < 0)
                        return -errno;
        return 0;
}

/* --private-users: what the privileged side made (the writable layers' roots, /run, /dev, /etc files, the
 * units) and image layers that could not be idmapped, shifted into the pod's range. */
static int shift_pod_tree(const PodManifest *m) {
        static const char *const trees[] = { "/", "/run", "/tmp", "/dev", "/dev/shm", "/dev/mqueue" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(trees); i++) {
                r = userns_shift_tree(trees[i], m->userns_base);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < m->n_apps; i++) {
                char p[PATH_MAX];

                snprintf(p, sizeof p, STAGE1_STAGE2_DIR "/%s/rootfs", m->apps[i].name);
                r = userns_shift_tree(p, m->userns_base);
                if (r >= 0 && m->apps[i].readonly_rootfs) {
                        _cleanup_close_ int fd = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);

                        r = fd < 0 ? -errno : app_rootfs_make_readonly(&m->apps[i], fd);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static _noreturn_ void child_main(const PodManifest *m, const char *pod_dir, const char *root, int go_fd, int err_fd,
                                  int userns_fd, const PassedSocket *socks, size_t n_socks, bool notify) {
        char mid[33], c;
        const char *env[12];
        size_t n = 0;
        _cleanup_free_ char *e_uuid = NULL, *e_mid = NULL, *e_fds = NULL, *e_names = NULL;
        int r;

        /* Nothing of the pod's mounts may propagate back to the host. */
        if (mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL) < 0)
                child_fail(err_fd, -errno, "Failed to make / a slave mount");
        /* A network of its own: loopback is up before anything in the pod looks (the CNI networks come from
         * the parent meanwhile). */
        if (!m->net.host) {
                r = net_loopback_up();
                if (r < 0)
                        child_fail(err_fd, r, "Failed to bring up the pod's loopback interface");
        }
        /* Most of the pod's filesystem while the parent registers us with machined. */
        r = pod_mount_all(m, pod_dir, root, userns_fd);
        if (r < 0)
                child_fail(err_fd, r, NULL);    /* pod_mount_all() said what */

        /* Registered (and so moved into the pod's scope): the cgroup namespace, and the rest. */
        if (read(go_fd, &c, 1) != 1)
                _exit(1);
        safe_close(go_fd);
        {
                _cleanup_free_ char *v2 = NULL;

                /* The root is mounted already; a cgroup2 mount over it for a moment does no harm. */
                r = cgroup_child_prepare(root, m->userns_base, &v2);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to give the pod a cgroup2 subtree of its own");
                /* Recorded for the stage1's gc, which removes it. */
                if (v2 && write_file_volatile_at(AT_FDCWD, strjoina(pod_dir, "/cgroup"), v2, strlen(v2), 0644) < 0)
                        child_fail(err_fd, -EIO, "Failed to record the pod's cgroup");
        }
        if (unshare(CLONE_NEWCGROUP) < 0)
                child_fail(err_fd, -errno, "Failed to create the cgroup namespace");
        r = pod_mount_finish(m, pod_dir, root, userns_fd);
        if (r < 0)
                child_fail(err_fd, r, NULL);
        {
                _cleanup_close_ int root_fd = open(root, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
                _cleanup_free_ char *mds_url = NULL;

                r = pod_mds_url(m, STAGE1_POD_FD, &mds_url);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to read the pod's metadata service token and address");
                r = root_fd < 0 ? -errno : units_write(root_fd, m, mds_url, socks, n_socks);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to write the pod's units");
        }

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
        if (userns_fd >= 0) {
                r = shift_pod_tree(m);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to shift the pod's files into its user namespace");
                r = userns_enter(userns_fd);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to enter the pod's user namespace");
                safe_close(userns_fd);
        }

        (void) pod_machine_id(m->uuid, mid);
        if (asprintf(&e_uuid, "container_uuid=%s", m->uuid) < 0 || asprintf(&e_mid, "ROCKET_POD_UUID=%s", m->uuid) < 0)
                child_fail(err_fd, -ENOMEM, "Out of memory");
        env[n++] = "container=rocket";
        env[n++] = e_uuid;
        env[n++] = e_mid;
        env[n++] = "PATH=/usr/bin:/usr/sbin";
        env[n++] = "LANG=C.UTF-8";
        if (notify)
                env[n++] = "NOTIFY_SOCKET=" STAGE1_POD_DIR "/notify";
        if (n_socks > 0) {
                _cleanup_strv_free_ char **names = NULL;
                _cleanup_free_ char *joined = NULL;

                for (size_t i = 0; i < n_socks; i++)
                        if (strv_extend(&names, socks[i].name) < 0)
                                child_fail(err_fd, -ENOMEM, "Out of memory");
                if (strv_join(names, ":", &joined) < 0 || asprintf(&e_fds, "LISTEN_FDS=%zu", n_socks) < 0 ||
                    asprintf(&e_names, "LISTEN_FDNAMES=%s", joined) < 0)
                        child_fail(err_fd, -ENOMEM, "Out of memory");
                env[n++] = e_fds;
                env[n++] = e_names;
                env[n++] = "LISTEN_PID=1";
                r = arrange_listen_fds(socks, n_socks);
                if (r < 0)
                        child_fail(err_fd, r, "Failed to pass the sockets to the pod");
        }
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

/* What becomes a directory the apps see (an overlay's root, an empty volume): root's, without the pod
 * directory's group and set-group-ID bit. */
static int mkdir_for_pod(int pod_fd, const char *path) {
        int r = mkdir_p_at(pod_fd, path, 0755);

        if (r < 0)
                return r;
        if (fchownat(pod_fd, path, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(pod_fd, path, 0755, 0) < 0)
                return -errno;
        return 0;
}

static int ensure_dirs(int pod_fd, const PodManifest *m) {
        static const char *const dirs[] = { "stage1/rootfs", "journal", "apps", "volumes" };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                r = mkdir_p_at(pod_fd, dirs[i], 0755);
                if (r < 0)
                        return r;
        }
        r = mkdir_for_pod(pod_fd, "stage1/upper");
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_apps; i++) {
                char p[PATH_MAX];

                snprintf(p, sizeof p, "apps/%s/upper", m->apps[i].name);
                r = mkdir_for_pod(pod_fd, p);
                if (r < 0)
                        return r;
                snprintf(p, sizeof p, "apps/%s/work", m->apps[i].name);
                r = mkdir_p_at(pod_fd, p, 0755);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < m->n_volumes; i++) {
                char p[PATH_MAX];

                const PodVolume *v = &m->volumes[i];

                if (v->kind != VOLUME_EMPTY)
                        continue;
                snprintf(p, sizeof p, "volumes/%s", v->name);
                r = mkdir_for_pod(pod_fd, p);
                if (r < 0)
                        return r;
                /* rkt's mode=, uid=, gid= (with a user namespace, userns_chown_pod_dir() shifts the owner). */
                if (fchownat(pod_fd, p, v->uid, v->gid, AT_SYMLINK_NOFOLLOW) < 0 || fchmodat(pod_fd, p, v->mode, 0) < 0)
                        return -errno;
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

static bool stdout_is_journal(void) {
        return fd_is_journal_stream(STDOUT_FILENO);
}

/* Nobody reads it: no need to follow the journal (an inotify instance and a wakeup per line, per pod). */
static bool stdout_is_null(void) {
        struct stat st;

        return fstat(STDOUT_FILENO, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
               minor(st.st_rdev) == 3;
}

/* The pod's life as structured journal events when rocket runs under systemd (at debug level on a
 * terminal, where the apps' output is what matters). */
#define MESSAGE_POD_STARTED "MESSAGE_ID=7ecdba8ab5bb48a286aa8c1a26500b0c"
#define MESSAGE_POD_EXITED "MESSAGE_ID=30dba63510654eb1ba349e52d3d9ef34"

static void log_pod_event(const PodManifest *m, char *const *addresses, const char *message_id, const char *format,
                          ...) _printf_(4, 5);
static void log_pod_event(const PodManifest *m, char *const *addresses, const char *message_id, const char *format,
                          ...) {
        _cleanup_strv_free_ char **fields = NULL;
        va_list ap;

        /* IMAGE_ID= once per app, so that journalctl IMAGE_ID=… finds the events of every pod using it. */
        if (strv_extend(&fields, message_id) < 0 || strv_extend(&fields, strjoina("POD_UUID=", m->uuid)) < 0 ||
            strv_extend(&fields, strjoina("POD_NAME=", m->name)) < 0)
                return;
        for (size_t i = 0; i < m->n_apps; i++)
                if (!strv_contains(fields, strjoina("IMAGE_ID=", m->apps[i].image_id)) &&
                    strv_extend(&fields, strjoina("IMAGE_ID=", m->apps[i].image_id)) < 0)
                        return;
        /* Which key vouched for each app's image, when one did. */
        for (size_t i = 0; i < m->n_apps; i++)
                if (m->apps[i].image_signer &&
                    !strv_contains(fields, strjoina("IMAGE_SIGNED_BY=", m->apps[i].image_signer)) &&
                    strv_extend(&fields, strjoina("IMAGE_SIGNED_BY=", m->apps[i].image_signer)) < 0)
                        return;
        /* The pod's addresses on its own networks, one POD_IP= each. */
        STRV_FOREACH(a, (char **) addresses)
                if (strv_extend(&fields, strjoina("POD_IP=", *a)) < 0)
                        return;
        va_start(ap, format);
        (void) log_internalv(fd_is_journal_stream(STDERR_FILENO) ? LOG_INFO : LOG_DEBUG, 0,
                             (const char *const *) fields, __FILE__,
                             __LINE__, __func__, format, ap);
        va_end(ap);
}

static int write_stamp(int pod_fd, const char *name, const char *content) {
        return write_file_volatile_at(pod_fd, name, content, strlen(content), 0644);
}

/* Says once, as for an app's limits, which of the pod's own limits this host cannot apply, and records
 * them all for rocket status ("limits"). */
static void record_limits(const PodManifest *m, pid_t leader) {
        _cleanup_free_ char *record = NULL, *missing = NULL;
        int r;

        r = cgroup_pod_limits_in_force(leader, m, &record, &missing);
        if (r < 0) {
                log_debug_errno(r, "Could not tell which of the pod's limits are in force: %m");
                return;
        }
        if (missing)
                log_warning("The pod's %s limit is recorded but not enforced here: its cgroup has no controller for "
                            "it.", missing);
        if (record)
                (void) write_stamp(STAGE1_POD_FD, STAGE1_POD_LIMITS, record);
}

/* The pod's systemd says READY=1 once every app has started (default.target): pass it on, with STATUS=. */
static void relay_notify(int fd, const PodManifest *m, char *const *addresses) {
        char buf[4096];
        ssize_t n;

        while ((n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
                buf[n] = 0;
                for (char *l = buf, *nl; l && *l; l = nl ? nl + 1 : NULL) {
                        nl = strchr(l, '\n');
                        if (nl)
                                *nl = 0;
                        if (streq(l, "READY=1")) {
                                (void) write_stamp(STAGE1_POD_FD, STAGE1_POD_READY, "");
                                (void) sd_notifyf(false, "READY=1\nSTATUS=Running pod %s (%zu app%s)", m->name,
                                                  m->n_apps, m->n_apps == 1 ? "" : "s");
                                log_pod_event(m, addresses, MESSAGE_POD_STARTED,
                                              "Pod %s (%s) is up: %zu app%s started.", m->name, m->uuid, m->n_apps,
                                              m->n_apps == 1 ? "" : "s");
                        }
                        else if (startswith(l, "STOPPING=1"))
                                (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping the pod");
                }
        }
}

/* The pod's supervisor, on sd-event: the pod's PID 1 ending, signals to us (passed on as a poweroff),
 * the pod's readiness notifications, and the apps' output from the pod's journal as it comes. No
 * periodic wakeups but the journal's own timeout. */
typedef struct Supervisor {
        pid_t child;
        AppOutput *out;
        const PodManifest *m;
        char *const *addresses;
        bool stopping;
        int wait_status;
        sd_event_source *journal_timer;         /* owned by supervise() */
} Supervisor;

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        Supervisor *sv = userdata;

        sv->wait_status = wait_status_from_siginfo(si);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Supervisor *sv = userdata;

        /* The pod's systemd re-executes on SIGTERM: ask it to power off instead; a second SIGINT kills. */
        log_debug("Got signal %u, %s the pod.", si->ssi_signo, sv->stopping ? "killing" : "stopping");
        (void) kill(sv->child, sv->stopping && si->ssi_signo == SIGINT ? SIGKILL : SIGRTMIN + 4);
        sv->stopping = true;
        return 0;
}

static int on_notify(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Supervisor *sv = userdata;

        relay_notify(fd, sv->m, sv->addresses);
        return 0;
}

/* The journal wants to be looked at on its fd's events and, at the latest, by its timeout. */
static int journal_rearm(Supervisor *sv) {
        uint64_t usec;
        int r;

        r = app_output_timeout(sv->out, &usec);
        if (r < 0)
                return r;
        r = sd_event_source_set_time(sv->journal_timer, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(sv->journal_timer, usec == UINT64_MAX ? SD_EVENT_OFF : SD_EVENT_ONESHOT);
}

static int on_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Supervisor *sv = userdata;

        (void) app_output_flush(sv->out);
        return journal_rearm(sv);
}

static int on_journal_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return on_journal(s, -EBADF, 0, userdata);
}

static int supervise(pid_t child, AppOutput *out, int notify_fd, const PodManifest *m, char *const *addresses,
                     int *ret_wait_status) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(sd_event_source_unrefp) sd_event_source *journal_timer = NULL;
        Supervisor sv = { .child = child, .out = out, .m = m, .addresses = addresses };
        int r;

        r = sd_event_new(&e);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the supervisor: %m");
        /* SIGCHLD, SIGINT, SIGTERM and SIGHUP are blocked since before the clone. */
        r = sd_event_add_child(e, NULL, child, WEXITED, on_child, &sv);
        for (size_t i = 0; r >= 0 && i < 3; i++)
                r = sd_event_add_signal(e, NULL, (const int[]) { SIGINT, SIGTERM, SIGHUP }[i], on_signal, &sv);
        if (r >= 0 && notify_fd >= 0)
                r = sd_event_add_io(e, NULL, notify_fd, EPOLLIN, on_notify, &sv);
        if (r >= 0 && out) {
                r = sd_event_add_io(e, NULL, app_output_fd(out), app_output_events(out), on_journal, &sv);
                if (r >= 0)
                        r = sd_event_add_time(e, &journal_timer, CLOCK_MONOTONIC, UINT64_MAX, 0,
                                              on_journal_timer, &sv);
                sv.journal_timer = journal_timer;
                if (r >= 0) {
                        (void) app_output_flush(out);
                        r = journal_rearm(&sv);
                }
        }
        if (r < 0)
                return log_error_errno(r, "Failed to set up the supervisor: %m");
        r = sd_event_loop(e);
        if (r < 0)
                return log_error_errno(r, "The supervisor failed: %m");
        *ret_wait_status = sv.wait_status;
        return 0;
}

/* Everything the run entrypoint sets up, undone by run_context_done() whatever step it got to. */
typedef struct RunContext {
        PodManifest *m;
        char *pod_dir, *root;
        char mid[33];
        bool keep_unit;
        int userns_fd, notify_fd;
        PassedSocket *socks;
        size_t n_socks;
        AppOutput *out;
        int go_w, err_r;        /* the child waits for "g" on the one, reports a failure on the other */
        pid_t child;            /* 0 until cloned; reaped: 0 again */
        MachineRegistration *reg;
        PodNetRun net;
        bool net_up;            /* its networks may be (partly) ADDed: DEL them at the end */
        bool net_failed;        /* their setup failed (and said so) */
        bool net_left;          /* something of them could not be taken down: gc tries again */
        int status;             /* how the pod's PID 1 ended */
        pid_t relay;            /* -i: the child relaying our I/O to the app's, 0: none */
} RunContext;

/* The pod's networks DELeted and its host ports free again, once its PID 1 is gone (its addresses stay
 * known for the exit event). */
static void run_end_network(RunContext *c) {
        if (c->net_up) {
                c->net_left = pod_net_teardown(c->m, STAGE1_POD_FD, c->net_failed) < 0;
                c->net_up = false;
        }
        for (size_t i = 0; i < c->net.n_reserved; i++)
                c->net.reserved[i] = safe_close(c->net.reserved[i]);
}

/* The pod is over, one way or another: what is left of it killed, its networks deleted, its machine
 * unregistered, the sockets it was to take closed. Idempotent. */
static void run_end_pod(RunContext *c) {
        if (c->child > 0) {
                (void) kill(c->child, SIGKILL);
                (void) waitpid(c->child, NULL, 0);
                c->child = 0;
        }
        run_end_network(c);
        machine_unregister(TAKE_PTR(c->reg));
        passed_sockets_free(TAKE_PTR(c->socks), c->n_socks);
        c->n_socks = 0;
}

static void run_context_done(RunContext *c) {
        run_end_pod(c);
        pod_net_run_done(&c->net);
        app_output_free(c->out);
        safe_close(c->go_w);
        safe_close(c->err_r);
        safe_close(c->userns_fd);
        safe_close(c->notify_fd);
        free(c->pod_dir);
        free(c->root);
        pod_manifest_free(c->m);
}

static int run_parse_args(int argc, char *argv[], RunContext *c) {
        static const struct option options[] = {
                { "keep-unit", no_argument, NULL, 'k' },
                { "debug", no_argument, NULL, 'd' },
                {}
        };
        int opt;

        optind = 0;
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (opt) {
                case 'k':
                        c->keep_unit = true;
                        break;
                case 'd':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "run: unknown option.");
                }
        return 0;
}

/* fd 3 is the pod directory, locked (shared) by rocket; we keep it open until the pod is gone. */
static int run_load_pod(RunContext *c) {
        char self[64];
        int r;

        if (fcntl(STAGE1_POD_FD, F_SETFD, FD_CLOEXEC) < 0)
                return log_error_errno(errno, "run: fd 3 is not the pod directory: %m");
        r = pod_manifest_load_at(STAGE1_POD_FD, STAGE1_POD_MANIFEST, &c->m);
        if (r < 0)
                return log_error_errno(r, "Failed to load the pod manifest: %m");
        snprintf(self, sizeof self, "/proc/self/fd/%i", STAGE1_POD_FD);
        c->pod_dir = realpath(self, NULL);
        if (!c->pod_dir)
                return log_error_errno(errno, "Failed to resolve the pod directory: %m");
        if (asprintf(&c->root, "%s/stage1/rootfs", c->pod_dir) < 0)
                return log_oom();
        (void) pod_machine_id(c->m->uuid, c->mid);
        return 0;
}

/* In a unit that delegates its cgroup the pod stays in it; --keep-unit insists on one. */
static int run_check_unit(RunContext *c) {
        if (c->keep_unit && !machine_in_delegated_unit()) {
                _cleanup_free_ char *unit = NULL;

                (void) sd_pid_get_unit(0, &unit);
                return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                       "--keep-unit: %s%s does not delegate its cgroup; start it with Delegate=yes "
                                       "(systemd-run -p Delegate=yes).", unit ? "unit " : "", unit ?: "rocket's unit");
        }
        if (!c->keep_unit)
                c->keep_unit = machine_in_delegated_unit();
        return 0;
}

/* The pod directory's parts, and with --private-users its user namespace and what its root owns there. */
static int run_prepare_pod_dir(RunContext *c) {
        int r;

        r = ensure_dirs(STAGE1_POD_FD, c->m);
        if (r < 0)
                return log_error_errno(r, "Failed to create the pod's directories: %m");
        if (!c->m->userns_base)
                return 0;
        r = userns_new(c->m->userns_base, &c->userns_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to create the pod's user namespace: %m");
        r = userns_chown_pod_dir(STAGE1_POD_FD, c->m, c->m->userns_base);
        if (r >= 0 && mkdirat(STAGE1_POD_FD, "idmap", 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to hand the pod's directories to its user namespace: %m");
        return 0;
}

/* A socket of ours for the pod's systemd: its READY=1 marks the pod ready (rocket status --wait-ready), and
 * under a Type=notify unit it is relayed to the unit's systemd. */
static int run_open_notify_socket(RunContext *c) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(c->pod_dir) + strlen("/notify") >= sizeof sa.sun_path)
                return log_error_errno(SYNTHETIC_ERRNO(ENAMETOOLONG),
                                       "The pod directory's path is too long for its notification socket: %s",
                                       c->pod_dir);
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify", c->pod_dir);
        (void) unlink(sa.sun_path);
        c->notify_fd = socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0);
        if (c->notify_fd < 0 || bind(c->notify_fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return log_error_errno(errno, "Failed to create the pod's notification socket: %m");
        /* The pod's systemd sends as the pod's root. */
        if (c->m->userns_base && fchownat(STAGE1_POD_FD, "notify", c->m->userns_base, c->m->userns_base, 0) < 0)
                return log_error_errno(errno, "Failed to hand the notification socket to the pod: %m");
        return 0;
}

/* The apps' output on our stdout, unless that is the journal already (a unit's), where the pod's journal
 * has it anyway (journalctl -M). */
static void run_follow_output(RunContext *c) {
        int r;

        /* -i: the relay below prints it. */
        if (stdout_is_journal() || stdout_is_null() || (c->m->n_apps == 1 && c->m->apps[0].interactive))
                return;
        r = app_output_new(c->m, strjoina(c->pod_dir, "/journal"), &c->out);
        if (r < 0)
                log_warning_errno(r, "Cannot follow the pod's journal, the apps' output will not be shown: %m");
}

/* The pod's PID 1, in new namespaces; it builds the pod's filesystem and waits for our "g". SIGCHLD,
 * SIGINT, SIGTERM and SIGHUP stay blocked in us from here on (the supervisor takes them). */
static int run_spawn(RunContext *c) {
        int go[2], err[2];
        sigset_t mask;

        if (pipe2(go, O_CLOEXEC) < 0)
                return log_error_errno(errno, "pipe: %m");
        if (pipe2(err, O_CLOEXEC) < 0) {
                safe_close(go[0]);
                safe_close(go[1]);
                return log_error_errno(errno, "pipe: %m");
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);        /* a child that died early: EPIPE, not death */

        fflush(stdout);
        fflush(stderr);
        c->child = (pid_t) syscall(SYS_clone, CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWUTS|(c->m->ipc_parent ? 0 : CLONE_NEWIPC)|
                                   (c->m->net.host ? 0 : CLONE_NEWNET)|SIGCHLD, NULL, NULL, NULL, 0);
        if (c->child < 0) {
                c->child = 0;
                safe_close(go[0]);
                safe_close(go[1]);
                safe_close(err[0]);
                safe_close(err[1]);
                return log_error_errno(errno, "Failed to create the pod's namespaces: %m");
        }
        if (c->child == 0) {
                sigprocmask(SIG_UNBLOCK, &mask, NULL);
                safe_close(go[1]);
                safe_close(err[0]);
                child_main(c->m, c->pod_dir, c->root, go[0], err[1], c->userns_fd, c->socks, c->n_socks,
                           c->notify_fd >= 0);
        }
        safe_close(go[0]);
        safe_close(err[1]);
        c->go_w = go[1];
        c->err_r = err[0];
        c->userns_fd = safe_close(c->userns_fd);
        return 0;
}

/* What the child said went wrong, if it said anything (it then exited): logged, -EIO. */
static int run_child_failure(RunContext *c, bool wait) {
        struct pollfd pf = { .fd = c->err_r, .events = POLLIN };
        char buf[600];
        ssize_t n;

        if (!wait && poll(&pf, 1, 0) <= 0)
                return 0;
        n = read(c->err_r, buf, sizeof buf - 1);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        (void) waitpid(c->child, NULL, 0);
        c->child = 0;
        /* \1: the child logged it already, to the stderr we share. */
        return buf[0] == '\1' ? -EIO : log_error_errno(SYNTHETIC_ERRNO(EIO), "%s", buf);
}

/* machined learns of the pod (a machine scope, or our unit), the pod's PID is recorded, and the child is
 * let go. */
static int run_register_and_start(RunContext *c) {
        char pid[32];
        int r, q;

        if (c->keep_unit) {
                r = machine_split_unit_cgroup(c->child);
                if (r < 0)
                        return log_error_errno(r, "Failed to move the pod into its own cgroup in our unit: %m");
        }
        /* Its networks while the child builds the pod's filesystem. */
        c->net_up = true;
        r = pod_net_setup(c->m, STAGE1_POD_FD, c->child, &c->net);
        if (r >= 0)
                r = pod_net_write_files(c->m, STAGE1_POD_FD, &c->net);
        if (r < 0) {
                c->net_failed = true;
                q = run_child_failure(c, false);
                return q < 0 ? q : r;
        }
        r = machine_register(c->m, c->child, c->root, c->keep_unit, c->net.ifindices, c->net.n_ifindices, &c->reg);
        if (r < 0) {
                /* A child that failed while we registered it has left its message: that one counts. */
                q = run_child_failure(c, false);
                return q < 0 ? q : r;
        }
        snprintf(pid, sizeof pid, "%i\n", (int) c->child);
        r = write_stamp(STAGE1_POD_FD, STAGE1_POD_PID, pid);
        if (r < 0)
                return log_error_errno(r, "Failed to record the pod's PID: %m");
        if (write(c->go_w, "g", 1) != 1) {
                r = -errno;
                q = run_child_failure(c, false);
                return q < 0 ? q : log_error_errno(r, "Failed to start the pod: %m");
        }
        c->go_w = safe_close(c->go_w);
        /* The pod holds the sockets now. */
        for (size_t i = 0; i < c->n_socks; i++)
                c->socks[i].fd = safe_close(c->socks[i].fd);
        /* Until the child has execed the pod's systemd (the pipe closes) or failed. */
        return run_child_failure(c, true);
}

/* rocket run -i/-t: a child of ours attaches our stdin, stdout and stderr to the app's I/O socket as soon as
 * there is one (the app starts only then), and relays until the app ends. It ignores SIGINT and SIGTERM
 * (blocked since the clone: the pod's stop is ours to make), so that what the app prints last is drained. */
static int run_start_relay(RunContext *c) {
        const PodApp *a = &c->m->apps[0];
        IoAttachOptions o = {
                .flags = (a->io[0] != APP_IO_NULL ? APP_IO_FLAG_STDIN : 0) | APP_IO_FLAG_STDOUT | APP_IO_FLAG_STDERR,
                .tty = a->io[1] == APP_IO_TTY,
        };
        pid_t leader = c->child;

        if (c->m->n_apps != 1 || !a->interactive)
                return 0;
        fflush(stdout);
        c->relay = fork();
        if (c->relay < 0) {
                c->relay = 0;
                return log_error_errno(errno, "fork: %m");
        }
        if (c->relay == 0) {
                int fd = -EBADF, r, status;

                for (;;) {
                        r = io_attach_connect(leader, a->name, o.flags, &fd);
                        if (r >= 0)
                                break;
                        if (kill(leader, 0) < 0)
                                _exit(0);       /* the pod is gone before its app was up */
                        usleep(5 * 1000);
                }
                r = io_attach_relay(fd, &o, &status);
                _exit(r < 0 ? 1 : 0);
        }
        return 0;
}

/* How the pod ended: the first app that failed, else 0; if no app could record its exit (the pod was
 * killed), how its PID 1 ended. */
static int run_exit_status(const RunContext *c) {
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = openat(STAGE1_POD_FD, "../..", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        int ex = -ENODATA, status = c->status;

        if (pods_fd >= 0 && pod_load(pods_fd, POD_RUNNING, c->m->uuid, &p) >= 0)
                ex = pod_exit_status(p);
        log_pod_event(c->m, c->net.addresses, MESSAGE_POD_EXITED, "Pod %s (%s) exited with status %i.", c->m->name,
                      c->m->uuid, ex >= 0 ? ex : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1);
        if (ex >= 0)
                return ex;
        /* No app recorded how it ended: the pod itself went first. Say how. */
        if (WIFSIGNALED(status)) {
                log_error("The pod's PID 1 was killed by SIG%s before its apps ended.",
                          sigabbrev_np(WTERMSIG(status)) ?: "?");
                return 128 + WTERMSIG(status);
        }
        log_error("The pod's PID 1 exited with status %i before its apps ended.",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
}

/* A pod whose networks could not be set up never ran: it goes straight to garbage (gc removes it), not
 * among the exited pods. */
static void run_discard_pod(const RunContext *c) {
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = openat(STAGE1_POD_FD, "../..", O_RDONLY|O_DIRECTORY|O_CLOEXEC);

        if (pods_fd >= 0 && pod_load(pods_fd, POD_RUNNING, c->m->uuid, &p) >= 0)
                (void) pod_transition(pods_fd, p, POD_EXITED_GARBAGE);
}

/* Nothing of the pod left outside its directory but the journal link: the cgroup2 subtree of a hybrid host
 * removed here, and if the networks went too, "clean" tells rocket that gc needs no entrypoint of ours. */
static void run_record_clean(const RunContext *c) {
        _cleanup_free_ char *cg = NULL;
        int r;

        if (c->net_left)
                return;
        if (read_full_file_at(STAGE1_POD_FD, "cgroup", PATH_MAX, &cg, NULL) >= 0) {
                r = cgroup_v2_remove("stage1/rootfs", cg);
                if (r < 0) {
                        log_debug_errno(r, "Failed to remove the pod's cgroup %s, leaving it to gc: %m", cg);
                        return;
                }
                (void) unlinkat(STAGE1_POD_FD, "cgroup", 0);
        }
        (void) write_stamp(STAGE1_POD_FD, STAGE1_POD_CLEAN, "");
}

static void run_record_end(void) {
        struct timespec ts;
        char now[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(now, sizeof now, "%lld\n", (long long) ts.tv_sec);
        (void) write_stamp(STAGE1_POD_FD, STAGE1_POD_EXITED, now);
}

int stage1_run(int argc, char *argv[]) {
        _cleanup_(run_context_done) RunContext c = { .userns_fd = -EBADF, .notify_fd = -EBADF, .go_w = -EBADF,
                                                     .err_r = -EBADF };
        int r;

        r = run_parse_args(argc, argv, &c);
        if (r >= 0)
                r = run_load_pod(&c);
        if (r >= 0)
                r = run_check_unit(&c);
        if (r >= 0)
                r = run_prepare_pod_dir(&c);
        if (r >= 0)
                r = passed_sockets_take(c.m, &c.socks, &c.n_socks);
        if (r >= 0)
                r = run_open_notify_socket(&c);
        if (r < 0)
                return r;
        link_journal(c.pod_dir, c.mid);
        run_follow_output(&c);

        r = run_spawn(&c);
        if (r >= 0)
                r = run_register_and_start(&c);
        if (r >= 0 && c.child > 0)
                r = run_start_relay(&c);
        if (r >= 0 && c.child > 0) {
                record_limits(c.m, c.child);
                r = supervise(c.child, c.out, c.notify_fd, c.m, c.net.addresses, &c.status);
                if (r >= 0) {
                        c.child = 0;            /* reaped by the supervisor */
                        if (c.out)
                                (void) app_output_flush(c.out);
                }
        }
        run_end_pod(&c);
        /* The relay has the app's last words (or, if the app never came up, nothing to wait for). */
        if (c.relay > 0)
                (void) waitpid(c.relay, NULL, 0);
        if (c.m && c.pod_dir)
                run_record_end();
        if (c.net_failed)
                run_discard_pod(&c);
        else if (c.m && c.pod_dir)
                run_record_clean(&c);
        if (r < 0)
                return r;
        return run_exit_status(&c);
}
