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

enum { ARG_FORCE = 0x100, ARG_TIMEOUT };

static void help(void) {
        printf("Usage: rocket stop [OPTIONS...] POD...\n\nStop running pods gracefully (the apps get SIGTERM), "
                       "and wait until they have exited.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --force             Kill the pods at once\n"
                       "     --timeout=DURATION  Wait at most DURATION (default 90s), then kill\n");
}

int verb_stop(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, ARG_FORCE },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                {}
        };
        uint64_t timeout_usec = 90 * USEC_PER_SEC;
        bool force = false;
        _cleanup_close_ int pods_fd = -EBADF;
        int c, r, ret = 0;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_FORCE:
                        force = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_duration(optarg, &timeout_usec) < 0)
                                return log_usage("stop: invalid duration '%s'.", optarg);
                        break;
                default:
                        return getopt_error("stop", c, argv);
                }
        if (optind >= argc)
                return log_usage("stop: no POD given.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "stop: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0)
                return r;
        /* Signal every pod first, then wait for them: N pods stop in the time of the slowest. */
        {
                char *kill_args[] = { (char *) "--force", NULL }, *none[] = { NULL };
                Pod **stopping = calloc((size_t) (argc - optind), sizeof(Pod *));
                size_t n = 0;

                if (!stopping)
                        return log_oom();
                for (int i = optind; i < argc; i++) {
                        Pod *p = NULL;

                        r = rocket_pod_resolve(pods_fd, argv[i], &p);
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
                        r = rocket_stage1_call(pods_fd, p, "stop", force ? kill_args : none);
                        if (r != 0) {
                                ret = r < 0 ? r : log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to stop pod %s.", p->uuid);
                                pod_free(p);
                                continue;
                        }
                        stopping[n++] = p;
                }
                for (size_t i = 0; i < n; i++) {
                        Pod *p = stopping[i];

                        r = pod_wait_unlocked(p, timeout_usec);
                        if (r == -ETIMEDOUT && !force) {
                                log_warning("Pod %s did not stop within the timeout; killing it.", p->uuid);
                                (void) rocket_stage1_call(pods_fd, p, "stop", kill_args);
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
