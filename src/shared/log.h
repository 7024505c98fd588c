/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>
#include <syslog.h>

#include "macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,        /* the journal if stderr is connected to it, else stderr */
        LOG_TARGET_CONSOLE,
        LOG_TARGET_JOURNAL,
        _LOG_TARGET_MAX,
        _LOG_TARGET_INVALID = -EINVAL,
} LogTarget;

const char *log_target_to_string(LogTarget t) _pure_;
LogTarget log_target_from_string(const char *s) _pure_;

/* An error without an errno of its own: logged without an ERRNO= field, returned as -e. */
#define SYNTHETIC_ERRNO(e) (1 << 30 | (e))
#define ERRNO_VALUE(e) (abs(e) & ~(1 << 30))
#define IS_SYNTHETIC_ERRNO(e) ((abs(e) & (1 << 30)) != 0)

/* Whether fd is the stream systemd connected to the journal ($JOURNAL_STREAM): running under systemd. */
bool fd_is_journal_stream(int fd);

/* Resets the logging state: the program name, the level from $ROCKET_LOG_LEVEL and the target. */
void log_setup(const char *program);

void log_set_max_level(int level);
int log_get_max_level(void);
int log_set_max_level_from_string(const char *s);
void log_set_target(LogTarget target);
LogTarget log_get_target(void);

/* Extra journal fields (e.g. "POD_UUID=…") are passed as a NULL-terminated list in fields. */
int log_internalv(int level, int error, const char *const *fields, const char *file, int line,
                  const char *func, const char *format, va_list ap) _printf_(7, 0);
int log_internal(int level, int error, const char *const *fields, const char *file, int line,
                 const char *func, const char *format, ...) _printf_(7, 8);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), NULL, __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_full(level, ...) log_full_errno((level), 0, __VA_ARGS__)

#define log_debug(...)   log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)    log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)  log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)   log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, (e), __VA_ARGS__)
#define log_notice_errno(e, ...)  log_full_errno(LOG_NOTICE, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, (e), __VA_ARGS__)

#define log_oom() log_error_errno(SYNTHETIC_ERRNO(ENOMEM), "Out of memory.")

/* A usage error: one line, and a return value that main() maps to exit status 2. */
#define log_usage(...) (log_error(__VA_ARGS__), -ERRNO_USAGE)
