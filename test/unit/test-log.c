/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <fcntl.h>

#include "log.h"
#include "tests.h"

TEST(log_target_table_round_trip) {
        for (LogTarget t = 0; t < _LOG_TARGET_MAX; t++)
                ASSERT_EQ(log_target_from_string(log_target_to_string(t)), t);
        ASSERT_EQ(log_target_from_string("syslog"), -EINVAL);
        ASSERT_NULL(log_target_to_string(_LOG_TARGET_MAX));
}

TEST(log_errno_returns_negative) {
        log_setup("test");
        log_set_max_level(LOG_EMERG);   /* quiet */
        ASSERT_EQ(log_error_errno(-ENOENT, "x"), -ENOENT);
        ASSERT_EQ(log_error_errno(ENOENT, "x"), -ENOENT);
        ASSERT_EQ(log_error_errno(SYNTHETIC_ERRNO(EINVAL), "x"), -EINVAL);
        ASSERT_EQ(log_error("x"), 0);
        ASSERT_EQ(log_usage("x"), -ERRNO_USAGE);
}

TEST(log_formats_percent_m_and_program) {
        char buf[256] = {};
        int p[2], saved;
        ssize_t n;

        ASSERT_OK(pipe(p) < 0 ? -errno : 0);
        saved = dup(STDERR_FILENO);
        dup2(p[1], STDERR_FILENO);
        unsetenv("JOURNAL_STREAM");
        unsetenv("ROCKET_LOG_LEVEL");
        unsetenv("ROCKET_LOG_TARGET");
        log_setup("probe");
        log_error_errno(-ENOENT, "Failed to open '%s': %m", "x");
        log_debug("hidden at the default level");
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(p[1]);
        n = read(p[0], buf, sizeof buf - 1);
        ASSERT_TRUE(n > 0);
        ASSERT_STREQ(buf, "probe: Failed to open 'x': No such file or directory\n");
}

TEST(log_level_from_environment) {
        setenv("ROCKET_LOG_LEVEL", "debug", 1);
        log_setup("t");
        ASSERT_EQ(log_get_max_level(), LOG_DEBUG);
        setenv("ROCKET_LOG_LEVEL", "warning", 1);
        log_setup("t");
        ASSERT_EQ(log_get_max_level(), LOG_WARNING);
        ASSERT_ERROR(log_set_max_level_from_string("loud"), EINVAL);
}
