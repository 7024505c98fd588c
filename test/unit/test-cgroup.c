/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs-util.h"
#include "stage1.h"
#include "tests.h"

/* Where systemd marks a delegated unit: a hybrid host's systemd 252 only on the unit's cgroup2 directory,
 * a legacy one on name=systemd, a unified one on its only hierarchy. Both places are read. */
TEST(delegation_marker_on_either_hierarchy) {
        char base[] = "/dev/shm/rocket-test-cgroup.XXXXXX";
        char v1[64], v2[64];

        ASSERT_NOT_NULL(mkdtemp(base));
        snprintf(v1, sizeof v1, "%s/v1", base);
        snprintf(v2, sizeof v2, "%s/v2", base);
        ASSERT_EQ(mkdir(v1, 0755), 0);
        ASSERT_EQ(mkdir(v2, 0755), 0);
        if (setxattr(v2, "trusted.delegate", "1", 1, 0) < 0) {
                (void) rm_rf_at(AT_FDCWD, base);
                test_skip("trusted xattrs need root and a filesystem that keeps them");
        }
        ASSERT_TRUE(cgroup_dirs_delegated(v2, v1));            /* hybrid, systemd 252 */
        ASSERT_TRUE(cgroup_dirs_delegated(v2, NULL));          /* unified */
        ASSERT_FALSE(cgroup_dirs_delegated(v1, NULL));
        ASSERT_FALSE(cgroup_dirs_delegated(NULL, v1));
        ASSERT_FALSE(cgroup_dirs_delegated(NULL, NULL));
        ASSERT_EQ(setxattr(v1, "trusted.delegate", "1", 1, 0), 0);
        ASSERT_TRUE(cgroup_dirs_delegated(NULL, v1));          /* legacy */
        ASSERT_EQ(setxattr(v1, "trusted.delegate", "0", 1, 0), 0);
        ASSERT_FALSE(cgroup_dirs_delegated(NULL, v1));
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}
