/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The app entrypoints of a running sandbox pod (rocket-stage1(7)), as rocket app add/start/stop/rm call them
 * with the pod's app lock held and the manifest already saying what is wanted:
 *
 *   app-add APP                the app's rootfs mounted into the pod, its unit written, the pod's systemd
 *                              reloaded (not started)
 *   app-start APP              its unit started, the job's result read back
 *   app-stop APP [--timeout=SECONDS]
 *                              its unit stopped (SIGTERM, then SIGKILL after SECONDS, default its unit's
 *                              10 s; 0: SIGKILL at once)
 *   app-rm APP [--timeout=SECONDS]
 *                              stopped if it runs (as app-stop), its rootfs and unit gone, the pod's
 *                              systemd reloaded
 *
 * The pod's systemd is driven over its private bus (pod-bus.c); the app's exits are recorded by its unit's
 * ExecStopPost= as for any app. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "log.h"
#include "stage1.h"
#include "string-util.h"
#include "time-util.h"

typedef struct AppContext {
        PodManifest *m;
        const PodApp *app;
        char mid[33];
        pid_t leader;
        sd_bus *bus;
        char unit[80];
} AppContext;

static void app_context_done(AppContext *c) {
        sd_bus_flush_close_unref(c->bus);
        pod_manifest_free(c->m);
}

static int app_context_open(const char *verb, const char *app, AppContext *c) {
        int r;

        if (!app || !name_is_valid(app))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: missing or invalid app name.", verb);
        r = stage1_load_pod(&c->m, c->mid);
        if (r < 0)
                return r;
        if (!c->m->sandbox)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "Pod %s is not a sandbox; its apps are fixed (start one with 'rocket app sandbox').",
                                       c->m->uuid);
        c->app = pod_manifest_find_app(c->m, app);
        if (!c->app)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", c->m->uuid, app);
        snprintf(c->unit, sizeof c->unit, "%s.service", app);
        r = stage1_leader_pid_wait(c->mid, &c->leader);
        if (r < 0)
                return log_error_errno(r, "Pod %s is not running.", c->m->uuid);
        return pod_bus_open(c->leader, &c->bus);
}

/* In a child of ours, which joins the pod's mount namespace. */
static int in_child(int (*fn)(AppContext *c, const char *pod_dir), AppContext *c) {
        _cleanup_free_ char *pod_dir = NULL;
        char self[64];
        int status;
        pid_t pid;

        snprintf(self, sizeof self, "/proc/self/fd/%i", STAGE1_POD_FD);
        pod_dir = realpath(self, NULL);
        if (!pod_dir)
                return log_error_errno(errno, "Failed to resolve the pod directory: %m");
        fflush(stderr);
        pid = fork();
        if (pid < 0)
                return log_error_errno(errno, "fork: %m");
        if (pid == 0)
                _exit(fn(c, pod_dir) < 0 ? 1 : 0);
        if (waitpid(pid, &status, 0) < 0)
                return log_error_errno(errno, "waitpid: %m");
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;       /* the child said why */
}

static int do_mount(AppContext *c, const char *pod_dir) {
        return pod_mount_app_live(c->m, c->app, STAGE1_POD_FD, pod_dir, c->leader);
}

static int do_umount(AppContext *c, const char *pod_dir _unused_) {
        _cleanup_close_ int mntns = -EBADF, root_fd = -EBADF;
        char ns[64];
        int r;

        snprintf(ns, sizeof ns, "/proc/%i/ns/mnt", (int) c->leader);
        mntns = open(ns, O_RDONLY|O_CLOEXEC);
        if (mntns < 0 || setns(mntns, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Failed to enter the pod's mount namespace: %m");
        root_fd = open("/", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(errno, "Failed to open the pod's root: %m");
        r = units_remove_app(root_fd, c->app->name);
        if (r < 0)
                return log_error_errno(r, "Failed to remove the unit of app %s: %m", c->app->name);
        r = pod_umount_app_live(c->app->name);
        if (r < 0)
                return log_error_errno(r, "Failed to unmount the rootfs of app %s: %m", c->app->name);
        return 0;
}

static bool state_is_running(const char *s) {
        return strv_contains((char **) (const char *const[]) { "active", "activating", "deactivating", "reloading", NULL },
                             s);
}

static int app_add(AppContext *c) {
        int r;

        r = in_child(do_mount, c);
        if (r < 0)
                return r;
        /* A new unit's name loads its file on first use: a reload (all units read again) only when the
         * pod's systemd still holds an older unit of that name. */
        r = pod_bus_unit_loaded(c->bus, c->unit);
        if (r == 0)
                r = pod_bus_reload(c->bus);
        if (r < 0)
                (void) in_child(do_umount, c);
        return r < 0 ? r : 0;
}

static int app_start(AppContext *c) {
        _cleanup_free_ char *state = NULL, *result = NULL;
        char exit_record[PATH_MAX];
        int r;

        r = pod_bus_unit_state(c->bus, c->unit, &state);
        if (r < 0)
                return r;
        if (state_is_running(state))
                return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "App %s is running already (%s).", c->app->name, state);
        /* A failed start before this one would keep the unit from starting again. */
        r = pod_bus_reset_failed(c->bus, c->unit);
        if (r < 0)
                return r;
        /* Its exit record of an earlier run is not this one's. */
        snprintf(exit_record, sizeof exit_record, STAGE1_APP_EXIT, c->app->name);
        (void) unlinkat(STAGE1_POD_FD, exit_record, 0);
        r = pod_bus_job(c->bus, "StartUnit", c->unit, 0, &result);
        if (r < 0)
                return r;
        /* An app that ended at once (within its start) did start: its end is recorded, as any. */
        if (streq(result, "failed") && faccessat(STAGE1_POD_FD, exit_record, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                log_debug("App %s ended while it started; its exit is recorded.", c->app->name);
                return 0;
        }
        if (!streq(result, "done"))
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "App %s did not start (its start job: %s); see 'rocket app status'.",
                                       c->app->name, result);
        return 0;
}

/* SIGTERM, then SIGKILL after timeout_usec: UINT64_MAX the unit's own (10 s), 0 at once. */
static int stop_unit(AppContext *c, uint64_t timeout_usec) {
        _cleanup_free_ char *result = NULL;
        int r;

        if (timeout_usec == 0) {
                r = pod_bus_kill(c->bus, c->unit, SIGKILL);
                if (r < 0)
                        return r;
        }
        r = pod_bus_job(c->bus, "StopUnit", c->unit, timeout_usec == UINT64_MAX ? 0 : timeout_usec, &result);
        if (r < 0)
                return r;
        if (!streq(result, "done"))
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "App %s did not stop cleanly (its stop job: %s).",
                                       c->app->name, result);
        return 0;
}

static int app_stop(AppContext *c, uint64_t timeout_usec) {
        _cleanup_free_ char *state = NULL;
        int r;

        r = pod_bus_unit_state(c->bus, c->unit, &state);
        if (r < 0)
                return r;
        if (!state_is_running(state))
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "App %s is not running (%s).", c->app->name, state);
        return stop_unit(c, timeout_usec);
}

static int app_rm(AppContext *c, uint64_t timeout_usec) {
        _cleanup_free_ char *state = NULL;
        int r;

        r = pod_bus_unit_state(c->bus, c->unit, &state);
        if (r < 0)
                return r;
        if (state_is_running(state)) {
                r = stop_unit(c, timeout_usec);
                if (r < 0)
                        return r;
        }
        r = in_child(do_umount, c);
        if (r < 0)
                return r;
        r = pod_bus_reload(c->bus);
        if (r >= 0)
                r = pod_bus_reset_failed(c->bus, c->unit);
        return r;
}

int stage1_app(int argc, char *argv[]) {
        _cleanup_(app_context_done) AppContext c = {};
        const char *verb = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], *app = NULL;
        uint64_t timeout_usec = UINT64_MAX;
        int r;

        for (int i = 1; i < argc; i++) {
                const char *v;

                if ((v = startswith(argv[i], "--timeout=")) && (streq(verb, STAGE1_ENTRYPOINT_APP_STOP) || streq(verb, STAGE1_ENTRYPOINT_APP_RM))) {
                        char *end;
                        unsigned long s = strtoul(v, &end, 10);

                        if (isempty(v) || *end || s > 86400)
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: invalid --timeout '%s'.", verb, v);
                        timeout_usec = s * USEC_PER_SEC;
                } else if (streq(argv[i], "--debug"))
                        log_set_max_level(LOG_DEBUG);
                else if (!app && argv[i][0] != '-')
                        app = argv[i];
                else
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "%s: unexpected argument '%s'.", verb, argv[i]);
        }
        r = app_context_open(verb, app, &c);
        if (r < 0)
                return r;
        if (streq(verb, STAGE1_ENTRYPOINT_APP_ADD))
                return app_add(&c);
        if (streq(verb, STAGE1_ENTRYPOINT_APP_START))
                return app_start(&c);
        if (streq(verb, STAGE1_ENTRYPOINT_APP_STOP))
                return app_stop(&c, timeout_usec);
        if (streq(verb, STAGE1_ENTRYPOINT_APP_RM))
                return app_rm(&c, timeout_usec);
        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Unknown app entrypoint '%s'.", verb);
}
