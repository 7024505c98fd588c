/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A layer's tar stream (plain or compressed) extracted below a directory, as an import does: whatever
 * the archive holds, nothing may land outside it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "layer-unpack.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[] = "/var/tmp/rocket-fuzz-unpack.XXXXXX";
/* Whether base is made: not from its last character, which mkdtemp() may well make an 'X' (1 in 62). */
static bool base_made;

/* The harness itself failed (not rocket's code): say which step, so that it is not taken for a finding. */
static _noreturn_ void harness_fail(const char *what) {
        fprintf(stderr, "fuzz-layer-unpack: harness step failed: %s: %s\n", what, strerror(errno));
        abort();
}

/* libFuzzer ends with exit(): the scratch directory goes with it. */
static void __attribute__((destructor)) remove_base(void) {
        if (base_made)
                (void) rm_rf_at(AT_FDCWD, base);
}

/* base/ holds only root/ (the target); anything else there is an escape. */
static void check_nothing_outside(void) {
        DIR *d = opendir(base);
        struct dirent *de;

        if (!d)
                harness_fail("opendir");
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && strcmp(de->d_name, "root") != 0) {
                        fprintf(stderr, "fuzz-layer-unpack: '%s' was written outside the target\n", de->d_name);
                        abort();
                }
        closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_close_ int fd = -EBADF, base_fd = -EBADF, root_fd = -EBADF;
        _cleanup_free_ char *entry = NULL;
        char digest[DIGEST_STRING_MAX];
        int r;

        log_set_max_level(-1);
        if (!base_made) {
                if (!mkdtemp(base))
                        harness_fail("mkdtemp");
                base_made = true;
        }
        base_fd = open(base, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (base_fd < 0)
                harness_fail("open base");
        r = rm_rf_at(base_fd, "root");
        if (r < 0) {
                errno = -r;
                harness_fail("remove the last target");
        }
        if (mkdirat(base_fd, "root", 0755) < 0)
                harness_fail("mkdir target");
        root_fd = openat(base_fd, "root", O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (root_fd < 0)
                harness_fail("open target");
        fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0 || write(fd, data, size) != (ssize_t) size || lseek(fd, 0, SEEK_SET) < 0)
                harness_fail("memfd");
        (void) layer_unpack(fd, root_fd, 0, &entry);
        check_nothing_outside();
        if (lseek(fd, 0, SEEK_SET) < 0)
                harness_fail("lseek");
        (void) layer_diff_id(fd, digest, NULL);
        return 0;
}
