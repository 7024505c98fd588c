/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --private-users, the pieces that need no pod: the namespace's maps and the owner shift. */
#define TESTS_MAIN
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "pod-userns.h"
#include "stage1.h"
#include "string-util.h"
#include "tests.h"

#define BASE 0x70010000U

static void need_root(void) {
        if (geteuid() != 0)
                test_skip("needs root (chown to other users, user namespace maps)");
}

static uid_t owner(const char *dir, const char *name) {
        struct stat st;
        char p[PATH_MAX];

        snprintf(p, sizeof p, "%s/%s", dir, name);
        ASSERT_OK(lstat(p, &st) < 0 ? -errno : 0);
        return st.st_uid;
}

static mode_t mode_of(const char *dir, const char *name) {
        struct stat st;
        char p[PATH_MAX];

        snprintf(p, sizeof p, "%s/%s", dir, name);
        ASSERT_OK(lstat(p, &st) < 0 ? -errno : 0);
        return st.st_mode & 07777;
}

TEST(shift_tree) {
        char dir[] = "/tmp/test-userns.XXXXXX";
        _cleanup_close_ int fd = -EBADF;

        need_root();
        ASSERT_NOT_NULL(mkdtemp(dir));
        fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(mkdir_p_at(fd, "etc/deep/er", 0755));
        ASSERT_OK(write_file_atomic_at(fd, "etc/passwd", "root:x:0:0::/:/bin/sh\n", 22, 0644));
        ASSERT_OK(write_file_atomic_at(fd, "su", "", 0, 0755));
        ASSERT_OK(write_file_atomic_at(fd, "etc/deep/er/app", "", 0, 0600));
        ASSERT_OK(write_file_atomic_at(fd, "outsider", "", 0, 0644));
        ASSERT_TRUE(fchmodat(fd, "su", 04755, 0) == 0);
        ASSERT_TRUE(fchownat(fd, "etc/deep/er/app", 1000, 1000, 0) == 0);
        ASSERT_TRUE(fchownat(fd, "outsider", 70000, 70000, 0) == 0);       /* not ours to shift */
        ASSERT_TRUE(symlinkat("/etc/shadow", fd, "link") == 0);

        ASSERT_OK(userns_shift_tree(dir, BASE));
        ASSERT_EQ(owner(dir, "."), BASE);
        ASSERT_EQ(owner(dir, "etc/passwd"), BASE);
        ASSERT_EQ(owner(dir, "etc/deep/er"), BASE);
        ASSERT_EQ(owner(dir, "etc/deep/er/app"), BASE + 1000);
        ASSERT_EQ(owner(dir, "outsider"), 70000u);
        ASSERT_EQ(owner(dir, "link"), BASE);            /* the link itself, not what it names */
        ASSERT_EQ(owner("/etc", "shadow"), 0u);
        ASSERT_EQ(mode_of(dir, "su"), 04755u);          /* chown dropped set-user-ID: put back */
        /* Shifting again changes nothing. */
        ASSERT_OK(userns_shift_tree(dir, BASE));
        ASSERT_EQ(owner(dir, "etc/deep/er/app"), BASE + 1000);
        ASSERT_OK(rm_rf_at(AT_FDCWD, dir));
}

TEST(new_namespace_maps) {
        _cleanup_close_ int ns = -EBADF;
        char path[64];
        pid_t pid;
        int status;

        need_root();
        ASSERT_OK(userns_new(BASE, &ns));
        /* A process in it is root there and BASE here. */
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ char *map = NULL;

                if (setns(ns, CLONE_NEWUSER) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        _exit(2);
                if (read_full_file_at(AT_FDCWD, "/proc/self/uid_map", 256, &map, NULL) < 0)
                        _exit(3);
                _exit(strstr(map, "1879113728") && strstr(map, "65536") && getuid() == 0 ? 0 : 4);
        }
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
        snprintf(path, sizeof path, "/proc/self/fd/%i", ns);
        ASSERT_TRUE(access(path, F_OK) == 0);
}

TEST(ranges_are_host_wide) {
        static const char *const x = "11111111-1111-4111-8111-111111111111", *const y = "22222222-2222-4222-8222-222222222222";
        char tmp[] = "/tmp/test-userns-reg.XXXXXX", reg[64], a[64], b[64], run_x[PATH_MAX],
             rec[PATH_MAX];
        bool used[POD_USERNS_N] = {};
        _cleanup_close_ int fa = -EBADF, fb = -EBADF;
        uint32_t base;

        need_root();
        ASSERT_NOT_NULL(mkdtemp(tmp));
        snprintf(reg, sizeof reg, "%s/registry", tmp);
        snprintf(a, sizeof a, "%s/a", tmp);
        snprintf(b, sizeof b, "%s/b", tmp);
        ASSERT_OK(pods_open(a, true, &fa));
        ASSERT_OK(pods_open(b, true, &fb));

        /* The first free range, recorded host-wide for pod x of a. */
        ASSERT_OK(pod_userns_claim(reg, fa, x, used, &base));
        ASSERT_EQ(base, POD_USERNS_FIRST);
        snprintf(rec, sizeof rec, "%s/%08x", reg, POD_USERNS_FIRST);
        ASSERT_TRUE(access(rec, F_OK) == 0);
        /* While x exists in a, b's pods get another range. */
        snprintf(run_x, sizeof run_x, "%s/pods/run/%s", a, x);
        ASSERT_TRUE(mkdir(run_x, 0750) == 0);
        ASSERT_OK(pod_userns_claim(reg, fb, y, used, &base));
        ASSERT_EQ(base, POD_USERNS_FIRST + POD_USERNS_SIZE);
        /* Taken in this pods directory: skipped. */
        used[0] = used[1] = true;
        ASSERT_OK(pod_userns_claim(reg, fb, y, used, &base));
        ASSERT_EQ(base, POD_USERNS_FIRST + 2 * POD_USERNS_SIZE);
        used[0] = used[1] = false;
        /* Not created yet, but a's pods lock is held (a rocket run creating x): still taken. */
        ASSERT_TRUE(rmdir(run_x) == 0);
        {
                char lock[PATH_MAX];
                _cleanup_close_ int lfd = -EBADF;

                snprintf(lock, sizeof lock, "%s/pods/lock", a);
                lfd = open(lock, O_RDWR|O_CREAT|O_CLOEXEC, 0600);
                ASSERT_TRUE(lfd >= 0 && flock(lfd, LOCK_EX) == 0);
                ASSERT_OK(pod_userns_claim(reg, fb, y, used, &base));
                ASSERT_EQ(base, POD_USERNS_FIRST + POD_USERNS_SIZE);
        }
        /* Once x is gone (and nobody creates it) its record is stale and the range free again. */
        ASSERT_OK(pod_userns_claim(reg, fb, y, used, &base));
        ASSERT_EQ(base, POD_USERNS_FIRST);
        /* Released by the pod that has it only. */
        {
                PodManifest m = { .userns_base = POD_USERNS_FIRST };
                Pod p = { .uuid = (char *) x, .manifest = &m };

                pod_userns_release(reg, fb, &p);
                ASSERT_TRUE(access(rec, F_OK) == 0);
                p.uuid = (char *) y;
                pod_userns_release(reg, fb, &p);
                ASSERT_TRUE(access(rec, F_OK) < 0 && errno == ENOENT);
        }
        ASSERT_OK(rm_rf_at(AT_FDCWD, tmp));
}
