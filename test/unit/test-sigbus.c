/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fs-util.h"
#include "sigbus.h"
#include "tests.h"

/* A mapped file truncated under the reader: with the guard the read gives zeros instead of SIGBUS. */
TEST(truncated_mapping_reads_zeros) {
        char path[] = "/tmp/test-sigbus.XXXXXX";
        long page = sysconf(_SC_PAGESIZE);
        _cleanup_close_ int fd = mkstemp(path);
        volatile const char *p;
        char *buf = malloc((size_t) page * 2);

        ASSERT_TRUE(fd >= 0 && buf);
        memset(buf, 'x', (size_t) page * 2);
        ASSERT_TRUE(write(fd, buf, (size_t) page * 2) == page * 2);
        p = mmap(NULL, (size_t) page * 2, PROT_READ, MAP_SHARED, fd, 0);
        ASSERT_TRUE(p != MAP_FAILED);
        ASSERT_EQ(p[page], 'x');
        ASSERT_TRUE(ftruncate(fd, 0) == 0);
        ASSERT_OK(sigbus_guard_install());
        ASSERT_EQ(p[page + 7], 0);              /* would be SIGBUS */
        ASSERT_EQ(p[0], 0);
        (void) unlink(path);
        free(buf);
}
