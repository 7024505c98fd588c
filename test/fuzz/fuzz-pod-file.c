/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* .pod files (rocket.pod(5)) through libinih and the run options, as `rocket run --pod=` reads them. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "pod-file.h"
#include "run-args.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PodArgs p = {};
        char path[64];
        int fd;

        log_set_max_level(-1);          /* errors are the expected outcome; say nothing */
        fd = memfd_create("pod", MFD_CLOEXEC);
        if (fd < 0 || write(fd, data, size) != (ssize_t) size)
                abort();
        snprintf(path, sizeof path, "/proc/self/fd/%i", fd);
        (void) pod_file_load(path, "fuzz", &p);
        pod_args_done(&p);
        close(fd);
        return 0;
}
