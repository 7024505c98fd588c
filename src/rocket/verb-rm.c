/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket rm. */
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

static void help(void) {
        printf("Usage: rocket rm [OPTIONS...] POD...\n\nRemove pods that are not running.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --uuid-file=FILE    Also the pod whose UUID FILE holds (as --uuid-file-save\n"
                       "                         wrote it)\n");
}

static int parse_option(int option _unused_, const char *arg, void *userdata) {
        *(const char **) userdata = arg;        /* --uuid-file, the only one */
        return 0;
}

int verb_rm(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "uuid-file", required_argument, NULL, 0x100 },
                {}
        };
        _cleanup_strv_free_ char **targets = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        const char *uuid_file = NULL;
        int r, ret = 0;

        r = verb_parse_options("rm", argc, argv, options, help, parse_option, &uuid_file);
        if (r <= 0)
                return r;
        r = rocket_pod_targets("rm", uuid_file, argc, argv, &targets);
        if (r < 0)
                return r;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "rm: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0)
                return r;
        STRV_FOREACH(t, targets) {
                _cleanup_(pod_freep) Pod *p = NULL;

                r = rocket_pod_resolve(pods_fd, *t, &p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                if (IN_SET(p->state, POD_RUNNING, POD_PREPARING)) {
                        ret = log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Pod %s is %s; stop it first.", p->uuid,
                                              pod_state_to_string(p->state));
                        continue;
                }
                r = rocket_pod_remove(pods_fd, p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                printf("%s\n", p->uuid);
        }
        return ret;
}
