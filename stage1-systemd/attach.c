/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The attach entrypoint: our stdin, stdout and stderr to a running app's terminal or streams (io-proto.h),
 * until the app ends (its exit status is ours), our input ends and the app's output with it, or ctrl-p
 * ctrl-q on a terminal detaches. The app's output goes on to the journal meanwhile, as it always does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exit-record.h"
#include "io-attach.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"

/* What to attach to: mode is auto, tty, or a list of stdin, stdout, stderr. */
static int attach_flags(const PodApp *a, const char *mode, IoAttachOptions *o) {
        static const char *const names[3] = { "stdin", "stdout", "stderr" };
        _cleanup_strv_free_ char **l = NULL;
        bool tty = a->io[1] == APP_IO_TTY;

        if (streq(mode, "auto") || streq(mode, "tty")) {
                if (streq(mode, "tty") && !tty)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "App %s has no terminal (its stdout is %s).",
                                               a->name, app_io_mode_to_string(a->io[1]));
                if (streq(mode, "tty") && !isatty(STDIN_FILENO))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "attach: --mode=tty needs a terminal on stdin.");
                o->tty = tty;
                /* Input from a terminal only into a terminal; a stream takes any. */
                for (int i = 0; i < 3; i++)
                        if (a->io[i] == APP_IO_STREAM || (a->io[i] == APP_IO_TTY && (i > 0 || isatty(STDIN_FILENO))))
                                o->flags |= 1u << i;
                return 0;
        }
        if (strv_split(mode, ",", &l) < 0)
                return log_oom();
        STRV_FOREACH(w, l) {
                int i;

                for (i = 0; i < 3 && !streq(*w, names[i]); i++)
                        ;
                if (i == 3)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "attach: invalid --mode '%s' (auto, tty, or stdin,stdout,stderr).", mode);
                if (a->io[i] != APP_IO_STREAM && a->io[i] != APP_IO_TTY)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "App %s's %s is not a stream or terminal (it is %s).",
                                               a->name, names[i], app_io_mode_to_string(a->io[i]));
                o->flags |= 1u << i;
        }
        o->tty = tty && (o->flags & APP_IO_FLAG_STDIN);
        return 0;
}

int stage1_attach(int argc, char *argv[]) {
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_close_ int fd = -EBADF;
        IoAttachOptions o = {};
        const char *app = NULL, *mode = "auto";
        const PodApp *a;
        char mid[33];
        pid_t leader;
        int r, status = 0;

        for (int i = 1; i < argc; i++) {
                const char *v;

                if ((v = startswith(argv[i], "--app=")))
                        app = v;
                else if ((v = startswith(argv[i], "--mode=")))
                        mode = v;
                else if (streq(argv[i], "--debug"))
                        log_set_max_level(LOG_DEBUG);
                else
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "attach: unexpected argument '%s'.", argv[i]);
        }
        /* The pod directory (fd 3) is no business of the relay's. */
        (void) close(STAGE1_POD_FD);
        r = stage1_load_pod(&m, mid);
        if (r < 0)
                return r;
        a = app ? pod_manifest_find_app(m, app) : NULL;
        if (!a)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", m->uuid, strna(app));
        if (!pod_app_has_io(a))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "App %s has no terminal or streams to attach to (its output is in the journal: "
                                       "rocket logs); give it --stdout=stream or tty.", a->name);
        r = attach_flags(a, mode, &o);
        if (r < 0)
                return r;
        r = stage1_leader_pid_wait(mid, &leader);
        if (r < 0)
                return log_error_errno(r, "Pod %s is not running.", m->uuid);
        r = io_attach_connect(leader, a->name, o.flags, &fd);
        if (r == -ENOENT)
                return log_error_errno(r, "App %s is not running.", a->name);
        if (r < 0)
                return log_error_errno(r, "Failed to attach to app %s: %m", a->name);
        o.detach_keys = o.tty;
        r = io_attach_relay(fd, &o, &status);
        if (r < 0)
                return log_error_errno(r, "Lost app %s: %m", a->name);
        if (r == 2) {
                fprintf(stderr, "\r\nDetached from app %s; it runs on.\r\n", a->name);
                return 0;
        }
        return r == 1 ? wait_status_to_exit_code(status) : 0;
}
