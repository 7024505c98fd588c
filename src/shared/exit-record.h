/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* An app's exit record (stage1-abi.h: apps/APP/exit), one line "HOW STATUS USEC": HOW as systemd's
 * $EXIT_CODE says it (exited, killed, dumped), STATUS the exit status, or the signal's name without
 * "SIG" for the other two, USEC the time it ended (CLOCK_REALTIME). Written by every stage1 through
 * these, read by rocket as untrusted input. libc only (the in-pod helper links it). */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ExitRecord {
        char how[8];            /* "exited", "killed", "dumped" */
        int status;             /* the exit status, or the signal's number */
        uint64_t when_usec;
} ExitRecord;

#define EXIT_RECORD_MAX 96

/* From systemd's $EXIT_CODE and $EXIT_STATUS (an app's ExecStopPost=); -EINVAL for values it does not
 * know. */
int exit_record_from_systemd(const char *code, const char *status, uint64_t when_usec, ExitRecord *ret);
/* From a waitpid() status. */
void exit_record_from_wait_status(int wait_status, uint64_t when_usec, ExitRecord *ret);
/* The line, with its newline. */
int exit_record_format(const ExitRecord *r, char buf[static EXIT_RECORD_MAX]);
/* -EBADMSG for anything but a well-formed line. */
int exit_record_parse(const char *text, ExitRecord *ret);
/* As systemd judges services: an exit with 0, or death by SIGHUP, SIGINT, SIGTERM or SIGPIPE, is clean. */
bool exit_record_failed(const ExitRecord *r);

/* A child's end as a siginfo reports it (sd-event's child sources), as waitpid()'s status. */
int wait_status_from_siginfo(const siginfo_t *si);
/* A wait status as a shell reports it: the exit status, or 128 + the signal. */
int wait_status_to_exit_code(int wait_status);
