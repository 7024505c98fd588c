/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket gc: exited pods marked, then removed after the grace period; prepared pods never run expire. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-all.h"
#include "time-util.h"

enum { ARG_GRACE = 0x100, ARG_EXPIRE, ARG_MARK_ONLY };

static void help(void) {
        printf("Usage: rocket gc [OPTIONS...]\n\nRemove exited pods after a grace period, and prepared pods "
                       "never run.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --grace-period=DURATION     Keep exited pods this long (default 30min)\n"
                       "     --expire-prepared=DURATION  Keep prepared pods this long (default 24h)\n"
                       "     --mark-only         Only mark exited and expired pods as garbage; remove\n"
                       "                         nothing (rkt's, for ExecStopPost=)\n");
}

static uint64_t mark_time(const Pod *p) {
        _cleanup_free_ char *text = NULL;

        if (read_full_file_at(p->dir_fd, "gc-marked", 64, &text, NULL) < 0)
                return 0;
        return strtoull(text, NULL, 10);
}

typedef struct GcArgs {
        uint64_t grace_usec, expire_usec;
        bool mark_only;
} GcArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        GcArgs *a = userdata;

        if (option == ARG_MARK_ONLY) {
                a->mark_only = true;
                return 0;
        }
        if (parse_duration(arg, option == ARG_GRACE ? &a->grace_usec : &a->expire_usec) < 0)
                return log_usage("gc: invalid duration '%s'.", arg);
        return 0;
}

int verb_gc(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "grace-period", required_argument, NULL, ARG_GRACE },
                { "expire-prepared", required_argument, NULL, ARG_EXPIRE },
                { "mark-only", no_argument, NULL, ARG_MARK_ONLY },
                {}
        };
        GcArgs a = { .grace_usec = 30 * 60 * USEC_PER_SEC, .expire_usec = 24 * 3600 * USEC_PER_SEC };
        _cleanup_close_ int pods_fd = -EBADF;
        Pod **l = NULL;
        size_t n = 0, removed = 0;
        uint64_t now = now_realtime_usec();
        int r, ret = 0;

        r = verb_parse_options("gc", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage("gc: takes no arguments.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "gc: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0 || pods_fd < 0)
                return r;
        r = pod_list(pods_fd, &l, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to list pods: %m");

        for (size_t i = 0; i < n; i++) {
                Pod *p = l[i];
                char stamp[32];

                /* Mark: exited pods go to exited-garbage (when), expired prepared pods and abandoned embryos to
                 * garbage. */
                switch (p->state) {
                case POD_EXITED:
                        snprintf(stamp, sizeof stamp, "%llu\n", (unsigned long long) now);
                        if (pod_lock_exclusive(p->dir_fd) < 0)
                                continue;
                        (void) write_file_volatile_at(p->dir_fd, "gc-marked", stamp, strlen(stamp), 0644);
                        r = pod_transition(pods_fd, p, POD_EXITED_GARBAGE);
                        if (r < 0 && r != -ENOENT)
                                ret = log_error_errno(r, "Failed to mark pod %s: %m", p->uuid);
                        break;
                case POD_PREPARED:
                        if (p->created_usec + a.expire_usec > now || pod_lock_exclusive(p->dir_fd) < 0)
                                continue;
                        r = pod_transition(pods_fd, p, POD_GARBAGE);
                        if (r < 0 && r != -ENOENT)
                                ret = log_error_errno(r, "Failed to mark pod %s: %m", p->uuid);
                        break;
                case POD_EMBRYO:
                        /* Unlocked for a while: its rocket died while creating it (a fresh one may not
                         * have taken its lock yet). */
                        if (p->created_usec + 60 * 1000000ULL < now && pod_lock_exclusive(p->dir_fd) >= 0)
                                (void) pod_transition(pods_fd, p, POD_GARBAGE);
                        break;
                default:
                        break;
                }
        }
        /* Sweep. */
        for (size_t i = 0; i < n && !a.mark_only; i++) {
                Pod *p = l[i];

                if (p->state == POD_EXITED_GARBAGE) {
                        uint64_t marked = mark_time(p);

                        if (marked + a.grace_usec > now)
                                continue;
                } else if (p->state != POD_GARBAGE)
                        continue;
                r = rocket_pod_remove(pods_fd, p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                removed++;
                log_info("Removed pod %s.", p->uuid);
        }
        /* Hidden leftovers of removals that were interrupted. */
        if (!a.mark_only) {
                _cleanup_(closedirp) DIR *d = NULL;

                if (opendir_at(pods_fd, "garbage", &d) >= 0)
                        for (struct dirent *de; (de = readdir(d)); )
                                if (startswith(de->d_name, ".deleting-"))
                                        (void) rm_rf_at(dirfd(d), de->d_name);
        }
        pod_array_free(l, n);
        return ret;
}
