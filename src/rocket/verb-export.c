/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket export: an app of an exited pod as an ACI (rkt's export). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "pod-export.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-all.h"

enum { ARG_APP = 0x100, ARG_OVERWRITE };

typedef struct ExportArgs {
        const char *app;
        bool overwrite;
} ExportArgs;

static void help(void) {
        printf("Usage: rocket export [OPTIONS...] POD FILE\n"
               "\n"
               "Write an app of an exited pod, its root file system as the app left it, as an ACI to FILE.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --app=NAME          The app to export (needed when the pod has several)\n"
               "     --overwrite         Replace FILE if it exists\n");
}

static int parse_option(int option, const char *arg, void *userdata) {
        ExportArgs *a = userdata;

        if (option == ARG_APP) {
                if (!name_is_valid(arg))
                        return log_usage("export: invalid app name '%s'.", arg);
                a->app = arg;
        } else
                a->overwrite = true;
        return 0;
}

static int pick_app(const Pod *p, const char *name, const PodApp **ret) {
        _cleanup_free_ char *names = NULL;

        if (name) {
                *ret = pod_manifest_find_app(p->manifest, name);
                if (!*ret)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", p->uuid, name);
                return 0;
        }
        if (p->manifest->n_apps == 1) {
                *ret = &p->manifest->apps[0];
                return 0;
        }
        for (size_t i = 0; i < p->manifest->n_apps; i++) {
                char *t = NULL;

                if (asprintf(&t, "%s%s%s", strempty(names), names ? ", " : "", p->manifest->apps[i].name) < 0)
                        return log_oom();
                free(names);
                names = t;
        }
        if (!names)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no apps to export.", p->uuid);
        return log_usage("export: pod %s has apps %s; choose one with --app=.", p->uuid, names);
}

int verb_export(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "app", required_argument, NULL, ARG_APP },
                { "overwrite", no_argument, NULL, ARG_OVERWRITE },
                {}
        };
        ExportArgs a = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int pods_fd = -EBADF, fd = -EBADF;
        const PodApp *app;
        const char *file;
        int r;

        r = verb_parse_options("export", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (argc - optind != 2)
                return log_usage("export: give a POD and the FILE to write.");
        file = argv[optind + 1];
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "export: reading a pod's layers needs root.");
        r = rocket_pod_find(ctx, argv[optind], &pods_fd, &p);
        if (r < 0)
                return r;
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        if (!IN_SET(p->state, POD_EXITED, POD_EXITED_GARBAGE))
                return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Pod %s is %s; export takes a pod that has exited.", p->uuid,
                                       pod_state_to_string(p->state));
        r = pick_app(p, a.app, &app);
        if (r < 0)
                return r;
        if (!a.overwrite && access(file, F_OK) >= 0)
                return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "'%s' exists; use --overwrite to replace it.", file);

        /* Beside it under another name, renamed over it once whole: never half an ACI under its name. */
        if (asprintf(&tmp, "%s.rocket-export", file) < 0)
                return log_oom();
        fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW|O_CLOEXEC, 0644);
        if (fd < 0)
                return log_error_errno(errno, "Failed to create '%s': %m", tmp);
        r = pod_export_aci(p, app, fd);
        if (r >= 0 && fsync(fd) < 0)
                r = log_error_errno(errno, "Failed to write '%s': %m", tmp);
        if (r >= 0 && rename(tmp, file) < 0)
                r = log_error_errno(errno, "Failed to rename '%s' to '%s': %m", tmp, file);
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return 0;
}
