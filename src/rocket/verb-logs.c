/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket logs: the apps' output from the pod's own journal (in the pod directory), while the pod runs and
 * after it exited, until gc removes the pod. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "sigbus.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-all.h"

static void help(void) {
        printf("Usage: rocket logs [OPTIONS...] POD\n"
               "\n"
               "Show the output of a pod's apps, from the pod's journal.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --app=APP           Only this app\n"
               "  -f --follow            Keep printing new output until the pod exits\n"
               "  -n --lines=N           Only the last N lines\n"
               "     --no-prefix         Print the messages alone, without time and app\n");
}


static int print_entry(sd_journal *j, bool prefix) {
        const void *msg, *id;
        size_t msg_len, id_len;
        uint64_t usec;

        if (sd_journal_get_data(j, "MESSAGE", &msg, &msg_len) < 0 || msg_len < 8)
                return 0;
        if (prefix) {
                char when[32];
                time_t t;
                struct tm tm;

                if (sd_journal_get_realtime_usec(j, &usec) < 0)
                        usec = 0;
                t = (time_t) (usec / 1000000);
                strftime(when, sizeof when, "%b %d %H:%M:%S", localtime_r(&t, &tm));
                if (sd_journal_get_data(j, "SYSLOG_IDENTIFIER", &id, &id_len) < 0 || id_len < 18) {
                        id = "SYSLOG_IDENTIFIER=?";
                        id_len = 19;
                }
                printf("%s %.*s: ", when, (int) (id_len - 18), (const char *) id + 18);
        }
        fwrite((const char *) msg + 8, 1, msg_len - 8, stdout);
        fputc('\n', stdout);
        return 0;
}

typedef struct LogsArgs {
        const char *app;
        bool follow, prefix;
        long lines;
} LogsArgs;

enum { ARG_APP = 0x100, ARG_NO_PREFIX };

static int parse_option(int option, const char *arg, void *userdata) {
        LogsArgs *a = userdata;
        char *end;

        switch (option) {
        case ARG_APP:
                if (!name_is_valid(arg))
                        return log_usage("logs: invalid app name '%s'.", arg);
                a->app = arg;
                break;
        case 'f':
                a->follow = true;
                break;
        case 'n':
                a->lines = strtol(arg, &end, 10);
                if (*end || a->lines < 0)
                        return log_usage("logs: invalid number of lines '%s'.", arg);
                break;
        case ARG_NO_PREFIX:
                a->prefix = false;
                break;
        }
        return 0;
}

int verb_logs(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "app", required_argument, NULL, ARG_APP },
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                { "no-prefix", no_argument, NULL, ARG_NO_PREFIX },
                {}
        };
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_free_ char *dir = NULL;
        LogsArgs a = { .prefix = true, .lines = -1 };
        int r;

        /* Options before or after POD, as with journalctl. */
        r = verb_parse_options_full("logs", ":hfn:", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return log_usage("logs: give exactly one POD.");
        r = rocket_pod_find(ctx, argv[optind], &pods_fd, &p);
        if (r < 0)
                return r;
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        if (a.app && !pod_manifest_find_app(p->manifest, a.app))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", p->uuid, a.app);
        if (asprintf(&dir, "%s/pods/%s/journal", ctx->dir, p->path) < 0)
                return log_oom();
        r = sigbus_guard_install();
        if (r < 0)
                return log_error_errno(r, "Failed to install a SIGBUS handler: %m");
        r = sd_journal_open_directory(&j, dir, 0);
        if (r < 0)
                return log_error_errno(r, "Pod %s has no journal (it never ran?): %m", p->uuid);
        /* Only the pod's own entries: the pod writes that directory, and could link other journals in. */
        {
                char mid[33], match[64];

                r = pod_machine_id(p->uuid, mid);
                if (r >= 0) {
                        snprintf(match, sizeof match, "_MACHINE_ID=%s", mid);
                        r = sd_journal_add_match(j, match, 0);
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to filter the journal: %m");
        }
        for (size_t i = 0; i < p->manifest->n_apps; i++) {
                _cleanup_free_ char *match = NULL;

                if (a.app && !streq(a.app, p->manifest->apps[i].name))
                        continue;
                if (asprintf(&match, "_SYSTEMD_UNIT=%s.service", p->manifest->apps[i].name) < 0)
                        return log_oom();
                r = sd_journal_add_match(j, match, 0);
                if (r < 0)
                        return log_error_errno(r, "Failed to filter the journal: %m");
        }
        if (a.lines >= 0) {
                /* On the Nth entry from the end (or the first, if there are fewer): print it, then on. */
                r = sd_journal_seek_tail(j);
                if (r >= 0 && a.lines > 0) {
                        r = sd_journal_previous_skip(j, (uint64_t) a.lines);
                        if (r > 0)
                                print_entry(j, a.prefix);
                }
        } else
                r = sd_journal_seek_head(j);
        if (r < 0)
                return log_error_errno(r, "Failed to seek in the journal: %m");

        for (;;) {
                r = sd_journal_next(j);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the journal: %m");
                if (r > 0) {
                        print_entry(j, a.prefix);
                        continue;
                }
                fflush(stdout);
                if (!a.follow || !pod_is_locked(p->dir_fd))
                        break;
                r = sd_journal_wait(j, 250 * 1000);
                if (r < 0)
                        return log_error_errno(r, "Failed to wait for the journal: %m");
        }
        return 0;
}
