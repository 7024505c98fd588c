/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The user namespace ranges of pods with --private-users (POD_USERNS_SIZE host UIDs/GIDs each, from
 * POD_USERNS_FIRST on). A range is free when no pod of this pods directory has it, no pod of another
 * pods directory has it in the host-wide record (registry_dir, ROCKET_USERNS_REGISTRY but in tests: a
 * file per range, named by its first UID in hex, naming the pods directory and the pod; persistent, as
 * exited pods keep their ranges across a reboot), and no user or group of the host's user database has
 * its first ID. */

#include <stdbool.h>
#include <stdint.h>

#include "pod.h"

#define POD_USERNS_N ((POD_USERNS_LAST - POD_USERNS_FIRST) / POD_USERNS_SIZE + 1)

/* used_here[i]: range i is taken by a pod of pods_fd. Records the range chosen for uuid. -EUSERS: none left. */
int pod_userns_claim(const char *registry_dir, int pods_fd, const char *uuid, const bool used_here[POD_USERNS_N],
                     uint32_t *ret_base);
/* Drops the record of the pod's range, if it is this pod's. */
void pod_userns_release(const char *registry_dir, int pods_fd, const Pod *p);
