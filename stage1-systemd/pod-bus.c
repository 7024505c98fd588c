/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod's systemd over its private bus, for rocket app add/start/stop/rm: a direct connection to
 * /run/systemd/private in the pod (resolved within the pod's root: no bus daemon), the
 * manager's methods, and jobs waited for by their JobRemoved signal (systemd sends its signals to every
 * direct connection). What comes back is the pod's word, read as untrusted: a result or a state string. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"
#include "time-util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

/* The pod's systemd takes private connections only from a peer it can see: SO_PEERCRED must name a PID in
 * its PID namespace (else sd-bus finds no valid credentials and refuses). So a grandchild of ours in that
 * namespace connects, not traceable while it does, and hands us the socket; we talk over it. */
static _noreturn_ void connect_child(pid_t leader, int pidns_fd, int userns_fd, int sock) {
        int fd;
        pid_t pid;

        if (setns(pidns_fd, CLONE_NEWPID) < 0)
                _exit(1);
        pid = fork();
        if (pid < 0)
                _exit(1);
        if (pid > 0) {
                int status;

                _exit(waitpid(pid, &status, 0) == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 1);
        }
        (void) prctl(PR_SET_DUMPABLE, 0);
        /* --private-users: the pod's root, as its systemd takes root only. */
        if (userns_fd >= 0 && (setns(userns_fd, CLONE_NEWUSER) < 0 || setgroups(0, NULL) < 0 ||
                               setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                _exit(1);
        fd = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0);
        if (fd < 0 || socket_connect_in_root(fd, leader, "/run/systemd/private") < 0)
                _exit(2);
        _exit(fd_send(sock, fd) < 0 ? 1 : 0);
}

static int connect_in_pod(pid_t leader, int *ret) {
        _cleanup_close_ int pidns = -EBADF, userns = -EBADF;
        struct stat a, b;
        int pair[2], status, fd;
        char path[64];
        pid_t pid;

        snprintf(path, sizeof path, "/proc/%i/ns/pid", (int) leader);
        pidns = open(path, O_RDONLY|O_CLOEXEC);
        if (pidns < 0)
                return -errno;
        snprintf(path, sizeof path, "/proc/%i/ns/user", (int) leader);
        if (stat(path, &a) < 0 || stat("/proc/self/ns/user", &b) < 0)
                return -errno;
        if (a.st_ino != b.st_ino) {
                userns = open(path, O_RDONLY|O_CLOEXEC);
                if (userns < 0)
                        return -errno;
        }
        if (socketpair(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                safe_close(pair[0]);
                safe_close(pair[1]);
                return -errno;
        }
        if (pid == 0) {
                safe_close(pair[0]);
                connect_child(leader, pidns, userns, pair[1]);
        }
        safe_close(pair[1]);
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                safe_close(pair[0]);
                return WIFEXITED(status) && WEXITSTATUS(status) == 2 ? -ECONNREFUSED : -EIO;
        }
        fd = fd_recv(pair[0]);
        safe_close(pair[0]);
        if (fd < 0)
                return fd;
        *ret = fd;
        return 0;
}

int pod_bus_open(pid_t leader, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = connect_in_pod(leader, &fd);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the pod's systemd: %m");
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_fd(bus, fd, fd);
        if (r >= 0) {
                fd = -EBADF;    /* the bus has it */
                r = sd_bus_start(bus);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the pod's systemd: %m");
        *ret = TAKE_PTR(bus);
        return 0;
}

static int call_error(int r, const sd_bus_error *e, const char *what, const char *unit) {
        return log_error_errno(r, "The pod's systemd refused to %s %s: %s", what, unit,
                               e && e->message ? e->message : strerror(ERRNO_VALUE(r)));
}

int pod_bus_reload(sd_bus *bus) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        /* The reply comes once the reload is done. */
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e, NULL, NULL);
        return r < 0 ? call_error(r, &e, "reload", "its units") : 0;
}

typedef struct JobWait {
        const char *path;       /* the job's object path */
        char *result;           /* set when it was removed */
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error _unused_) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (w->result || sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || !streq(path, w->path))
                return 0;
        w->result = strdup(result);
        return w->result ? 0 : -ENOMEM;
}

int pod_bus_kill(sd_bus *bus, const char *unit, int sig) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit", &e, NULL, "ssi", unit, "all", sig);
        return r < 0 ? call_error(r, &e, "kill", unit) : 0;
}

int pod_bus_job(sd_bus *bus, const char *method, const char *unit, uint64_t timeout_usec, char **ret_result) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        JobWait w = {};
        const char *path;
        uint64_t deadline = timeout_usec ? now_monotonic_usec() + timeout_usec : UINT64_MAX;
        bool killed = false;
        int r;

        r = sd_bus_match_signal(bus, &slot, NULL, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the pod's jobs: %m");
        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e, &reply, "ss", unit, "replace");
        if (r < 0)
                return call_error(r, &e, streq(method, "StartUnit") ? "start" : "stop", unit);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "The pod's systemd gave no job for %s: %m", unit);
        /* The job's signal, if it ended already, is queued behind the reply: sd_bus_process() brings it. */
        w.path = path;
        while (!w.result) {
                uint64_t now = now_monotonic_usec();

                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        log_error_errno(r, "Lost the pod's systemd while waiting for %s: %m", unit);
                        break;
                }
                if (r > 0)
                        continue;
                if (!killed && now >= deadline) {
                        /* Past the time given: no more grace. */
                        log_debug("%s did not stop in time, killing it.", unit);
                        r = pod_bus_kill(bus, unit, SIGKILL);
                        if (r < 0)
                                break;
                        killed = true;
                        continue;
                }
                r = sd_bus_wait(bus, killed || deadline == UINT64_MAX ? UINT64_MAX : deadline - now);
                if (r < 0) {
                        log_error_errno(r, "Lost the pod's systemd while waiting for %s: %m", unit);
                        break;
                }
        }
        if (!w.result)
                return r < 0 ? r : -EIO;
        *ret_result = w.result;
        return 0;
}

/* LoadUnit: a unit not loaded yet (or garbage-collected after it ended) is loaded, not an error. */
static int unit_path(sd_bus *bus, const char *unit, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *p;
        int r;

        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit", &e, &reply, "s", unit);
        if (r < 0)
                return call_error(r, &e, "load", unit);
        r = sd_bus_message_read(reply, "o", &p);
        if (r < 0)
                return r;
        *ret = strdup(p);
        return *ret ? 0 : -ENOMEM;
}

int pod_bus_unit_state(sd_bus *bus, const char *unit, char **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit", "ActiveState", &e, ret);
        return r < 0 ? call_error(r, &e, "tell the state of", unit) : 0;
}

int pod_bus_unit_loaded(sd_bus *bus, const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *load = NULL;
        int r, stale = 0;

        r = unit_path(bus, unit, &path);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit", "LoadState", &e, &load);
        if (r >= 0)
                r = sd_bus_get_property_trivial(bus, SD_DEST, path, "org.freedesktop.systemd1.Unit", "NeedDaemonReload",
                                                &e, 'b', &stale);
        if (r < 0)
                return call_error(r, &e, "tell the state of", unit);
        return streq(load, "loaded") && !stale;
}

int pod_bus_reset_failed(sd_bus *bus, const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", &e, NULL, "s", unit);
        /* Nothing to reset is fine. */
        if (r < 0 && !sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                return call_error(r, &e, "reset", unit);
        return 0;
}
