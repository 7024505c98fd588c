/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* Mounts a pod's /dev at root/dev: null, zero, full, random, urandom, tty (from the host's nodes), a
 * console that is /dev/null, a new devpts instance (terminals of group gid_base + 5, tty), /dev/shm,
 * /dev/mqueue and the usual links. -ENODEV: the host lacks one of the nodes. */
int dev_setup(const char *root, gid_t gid_base);
