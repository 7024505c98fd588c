/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sigbus.h"

static uintptr_t page_size;     /* set before the handler is, read-only after */

static void sigbus_handler(int sig, siginfo_t *si, void *ctx) {
        uintptr_t page = page_size, addr;

        /* Only faults on a mapping (BUS_ADRERR: beyond the end of the file); anything else is fatal. */
        if (si->si_code != BUS_ADRERR || !si->si_addr)
                goto fatal;
        addr = (uintptr_t) si->si_addr & ~(page - 1);
        if (mmap((void *) addr, page, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) != MAP_FAILED)
                return;
fatal:
        signal(sig, SIG_DFL);
        raise(sig);
}

int sigbus_guard_install(void) {
        struct sigaction sa = {
                .sa_sigaction = sigbus_handler,
                .sa_flags = SA_SIGINFO,
        };

        page_size = (uintptr_t) sysconf(_SC_PAGESIZE);
        sigemptyset(&sa.sa_mask);
        return sigaction(SIGBUS, &sa, NULL) < 0 ? -errno : 0;
}
