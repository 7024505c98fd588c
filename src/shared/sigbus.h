/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* sd-journal reads journal files through mmap. A pod can truncate its own journal files under a reader
 * on the host, which then gets SIGBUS. With this handler the page that faulted is replaced by an
 * anonymous zero page instead: the reader sees garbage, which sd-journal rejects as a corrupt object, and
 * goes on. Install it in processes that read a pod's journal. */
int sigbus_guard_install(void);
