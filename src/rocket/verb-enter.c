/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket enter. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-all.h"
#include "stage1-abi.h"

enum { ARG_APP = 0x100, ARG_USER, ARG_GROUP, ARG_UUID_FILE };

static void help(void) {
        printf("Usage: rocket enter [OPTIONS...] POD [CMD [ARGS...]]\n"
               "       rocket enter [OPTIONS...] --uuid-file=FILE [CMD [ARGS...]]\n\nRun CMD (default /bin/sh) in a "
                       "running pod's namespaces and an app's rootfs.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --app=APP           The app whose rootfs to enter (needed with several apps)\n"
                       "     --user=USER         Run as USER of the app's image instead of the app's user\n"
                       "     --group=GROUP       Run with GROUP of the app's image\n"
                       "     --uuid-file=FILE    The pod whose UUID FILE holds (as --uuid-file-save wrote it)\n");
}

typedef struct EnterArgs {
        const char *app, *user, *group, *uuid_file;
} EnterArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        EnterArgs *a = userdata;

        if (option == ARG_UUID_FILE) {
                a->uuid_file = arg;
                return 0;
        }
        if (option == ARG_APP) {
                if (!name_is_valid(arg))
                        return log_usage("enter: invalid app name '%s'.", arg);
                a->app = arg;
                return 0;
        }
        if (isempty(arg) || strlen(arg) > 256 || strpbrk(arg, "\n"))
                return log_usage("enter: invalid %s '%s'.", option == ARG_USER ? "user" : "group", arg);
        *(option == ARG_USER ? &a->user : &a->group) = arg;
        return 0;
}

int verb_enter(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "app", required_argument, NULL, ARG_APP },
                { "user", required_argument, NULL, ARG_USER },
                { "group", required_argument, NULL, ARG_GROUP },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {}
        };
        EnterArgs a = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *app_opt = NULL;
        int r, consumed;

        r = verb_parse_options("enter", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "enter: needs root.");
        r = rocket_pod_find_arg(ctx, "enter", a.uuid_file, argc, argv, &pods_fd, &p, &consumed);
        if (r < 0)
                return r;
        if (p->state != POD_RUNNING)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is %s, not running.", p->uuid,
                                       pod_state_to_string(p->state));
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        if (p->manifest->n_apps == 0)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no apps to enter; add one with 'rocket app add'.",
                                       p->uuid);
        if (!a.app && p->manifest->n_apps > 1) {
                _cleanup_free_ char *names = NULL;
                char **l = NULL;

                for (size_t i = 0; i < p->manifest->n_apps; i++)
                        if (strv_extend(&l, p->manifest->apps[i].name) < 0)
                                return log_oom();
                r = strv_join(l, ", ", &names);
                strv_free(l);
                if (r < 0)
                        return log_oom();
                return log_usage("enter: pod %s has several apps (%s); pick one with --app.", p->uuid, names);
        }
        if (a.app && !pod_manifest_find_app(p->manifest, a.app))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", p->uuid, a.app);
        if (asprintf(&app_opt, "--app=%s", a.app ?: p->manifest->apps[0].name) < 0 || strv_extend(&args, app_opt) < 0 ||
            (a.user && strv_extend(&args, strjoina("--user=", a.user)) < 0) ||
            (a.group && strv_extend(&args, strjoina("--group=", a.group)) < 0) ||
            strv_extend(&args, "--") < 0)
                return log_oom();
        for (int i = optind + consumed; i < argc; i++)
                if (strv_extend(&args, argv[i]) < 0)
                        return log_oom();
        return rocket_stage1_exec(pods_fd, p, p->dir_fd, STAGE1_ENTRYPOINT_ENTER, args, NULL, 0);
}
