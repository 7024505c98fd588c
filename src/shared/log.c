/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-login.h>

#include "log.h"

static const char *log_target_table[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_CONSOLE] = "console",
        [LOG_TARGET_JOURNAL] = "journal",
};

DEFINE_STRING_TABLE(log_target, LogTarget, _LOG_TARGET_MAX);

/* Process-wide by nature (like stderr itself); log_setup() resets all of it. */
static struct {
        const char *program;
        int max_level;
        LogTarget target;
} log_state = { "rocket", LOG_INFO, LOG_TARGET_AUTO };

static const char *const level_names[] = {
        [LOG_DEBUG] = "debug", [LOG_INFO] = "info",  [LOG_NOTICE] = "notice", [LOG_WARNING] = "warning",
        [LOG_ERR] = "err",     [LOG_CRIT] = "crit",  [LOG_ALERT] = "alert",   [LOG_EMERG] = "emerg",
};

int log_set_max_level_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (streq(level_names[i], s)) {
                        log_state.max_level = (int) i;
                        return 0;
                }
        if (streq(s, "error")) {
                log_state.max_level = LOG_ERR;
                return 0;
        }
        return -EINVAL;
}

void log_setup(const char *program) {
        const char *e;

        log_state.program = program ?: "rocket";
        log_state.max_level = LOG_INFO;
        log_state.target = LOG_TARGET_AUTO;

        e = getenv("ROCKET_LOG_LEVEL");
        if (e && log_set_max_level_from_string(e) < 0)
                log_warning("Unknown log level '%s' in $ROCKET_LOG_LEVEL, ignoring.", e);
        e = getenv("ROCKET_LOG_TARGET");
        if (e) {
                LogTarget t = log_target_from_string(e);
                if (t < 0)
                        log_warning("Unknown log target '%s' in $ROCKET_LOG_TARGET, ignoring.", e);
                else
                        log_state.target = t;
        }
}

void log_set_max_level(int level) {
        log_state.max_level = level;
}

int log_get_max_level(void) {
        return log_state.max_level;
}

void log_set_target(LogTarget target) {
        log_state.target = target;
}

LogTarget log_get_target(void) {
        return log_state.target;
}

/* systemd.exec(5): $JOURNAL_STREAM is "DEV:INODE" of the stream connected to the journal. */
bool fd_is_journal_stream(int fd) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(fd, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

static bool stderr_is_journal(void) {
        return fd_is_journal_stream(STDERR_FILENO);
}

static int log_to_journal(int level, int error, const char *const *fields, const char *file, int line,
                          const char *func, const char *msg) {
        struct iovec iov[32];
        char buf[5][128];
        size_t n = 0;
        _cleanup_free_ char *m = NULL;

        if (asprintf(&m, "MESSAGE=%s", msg) < 0)
                return -ENOMEM;
        iov[n++] = (struct iovec) { m, strlen(m) };
        snprintf(buf[0], sizeof buf[0], "PRIORITY=%i", level);
        iov[n++] = (struct iovec) { buf[0], strlen(buf[0]) };
        snprintf(buf[1], sizeof buf[1], "SYSLOG_IDENTIFIER=%s", log_state.program);
        iov[n++] = (struct iovec) { buf[1], strlen(buf[1]) };
        snprintf(buf[2], sizeof buf[2], "CODE_FILE=%s", file);
        iov[n++] = (struct iovec) { buf[2], strlen(buf[2]) };
        snprintf(buf[3], sizeof buf[3], "CODE_LINE=%i", line);
        iov[n++] = (struct iovec) { buf[3], strlen(buf[3]) };
        snprintf(buf[4], sizeof buf[4], "CODE_FUNC=%s", func);
        iov[n++] = (struct iovec) { buf[4], strlen(buf[4]) };

        char errbuf[32];
        if (error != 0 && !IS_SYNTHETIC_ERRNO(error)) {
                snprintf(errbuf, sizeof errbuf, "ERRNO=%i", ERRNO_VALUE(error));
                iov[n++] = (struct iovec) { errbuf, strlen(errbuf) };
        }
        /* A short-lived process may be gone before journald looks up its unit: name it ourselves, as root
         * may (journalctl -u matches OBJECT_SYSTEMD_UNIT= of uid 0). */
        _cleanup_free_ char *unit = NULL, *object = NULL;
        if (geteuid() == 0 && sd_pid_get_unit(0, &unit) >= 0 && asprintf(&object, "OBJECT_SYSTEMD_UNIT=%s", unit) >= 0)
                iov[n++] = (struct iovec) { object, strlen(object) };
        for (; fields && *fields && n < ELEMENTSOF(iov); fields++)
                iov[n++] = (struct iovec) { (char *) *fields, strlen(*fields) };

        return sd_journal_sendv(iov, (int) n);
}

int log_internalv(int level, int error, const char *const *fields, const char *file, int line,
                  const char *func, const char *format, va_list ap) {
        char msg[2048];
        int saved_errno = errno;

        if (level > log_state.max_level)
                return -ERRNO_VALUE(error);

        /* Make %m print the error we were given. */
        errno = ERRNO_VALUE(error);
        vsnprintf(msg, sizeof msg, format, ap);

        bool journal = log_state.target == LOG_TARGET_JOURNAL ||
                       (log_state.target == LOG_TARGET_AUTO && stderr_is_journal());
        if (!journal || log_to_journal(level, error, fields, file, line, func, msg) < 0)
                fprintf(stderr, "%s: %s\n", log_state.program, msg);

        errno = saved_errno;
        return -ERRNO_VALUE(error);
}

int log_internal(int level, int error, const char *const *fields, const char *file, int line,
                 const char *func, const char *format, ...) {
        va_list ap;
        int r;

        va_start(ap, format);
        r = log_internalv(level, error, fields, file, line, func, format, ap);
        va_end(ap);
        return r;
}
