/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket stop: every pod signalled first, then waited for. */
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
#include "time-util.h"
#include "stage1-abi.h"

enum { ARG_FORCE = 0x100, ARG_TIMEOUT, ARG_UUID_FILE };

static void help(void) {
        printf("Usage: rocket stop [OPTIONS...] POD...\n\nStop running pods gracefully (the apps get SIGTERM), "
                       "and wait until they have exited.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --force             Kill the pods at once\n"
                       "     --timeout=DURATION  Wait at most DURATION (default 90s), then kill\n"
                       "     --uuid-file=FILE    Also the pod whose UUID FILE holds (as --uuid-file-save\n"
                       "                         wrote it)\n");
}

typedef struct StopArgs {
        bool force;
        uint64_t timeout_usec;
        const char *uuid_file;
} StopArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        StopArgs *a = userdata;

        if (option == ARG_FORCE)
                a->force = true;
        else if (option == ARG_UUID_FILE)
                a->uuid_file = arg;
        else if (parse_duration(arg, &a->timeout_usec) < 0)
                return log_usage("stop: invalid duration '%s'.", arg);
        return 0;
}

int verb_stop(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, ARG_FORCE },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {}
        };
        StopArgs a = { .timeout_usec = 90 * USEC_PER_SEC };
        _cleanup_strv_free_ char **targets = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        int r, ret = 0;

        r = verb_parse_options("stop", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        r = rocket_pod_targets("stop", a.uuid_file, argc, argv, &targets);
        if (r < 0)
                return r;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "stop: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0)
                return r;
        /* Signal every pod first, then wait for them: N pods stop in the time of the slowest. */
        {
                char *kill_args[] = { (char *) "--force", NULL }, *none[] = { NULL };
                Pod **stopping = calloc(strv_length(targets), sizeof(Pod *));
                size_t n = 0;

                if (!stopping)
                        return log_oom();
                STRV_FOREACH(t, targets) {
                        Pod *p = NULL;

                        r = rocket_pod_resolve(pods_fd, *t, &p);
                        if (r < 0) {
                                ret = r;
                                continue;
                        }
                        if (p->state != POD_RUNNING) {
                                ret = log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is %s, not running.", p->uuid,
                                                      pod_state_to_string(p->state));
                                pod_free(p);
                                continue;
                        }
                        r = rocket_stage1_call(pods_fd, p, STAGE1_ENTRYPOINT_STOP, a.force ? kill_args : none);
                        if (r != 0) {
                                ret = r < 0 ? r : log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to stop pod %s.", p->uuid);
                                pod_free(p);
                                continue;
                        }
                        stopping[n++] = p;
                }
                for (size_t i = 0; i < n; i++) {
                        Pod *p = stopping[i];

                        r = pod_wait_unlocked(p, a.timeout_usec);
                        if (r == -ETIMEDOUT && !a.force) {
                                log_warning("Pod %s did not stop within the timeout; killing it.", p->uuid);
                                (void) rocket_stage1_call(pods_fd, p, STAGE1_ENTRYPOINT_STOP, kill_args);
                                r = pod_wait_unlocked(p, 10 * USEC_PER_SEC);
                        }
                        if (r < 0)
                                ret = log_error_errno(r, "Pod %s did not stop.", p->uuid);
                        else
                                printf("%s\n", p->uuid);
                }
                pod_array_free(stopping, n);
        }
        return ret;
}
