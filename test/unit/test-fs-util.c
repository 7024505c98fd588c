/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read_file_or_empty_at(); rm_rf_at(): every kind of entry goes, read-only directories too, and nothing a link points at. */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "tests.h"

TEST(read_file_or_empty) {
        char *text = NULL;

        ASSERT_OK(read_file_or_empty_at(AT_FDCWD, "/nonexistent/file", 4096, &text));
        ASSERT_TRUE(text && text[0] == 0);
        free(text);
        ASSERT_OK(read_file_or_empty_at(AT_FDCWD, "/proc/self/comm", 4096, &text));
        ASSERT_TRUE(text && text[0] != 0);
        free(text);
        ASSERT_TRUE(read_file_or_empty_at(AT_FDCWD, "/proc/self", 4096, &text) < 0);       /* not ENOENT: an error */
}

TEST(rm_rf) {
        char base[] = "/tmp/test-fs-util.XXXXXX", p[256];
        int fd;

        ASSERT_NOT_NULL(mkdtemp(base));
        snprintf(p, sizeof p, "%s/keep", base);
        ASSERT_OK(mkdir(p, 0755));
        snprintf(p, sizeof p, "%s/keep/precious", base);
        fd = open(p, O_WRONLY|O_CREAT|O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(p, sizeof p, "%s/tree/a/b", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/tree/a/b/file", base);
        fd = open(p, O_WRONLY|O_CREAT|O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(p, sizeof p, "%s/tree/a/fifo", base);
        ASSERT_OK(mkfifo(p, 0600));
        snprintf(p, sizeof p, "%s/tree/a/link", base);
        ASSERT_OK(symlink("../../keep", p));
        snprintf(p, sizeof p, "%s/tree/a/b", base);
        ASSERT_OK(chmod(p, 0500));             /* read-only, as an image's directory may be */

        snprintf(p, sizeof p, "%s/tree", base);
        ASSERT_OK(rm_rf_at(AT_FDCWD, p));
        ASSERT_TRUE(access(p, F_OK) < 0);
        snprintf(p, sizeof p, "%s/keep/precious", base);
        ASSERT_OK(access(p, F_OK));            /* the link went, not what it pointed at */
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
        ASSERT_TRUE(access(base, F_OK) < 0);
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));   /* gone already: fine */
}
