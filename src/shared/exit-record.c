/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "exit-record.h"

static int signal_from_name(const char *name) {
        for (int i = 1; i < NSIG; i++) {
                const char *d = sigabbrev_np(i);

                if (d && strcmp(d, name) == 0)
                        return i;
        }
        return -EINVAL;
}

static bool how_is_valid(const char *how) {
        return strcmp(how, "exited") == 0 || strcmp(how, "killed") == 0 || strcmp(how, "dumped") == 0;
}

int exit_record_from_systemd(const char *code, const char *status, uint64_t when_usec, ExitRecord *ret) {
        ExitRecord r = { .when_usec = when_usec };
        char *end;

        if (!code || !status || !how_is_valid(code))
                return -EINVAL;
        snprintf(r.how, sizeof r.how, "%s", code);
        if (strcmp(code, "exited") == 0) {
                long v = strtol(status, &end, 10);

                if (end == status || *end || v < 0 || v > 255)
                        return -EINVAL;
                r.status = (int) v;
        } else {
                r.status = signal_from_name(status);
                if (r.status < 0)
                        return -EINVAL;
        }
        *ret = r;
        return 0;
}

void exit_record_from_wait_status(int wait_status, uint64_t when_usec, ExitRecord *ret) {
        *ret = (ExitRecord) { .when_usec = when_usec };
        if (WIFSIGNALED(wait_status)) {
                snprintf(ret->how, sizeof ret->how, "%s", WCOREDUMP(wait_status) ? "dumped" : "killed");
                ret->status = WTERMSIG(wait_status);
        } else {
                snprintf(ret->how, sizeof ret->how, "exited");
                ret->status = WEXITSTATUS(wait_status);
        }
}

int exit_record_format(const ExitRecord *r, char buf[static EXIT_RECORD_MAX]) {
        if (strcmp(r->how, "exited") == 0)
                snprintf(buf, EXIT_RECORD_MAX, "exited %i %" PRIu64 "\n", r->status, r->when_usec);
        else {
                const char *sig = sigabbrev_np(r->status);

                if (!sig)
                        return -EINVAL;
                snprintf(buf, EXIT_RECORD_MAX, "%s %s %" PRIu64 "\n", r->how, sig, r->when_usec);
        }
        return 0;
}

int exit_record_parse(const char *text, ExitRecord *ret) {
        char how[8], status[32];
        const char *w;
        uint64_t when;
        int n = -1;

        if (!text || strlen(text) >= EXIT_RECORD_MAX)
                return -EBADMSG;
        /* Exactly "HOW STATUS USEC\n": nothing after it, and no sign before the time. */
        if (sscanf(text, "%7s %31s %n", how, status, &n) != 2 || n < 0)
                return -EBADMSG;
        w = text + n;
        if (*w < '0' || *w > '9' || sscanf(w, "%" SCNu64 "%n", &when, &n) != 1 || strcmp(w + n, "\n") != 0)
                return -EBADMSG;
        if (exit_record_from_systemd(how, status, when, ret) < 0)
                return -EBADMSG;
        return 0;
}

bool exit_record_failed(const ExitRecord *r) {
        if (strcmp(r->how, "exited") == 0)
                return r->status != 0;
        return strcmp(r->how, "killed") != 0 ||
               !(r->status == SIGHUP || r->status == SIGINT || r->status == SIGTERM || r->status == SIGPIPE);
}

int wait_status_from_siginfo(const siginfo_t *si) {
        if (si->si_code == CLD_EXITED)
                return W_EXITCODE(si->si_status, 0);
        return W_EXITCODE(0, si->si_status) | (si->si_code == CLD_DUMPED ? 0x80 : 0);
}

int wait_status_to_exit_code(int wait_status) {
        return WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : WEXITSTATUS(wait_status);
}
