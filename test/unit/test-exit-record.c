/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "exit-record.h"
#include "tests.h"

TEST(round_trip) {
        char line[EXIT_RECORD_MAX];
        ExitRecord r, back;

        ASSERT_OK(exit_record_from_systemd("exited", "3", 1234, &r));
        ASSERT_OK(exit_record_format(&r, line));
        ASSERT_STREQ(line, "exited 3 1234\n");
        ASSERT_OK(exit_record_parse(line, &back));
        ASSERT_STREQ(back.how, "exited");
        ASSERT_EQ(back.status, 3);
        ASSERT_EQ(back.when_usec, (uint64_t) 1234);

        ASSERT_OK(exit_record_from_systemd("killed", "TERM", 5, &r));
        ASSERT_EQ(r.status, SIGTERM);
        ASSERT_OK(exit_record_format(&r, line));
        ASSERT_STREQ(line, "killed TERM 5\n");

        /* A waitpid() status gives the same line as systemd's words for it. */
        exit_record_from_wait_status(W_EXITCODE(0, SIGKILL), 7, &r);
        ASSERT_OK(exit_record_format(&r, line));
        ASSERT_STREQ(line, "killed KILL 7\n");
        exit_record_from_wait_status(W_EXITCODE(42, 0), 8, &r);
        ASSERT_OK(exit_record_format(&r, line));
        ASSERT_STREQ(line, "exited 42 8\n");
}

TEST(refuses_what_is_not_a_record) {
        static const char *const bad[] = {
                "", "exited\n", "exited 0\n", "exited 0 5", "exited 256 5\n", "exited -1 5\n", "exited x 5\n",
                "killed FROB 5\n", "running 0 5\n", "exited 0 5\nmore", "exited 0 -5\n",
                "exited 0 5 6\n", "killed 9 5\n",
        };
        ExitRecord r;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_ERROR(exit_record_parse(bad[i], &r), EBADMSG);
        ASSERT_ERROR(exit_record_parse(NULL, &r), EBADMSG);
        ASSERT_ERROR(exit_record_from_systemd(NULL, "0", 0, &r), EINVAL);
}

TEST(failed_as_systemd_judges) {
        ExitRecord r;

        ASSERT_OK(exit_record_from_systemd("exited", "0", 0, &r));
        ASSERT_FALSE(exit_record_failed(&r));
        ASSERT_OK(exit_record_from_systemd("exited", "1", 0, &r));
        ASSERT_TRUE(exit_record_failed(&r));
        ASSERT_OK(exit_record_from_systemd("killed", "TERM", 0, &r));
        ASSERT_FALSE(exit_record_failed(&r));
        ASSERT_OK(exit_record_from_systemd("killed", "PIPE", 0, &r));
        ASSERT_FALSE(exit_record_failed(&r));
        ASSERT_OK(exit_record_from_systemd("killed", "KILL", 0, &r));
        ASSERT_TRUE(exit_record_failed(&r));
        ASSERT_OK(exit_record_from_systemd("dumped", "TERM", 0, &r));
        ASSERT_TRUE(exit_record_failed(&r));
}
