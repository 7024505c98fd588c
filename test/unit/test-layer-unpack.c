/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layer_unpack() against archives built here with libarchive's writer: what it must keep (modes, links,
 * sparse files, read-only directories, xattrs), what it must refuse (every way out of the root), and that
 * a refusal names the entry and leaves nothing outside. */
#define TESTS_MAIN
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "fs-util.h"
#include "layer-unpack.h"
#include "tests.h"

typedef struct Entry {
        const char *path;
        mode_t type;            /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFIFO; 0 = hardlink */
        mode_t perm;
        const char *data;       /* content, symlink or hardlink target */
        const char *xattr;      /* "name=value" */
} Entry;

static int make_archive(const Entry *entries, size_t n) {
        struct archive *a = archive_write_new();
        int fd = open("/var/tmp", O_TMPFILE|O_RDWR|O_CLOEXEC, 0600);

        if (fd < 0)
                TEST_FAIL("O_TMPFILE: %m");
        if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK)
                TEST_FAIL("archive_write: %s", archive_error_string(a));
        for (size_t i = 0; i < n; i++) {
                struct archive_entry *e = archive_entry_new();
                const Entry *x = &entries[i];

                archive_entry_set_pathname(e, x->path);
                archive_entry_set_perm(e, x->perm ?: 0644);
                archive_entry_set_mtime(e, 1000000000, 0);
                if (x->type == 0)
                        archive_entry_set_hardlink(e, x->data);
                else
                        archive_entry_set_filetype(e, x->type);
                if (x->type == AE_IFLNK)
                        archive_entry_set_symlink(e, x->data);
                if (x->type == AE_IFREG)
                        archive_entry_set_size(e, x->data ? (la_int64_t) strlen(x->data) : 0);
                if (x->xattr) {
                        const char *eq = strchr(x->xattr, '=');
                        char name[128];

                        snprintf(name, sizeof name, "%.*s", (int) (eq - x->xattr), x->xattr);
                        archive_entry_xattr_add_entry(e, name, eq + 1, strlen(eq + 1));
                }
                if (archive_write_header(a, e) != ARCHIVE_OK)
                        TEST_FAIL("header %s: %s", x->path, archive_error_string(a));
                if (x->type == AE_IFREG && x->data)
                        archive_write_data(a, x->data, strlen(x->data));
                archive_entry_free(e);
        }
        archive_write_close(a);
        archive_write_free(a);
        if (lseek(fd, 0, SEEK_SET) < 0)
                TEST_FAIL("lseek: %m");
        return fd;
}

/* A sandbox: base/ holds root/ (the target) beside outside/ (where an escape would land). */
static char *make_sandbox(int *ret_root_fd) {
        char *d = strdup("/var/tmp/rocket-test-unpack.XXXXXX"), p[PATH_MAX];

        if (!d || !mkdtemp(d))
                TEST_FAIL("mkdtemp: %m");
        snprintf(p, sizeof p, "%s/root", d);
        if (mkdir(p, 0755) < 0)
                TEST_FAIL("mkdir: %m");
        snprintf(p, sizeof p, "%s/outside", d);
        if (mkdir(p, 0755) < 0)
                TEST_FAIL("mkdir: %m");
        snprintf(p, sizeof p, "%s/root", d);
        *ret_root_fd = open(p, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (*ret_root_fd < 0)
                TEST_FAIL("open: %m");
        return d;
}

static size_t count_outside(const char *base) {
        char p[PATH_MAX];
        size_t n = 0;
        DIR *d;

        snprintf(p, sizeof p, "%s/outside", base);
        d = opendir(p);
        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d)); )
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        /* Also nothing beside root/ and outside/ in base. */
        d = opendir(base);
        for (struct dirent *de; d && (de = readdir(d)); )
                if (de->d_name[0] != '.' && strcmp(de->d_name, "root") && strcmp(de->d_name, "outside"))
                        n++;
        if (d)
                closedir(d);
        return n;
}

static void cleanup_sandbox(char *base) {
        _cleanup_close_ int fd = open("/var/tmp", O_RDONLY|O_DIRECTORY|O_CLOEXEC);

        (void) rm_rf_at(fd, base + strlen("/var/tmp/"));
        free(base);
}

static void expect_refused(const Entry *entries, size_t n, const char *bad) {
        _cleanup_close_ int root_fd = -EBADF, fd = make_archive(entries, n);
        _cleanup_free_ char *detail = NULL;
        char *base = make_sandbox(&root_fd);

        ASSERT_ERROR(layer_unpack(fd, root_fd, 0, &detail), EBADMSG);
        ASSERT_NOT_NULL(detail);
        ASSERT_STREQ(detail, bad);
        ASSERT_EQ(count_outside(base), (size_t) 0);
        cleanup_sandbox(base);
}

TEST(keeps_files_links_modes) {
        static const Entry entries[] = {
                { "./", AE_IFDIR, 0755, NULL, NULL },
                { "./bin/", AE_IFDIR, 0755, NULL, NULL },
                { "./bin/busybox", AE_IFREG, 0755, "#!binary", NULL },
                { "./bin/sh", AE_IFLNK, 0777, "busybox", NULL },
                { "./bin/abs", AE_IFLNK, 0777, "/bin/busybox", NULL },
                { "./bin/hl", 0, 0644, "bin/busybox", NULL },
                { "./etc/secret", AE_IFREG, 0600, "s", NULL },      /* parent implied */
                { "./ro/", AE_IFDIR, 0555, NULL, NULL },
                { "./ro/inside", AE_IFREG, 0444, "x", NULL },
                { "./fifo", AE_IFIFO, 0600, NULL, NULL },
        };
        _cleanup_close_ int root_fd = -EBADF, fd = make_archive(entries, ELEMENTSOF(entries));
        _cleanup_free_ char *detail = NULL;
        char *base = make_sandbox(&root_fd), buf[64] = {};
        struct stat st, st2;
        ssize_t n;

        ASSERT_OK(layer_unpack(fd, root_fd, 0, &detail));
        ASSERT_NULL(detail);
        ASSERT_OK(fstatat(root_fd, "bin/busybox", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_EQ(st.st_mode & 07777, (mode_t) 0755);
        ASSERT_EQ(st.st_mtime, (time_t) 1000000000);
        ASSERT_OK(fstatat(root_fd, "bin/hl", &st2, AT_SYMLINK_NOFOLLOW));
        ASSERT_EQ(st.st_ino, st2.st_ino);
        n = readlinkat(root_fd, "bin/sh", buf, sizeof buf - 1);
        ASSERT_EQ(n, (ssize_t) strlen("busybox"));
        ASSERT_STREQ(buf, "busybox");
        ASSERT_OK(fstatat(root_fd, "ro", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, (mode_t) 0555);
        ASSERT_EQ(st.st_mtime, (time_t) 1000000000);
        ASSERT_OK(fstatat(root_fd, "ro/inside", &st, 0));
        ASSERT_OK(fstatat(root_fd, "etc/secret", &st, 0));
        ASSERT_EQ(st.st_mode & 07777, (mode_t) 0600);
        ASSERT_OK(fstatat(root_fd, "fifo", &st, 0));
        ASSERT_TRUE(S_ISFIFO(st.st_mode));
        ASSERT_EQ(count_outside(base), (size_t) 0);
        /* let rm_rf_at in, as the test may run unprivileged */
        ASSERT_OK(fchmodat(root_fd, "ro", 0755, 0));
        cleanup_sandbox(base);
}

TEST(later_entry_replaces_earlier) {
        static const Entry entries[] = {
                { "x", AE_IFREG, 0644, "file", NULL },
                { "x/", AE_IFDIR, 0755, NULL, NULL },
                { "x/y", AE_IFREG, 0644, "inner", NULL },
                { "z/", AE_IFDIR, 0755, NULL, NULL },
                { "z/keep", AE_IFREG, 0644, "k", NULL },
                { "z", AE_IFLNK, 0777, "x", NULL },
        };
        _cleanup_close_ int root_fd = -EBADF, fd = make_archive(entries, ELEMENTSOF(entries));
        char *base = make_sandbox(&root_fd);
        struct stat st;

        ASSERT_OK(layer_unpack(fd, root_fd, 0, NULL));
        ASSERT_OK(fstatat(root_fd, "x/y", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_OK(fstatat(root_fd, "z", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISLNK(st.st_mode));
        cleanup_sandbox(base);
}

TEST(refuses_traversal_and_absolute) {
        static const Entry dotdot[] = { { "ok", AE_IFREG, 0644, "", NULL }, { "../outside/evil", AE_IFREG, 0644, "x", NULL } };
        static const Entry middle[] = { { "a/", AE_IFDIR, 0755, NULL, NULL }, { "a/../../outside/evil", AE_IFREG, 0644, "x", NULL } };
        static const Entry whiteout[] = { { "../outside/.wh.x", AE_IFREG, 0644, "", NULL } };

        expect_refused(dotdot, ELEMENTSOF(dotdot), "../outside/evil");
        expect_refused(middle, ELEMENTSOF(middle), "a/../../outside/evil");
        expect_refused(whiteout, ELEMENTSOF(whiteout), "../outside/.wh.x");
}

TEST(refuses_symlink_parent_and_climb) {
        static const Entry parent[] = {
                { "d/", AE_IFDIR, 0755, NULL, NULL },
                { "link", AE_IFLNK, 0777, "d", NULL },  /* contained, but never a way in */
                { "link/evil", AE_IFREG, 0644, "x", NULL },
        };
        static const Entry parent_abs[] = { { "link", AE_IFLNK, 0777, "/tmp", NULL }, { "link/evil", AE_IFREG, 0644, "x", NULL } };
        static const Entry climb[] = { { "a/", AE_IFDIR, 0755, NULL, NULL }, { "a/evil", AE_IFLNK, 0777, "../../outside", NULL } };
        static const Entry climb2[] = { { "a/b/c", AE_IFLNK, 0777, "../x/../../../y", NULL } };

        expect_refused(parent, ELEMENTSOF(parent), "link/evil");
        expect_refused(parent_abs, ELEMENTSOF(parent_abs), "link/evil");
        expect_refused(climb, ELEMENTSOF(climb), "a/evil");
        expect_refused(climb2, ELEMENTSOF(climb2), "a/b/c");
}

TEST(refuses_hardlink_escape) {
        static const Entry rel[] = { { "hl", 0, 0644, "../outside/x", NULL } };
        static const Entry absolute[] = { { "hl", 0, 0644, "/etc/passwd", NULL } };
        static const Entry missing[] = { { "hl", 0, 0644, "nothing/here", NULL } };
        static const Entry via_symlink[] = {
                { "l", AE_IFLNK, 0777, "/etc", NULL },
                { "hl", 0, 0644, "l/passwd", NULL },
        };

        expect_refused(rel, ELEMENTSOF(rel), "hl");
        expect_refused(absolute, ELEMENTSOF(absolute), "hl");
        expect_refused(missing, ELEMENTSOF(missing), "hl");
        expect_refused(via_symlink, ELEMENTSOF(via_symlink), "hl");
}

TEST(whiteouts_skipped_without_devices) {
        static const Entry entries[] = {
                { "d/", AE_IFDIR, 0755, NULL, NULL },
                { "d/.wh..wh..opq", AE_IFREG, 0644, "", NULL },
                { "d/.wh.gone", AE_IFREG, 0644, "", NULL },
        };
        _cleanup_close_ int root_fd = -EBADF, fd = make_archive(entries, ELEMENTSOF(entries));
        char *base = make_sandbox(&root_fd);

        ASSERT_OK(layer_unpack(fd, root_fd, 0, NULL));
        ASSERT_TRUE(faccessat(root_fd, "d/.wh.gone", F_OK, AT_SYMLINK_NOFOLLOW) < 0);
        ASSERT_TRUE(faccessat(root_fd, "d/gone", F_OK, AT_SYMLINK_NOFOLLOW) < 0);
        cleanup_sandbox(base);
}

TEST(whiteouts_become_overlay_markers) {
        static const Entry entries[] = {
                { "d/", AE_IFDIR, 0755, NULL, NULL },
                { "d/.wh..wh..opq", AE_IFREG, 0644, "", NULL },
                { "d/.wh.gone", AE_IFREG, 0644, "", NULL },
        };
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF, dfd = -EBADF;
        char *base, value[8] = {};
        struct stat st;

        if (geteuid() != 0)
                exit(TEST_EXIT_SKIP);
        fd = make_archive(entries, ELEMENTSOF(entries));
        base = make_sandbox(&root_fd);
        ASSERT_OK(layer_unpack(fd, root_fd, LAYER_UNPACK_CHOWN|LAYER_UNPACK_DEVICES, NULL));
        ASSERT_OK(fstatat(root_fd, "d/gone", &st, AT_SYMLINK_NOFOLLOW));
        ASSERT_TRUE(S_ISCHR(st.st_mode));
        ASSERT_EQ(st.st_rdev, makedev(0, 0));
        dfd = openat(root_fd, "d", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        if (fgetxattr(dfd, "trusted.overlay.opaque", value, sizeof value - 1) >= 0 || errno != ENOTSUP)
                ASSERT_STREQ(value, "y");
        cleanup_sandbox(base);
}

TEST(overlay_xattrs_are_stripped) {
        static const Entry entries[] = {
                { "f", AE_IFREG, 0644, "data", "user.overlay.origin=x" },
                { "g", AE_IFREG, 0644, "data", "user.ok=kept" },
                { "h", AE_IFREG, 0644, "data", "trusted.overlay.redirect=/etc" },
        };
        _cleanup_close_ int root_fd = -EBADF, fd = make_archive(entries, ELEMENTSOF(entries));
        char *base = make_sandbox(&root_fd), value[16] = {};
        _cleanup_close_ int f = -EBADF, g = -EBADF, h = -EBADF;

        ASSERT_OK(layer_unpack(fd, root_fd, 0, NULL));
        f = openat(root_fd, "f", O_RDONLY|O_CLOEXEC);
        g = openat(root_fd, "g", O_RDONLY|O_CLOEXEC);
        h = openat(root_fd, "h", O_RDONLY|O_CLOEXEC);
        ASSERT_TRUE(f >= 0 && g >= 0 && h >= 0);
        ASSERT_TRUE(fgetxattr(f, "user.overlay.origin", value, sizeof value) < 0);
        ASSERT_TRUE(fgetxattr(h, "trusted.overlay.redirect", value, sizeof value) < 0);
        if (fgetxattr(g, "user.ok", value, sizeof value - 1) >= 0)
                ASSERT_STREQ(value, "kept");
        else
                ASSERT_TRUE(errno == ENOTSUP);  /* the filesystem has no user xattrs */
        cleanup_sandbox(base);
}

TEST(truncated_stream_is_not_blamed_on_an_entry) {
        _cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *detail = NULL;
        unsigned char h[512] = {};
        unsigned sum = 0;
        char *base;

        /* A ustar header that claims 2 GiB of data, and then the file ends. */
        memcpy(h, "big", 3);
        memcpy(h + 100, "0000644", 7);
        memcpy(h + 108, "0000000", 7);
        memcpy(h + 116, "0000000", 7);
        memcpy(h + 124, "20000000000", 11);
        memcpy(h + 136, "00000000000", 11);
        h[156] = '0';
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (size_t i = 0; i < sizeof h; i++)
                sum += h[i];
        snprintf((char *) h + 148, 8, "%06o", sum);
        fd = open("/var/tmp", O_TMPFILE|O_RDWR|O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(pwrite(fd, h, sizeof h, 0), (ssize_t) sizeof h);

        base = make_sandbox(&root_fd);
        ASSERT_TRUE(layer_unpack(fd, root_fd, 0, &detail) < 0);
        ASSERT_NULL(detail);
        cleanup_sandbox(base);
}

/* The diff ID is the digest of the tar stream itself, whether the blob is that stream or it gzipped. */
TEST(diff_id_is_the_uncompressed_digest) {
        static const Entry e[] = { { "a", AE_IFREG, 0644, "the same layer" } };
        _cleanup_close_ int plain = make_archive(e, ELEMENTSOF(e)), gz = -EBADF;
        char plain_digest[DIGEST_STRING_MAX], a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
        uint64_t plain_size = 0, size = 0;
        struct archive *w = archive_write_new();
        char buf[65536];
        ssize_t n;

        ASSERT_OK(sha256_fd(plain, plain_digest, &plain_size));
        ASSERT_TRUE(lseek(plain, 0, SEEK_SET) == 0);
        /* The same bytes through gzip: a raw "archive" with a gzip filter. */
        gz = open("/var/tmp", O_TMPFILE|O_RDWR|O_CLOEXEC, 0600);
        ASSERT_TRUE(gz >= 0 && w);
        ASSERT_TRUE(archive_write_add_filter_gzip(w) == ARCHIVE_OK && archive_write_set_format_raw(w) == ARCHIVE_OK &&
                    archive_write_open_fd(w, gz) == ARCHIVE_OK);
        {
                struct archive_entry *x = archive_entry_new();

                archive_entry_set_filetype(x, AE_IFREG);
                archive_entry_set_pathname(x, "data");
                ASSERT_TRUE(archive_write_header(w, x) == ARCHIVE_OK);
                archive_entry_free(x);
        }
        while ((n = read(plain, buf, sizeof buf)) > 0)
                ASSERT_TRUE(archive_write_data(w, buf, (size_t) n) == n);
        archive_write_close(w);
        archive_write_free(w);
        ASSERT_TRUE(lseek(plain, 0, SEEK_SET) == 0 && lseek(gz, 0, SEEK_SET) == 0);

        ASSERT_OK(layer_diff_id(plain, a, &size));
        ASSERT_STREQ(a, plain_digest);
        ASSERT_EQ(size, plain_size);
        ASSERT_OK(layer_diff_id(gz, b, &size));
        ASSERT_STREQ(b, plain_digest);
        ASSERT_EQ(size, plain_size);
}
