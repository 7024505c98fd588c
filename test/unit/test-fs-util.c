/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* read_file_or_empty_at(); rm_rf_at(): every kind of entry goes, read-only directories too, and nothing a link points at;
 * copy_tree_at(): owners, modes, links as links, special files, nothing overwritten; copy_layer_merge_at(): whiteouts,
 * opaque directories, replacements. */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
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

TEST(copy_tree) {
        char base[] = "/tmp/test-fs-util.XXXXXX", p[256], link[64];
        _cleanup_close_ int src = -EBADF, dst = -EBADF;
        struct stat st;
        ssize_t n;
        int fd;

        ASSERT_NOT_NULL(mkdtemp(base));
        snprintf(p, sizeof p, "%s/src/dir/sub", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/src/dir/file", base);
        fd = open(p, O_WRONLY|O_CREAT|O_CLOEXEC, 0640);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "data", 4), 4);
        close(fd);
        ASSERT_OK(chown(p, 4321, 4322));
        ASSERT_OK(chmod(p, 04750));            /* set after the owner: chown would clear the set-ID bit */
        snprintf(p, sizeof p, "%s/src/dir/link", base);
        ASSERT_OK(symlink("/etc/passwd", p));   /* copied as a link, never followed */
        snprintf(p, sizeof p, "%s/src/dir/fifo", base);
        ASSERT_OK(mkfifo(p, 0604));
        snprintf(p, sizeof p, "%s/src/dir/sub", base);
        ASSERT_OK(chmod(p, 0500));
        snprintf(p, sizeof p, "%s/dst", base);
        ASSERT_OK(mkdir(p, 0755));

        snprintf(p, sizeof p, "%s/src", base);
        src = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        snprintf(p, sizeof p, "%s/dst", base);
        dst = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(src >= 0 && dst >= 0);
        ASSERT_OK(copy_tree_at(src, dst));

        snprintf(p, sizeof p, "%s/dst/dir/file", base);
        ASSERT_OK(lstat(p, &st));
        ASSERT_TRUE(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 04750 && st.st_uid == 4321 && st.st_gid == 4322 &&
                    st.st_size == 4);
        snprintf(p, sizeof p, "%s/dst/dir/link", base);
        n = readlink(p, link, sizeof link - 1);
        ASSERT_TRUE(n == (ssize_t) strlen("/etc/passwd") && strncmp(link, "/etc/passwd", (size_t) n) == 0);
        snprintf(p, sizeof p, "%s/dst/dir/fifo", base);
        ASSERT_OK(lstat(p, &st));
        ASSERT_TRUE(S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0604);
        snprintf(p, sizeof p, "%s/dst/dir/sub", base);
        ASSERT_OK(lstat(p, &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0500);
        /* A second copy onto the first: nothing overwritten. */
        ASSERT_ERROR(copy_tree_at(src, dst), EEXIST);

        snprintf(p, sizeof p, "%s/src/dir/sub", base);
        ASSERT_OK(chmod(p, 0755));
        snprintf(p, sizeof p, "%s/dst/dir/sub", base);
        ASSERT_OK(chmod(p, 0755));
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}

TEST(copy_layer_merge) {
        char base[] = "/tmp/test-fs-util.XXXXXX", p[256];
        _cleanup_close_ int lower = -EBADF, upper = -EBADF, dst = -EBADF;
        struct stat st;
        int fd;

        ASSERT_NOT_NULL(mkdtemp(base));
        /* lower: a/keep, a/gone, b/old, c (a file), d/x */
        snprintf(p, sizeof p, "%s/lower/a", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/lower/b", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/lower/d", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        for (const char *const *f = (const char *const[]) { "a/keep", "a/gone", "b/old", "c", "d/x", NULL }; *f; f++) {
                snprintf(p, sizeof p, "%s/lower/%s", base, *f);
                fd = open(p, O_WRONLY|O_CREAT|O_CLOEXEC, 0644);
                ASSERT_TRUE(fd >= 0);
                close(fd);
        }
        /* upper: a/gone whited out, b opaque with b/new, c now a directory, d/x replaced by a link */
        snprintf(p, sizeof p, "%s/upper/a", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/upper/a/gone", base);
        ASSERT_OK(mknod(p, S_IFCHR|0000, makedev(0, 0)));
        snprintf(p, sizeof p, "%s/upper/b", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        ASSERT_OK(setxattr(p, "trusted.overlay.opaque", "y", 1, 0));
        snprintf(p, sizeof p, "%s/upper/b/new", base);
        fd = open(p, O_WRONLY|O_CREAT|O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
        snprintf(p, sizeof p, "%s/upper/c", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0700));
        snprintf(p, sizeof p, "%s/upper/d", base);
        ASSERT_OK(mkdir_p_at(AT_FDCWD, p, 0755));
        snprintf(p, sizeof p, "%s/upper/d/x", base);
        ASSERT_OK(symlink("elsewhere", p));
        snprintf(p, sizeof p, "%s/dst", base);
        ASSERT_OK(mkdir(p, 0755));

        snprintf(p, sizeof p, "%s/lower", base);
        lower = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        snprintf(p, sizeof p, "%s/upper", base);
        upper = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        snprintf(p, sizeof p, "%s/dst", base);
        dst = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(lower >= 0 && upper >= 0 && dst >= 0);
        ASSERT_OK(copy_layer_merge_at(lower, dst));
        ASSERT_OK(copy_layer_merge_at(upper, dst));

        ASSERT_OK(fstatat(dst, "a/keep", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_ERROR(fstatat(dst, "a/gone", &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0, ENOENT);
        ASSERT_ERROR(fstatat(dst, "b/old", &st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0, ENOENT);
        ASSERT_OK(fstatat(dst, "b/new", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_OK(fstatat(dst, "c", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
        ASSERT_OK(fstatat(dst, "d/x", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISLNK(st.st_mode));
        ASSERT_OK(rm_rf_at(AT_FDCWD, base));
}
