/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket attach: to a running app's terminal or streams, through the stage1's attach entrypoint. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rocket-pod.h"
#include "stage1-abi.h"
#include "string-util.h"
#include "verb-all.h"

enum { ARG_APP = 0x100, ARG_MODE, ARG_UUID_FILE };

static void help(void) {
        printf("Usage: rocket attach [OPTIONS...] POD\n"
               "       rocket attach [OPTIONS...] --uuid-file=FILE\n"
               "\n"
               "Attach to the terminal or streams of a running app (one run with --stdin, --stdout or\n"
               "--stderr tty or stream). On a terminal, ctrl-p ctrl-q detaches and the app runs on; the\n"
               "exit status is the app's when it ends while attached. Its output stays in the journal.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --app=APP           The app (needed when several have a terminal or streams)\n"
               "     --mode=auto|tty|stdin,stdout,stderr\n"
               "                         What to attach: its terminal, or some of its streams\n"
               "                         (auto: all it has)\n"
               "     --uuid-file=FILE    The pod whose UUID FILE holds\n");
}

typedef struct AttachArgs {
        const char *app, *mode, *uuid_file;
} AttachArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        AttachArgs *a = userdata;

        switch (option) {
        case ARG_APP:
                if (!name_is_valid(arg))
                        return log_usage("attach: invalid app name '%s'.", arg);
                a->app = arg;
                return 0;
        case ARG_MODE:
                if (isempty(arg) || strlen(arg) > 64)
                        return log_usage("attach: invalid --mode '%s'.", arg);
                a->mode = arg;
                return 0;
        default:
                a->uuid_file = arg;
                return 0;
        }
}

int verb_attach(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "app", required_argument, NULL, ARG_APP },
                { "mode", required_argument, NULL, ARG_MODE },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {}
        };
        AttachArgs a = { .mode = "auto" };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        const PodApp *app = NULL;
        int r, consumed;

        r = verb_parse_options_full("attach", ":h", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "attach: needs root.");
        r = rocket_pod_find_arg(ctx, "attach", a.uuid_file, argc, argv, &pods_fd, &p, &consumed);
        if (r < 0)
                return r;
        if (optind + consumed < argc)
                return log_usage("attach: unexpected argument '%s'.", argv[optind + consumed]);
        r = rocket_pod_check_running(p, "app-io", "keeps no app I/O to attach to");
        if (r < 0)
                return r;
        /* Without --app: the one app with a terminal or streams. */
        if (a.app) {
                app = pod_manifest_find_app(p->manifest, a.app);
                if (!app)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", p->uuid, a.app);
        } else
                for (size_t i = 0; i < p->manifest->n_apps; i++) {
                        if (!pod_app_has_io(&p->manifest->apps[i]))
                                continue;
                        if (app)
                                return log_usage("attach: pod %s has several apps to attach to; pick one with --app.",
                                                 p->uuid);
                        app = &p->manifest->apps[i];
                }
        if (!app)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "Pod %s has no app with a terminal or streams (its output is in the journal: rocket logs).",
                                       p->uuid);
        if (strv_extend(&args, strjoina("--app=", app->name)) < 0 || strv_extend(&args, strjoina("--mode=", a.mode)) < 0)
                return log_oom();
        return rocket_stage1_exec(pods_fd, p, p->dir_fd, STAGE1_ENTRYPOINT_ATTACH, args, NULL, 0);
}
