/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seccomp-util.h"
#include "tests.h"

/* Runs check in a child (filters cannot be unloaded): its exit status, 0 when every expectation held,
 * else the number of the first that did not. */
static int in_child(int (*check)(void)) {
        int status;
        pid_t pid = fork();

        if (pid == 0)
                _exit(check());
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

#define EXPECT(n, cond) do { if (!(cond)) return n; } while (0)

TEST(groups_from_systemd) {
        const char *const *m = syscall_group_members("@system-service");
        bool nested = false;

        ASSERT_NOT_NULL(m);
        for (; *m; m++)
                nested = nested || streq(*m, "@basic-io");
        ASSERT_TRUE(nested);
        ASSERT_NOT_NULL(syscall_group_members("@clock"));
        ASSERT_NULL(syscall_group_members("@frobnicate"));
        ASSERT_EQ(errno_from_name("ENOSYS"), ENOSYS);
        ASSERT_ERROR(errno_from_name("EFROB"), EINVAL);
}

static int restrictions(void) {
        EXPECT(1, seccomp_load_restrictions(true, true) == 0);
        /* personality(): Docker's values pass, others fail, whatever the upper half of the register. */
        EXPECT(2, personality(0xffffffff) >= 0);
        EXPECT(3, personality(PER_LINUX32) >= 0);
        EXPECT(4, personality(PER_LINUX32 | UNAME26) >= 0);
        EXPECT(5, personality(PER_LINUX) >= 0);
        EXPECT(6, personality(PER_LINUX | READ_IMPLIES_EXEC) < 0 && errno == EPERM);
        EXPECT(7, personality(ADDR_NO_RANDOMIZE) < 0 && errno == EPERM);
        EXPECT(8, syscall(SYS_personality, 0x100000000UL | READ_IMPLIES_EXEC) < 0 && errno == EPERM);
        EXPECT(9, personality(0xfffffffe) < 0 && errno == EPERM);
        /* No new user namespaces, by any call. */
        EXPECT(10, unshare(CLONE_NEWUSER) < 0 && errno == EPERM);
        EXPECT(11, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0) < 0 && errno == EPERM);
        EXPECT(12, setns(0, 0) < 0 && errno == EPERM);
        EXPECT(13, setns(0, CLONE_NEWUSER) < 0 && errno == EPERM);
        EXPECT(14, syscall(SYS_clone3, NULL, 0) < 0 && errno == ENOSYS);
        /* What is not restricted still works. */
        EXPECT(15, getpid() > 0);
        /* Loading a filter does not set no_new_privs by itself. */
        EXPECT(16, prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
        return 0;
}

TEST(restrictions_filter) {
        /* Without privileges, a filter loads only with no_new_privs. */
        if (geteuid() != 0)
                ASSERT_TRUE(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        ASSERT_EQ(in_child(restrictions), 0);
}

static int blocklist(void) {
        char *names[] = { (char *) "@clock", (char *) "keyctl", NULL };
        struct timespec ts;

        EXPECT(1, seccomp_load_app_filter("remove", names, ENOSYS, NULL) == 0);
        EXPECT(2, clock_gettime(CLOCK_REALTIME, &ts) == 0);
        EXPECT(3, clock_settime(CLOCK_REALTIME, &ts) < 0 && errno == ENOSYS);      /* via the group */
        EXPECT(4, syscall(SYS_keyctl, 0, 0, 0) < 0 && errno == ENOSYS);
        return 0;
}

static int allowlist(void) {
        /* Broad enough for a sanitizer's runtime too. */
        char *names[] = { (char *) "@system-service", NULL };

        EXPECT(1, seccomp_load_app_filter("retain", names, EPERM, NULL) == 0);
        EXPECT(2, getpid() > 0);
        EXPECT(3, write(STDOUT_FILENO, "", 0) == 0);
        /* Not in the group (@module): refused before the kernel could say ENOENT. */
        EXPECT(4, syscall(SYS_delete_module, "rocket-test-no-such-module", 0) < 0 && errno == EPERM);
        return 0;
}

static int unknown_group(void) {
        char *names[] = { (char *) "@frobnicate", NULL };
        const char *bad = NULL;

        EXPECT(1, seccomp_load_app_filter("remove", names, EPERM, &bad) == -ENOENT);
        EXPECT(2, bad && streq(bad, "@frobnicate"));
        EXPECT(3, seccomp_load_app_filter("sideways", names, EPERM, NULL) == -EINVAL);
        return 0;
}

TEST(app_filters) {
        if (geteuid() != 0)
                ASSERT_TRUE(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
        ASSERT_EQ(in_child(blocklist), 0);
        ASSERT_EQ(in_child(allowlist), 0);
        ASSERT_EQ(in_child(unknown_group), 0);
}
