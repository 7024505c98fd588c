/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pod.h"

/* rkt's export: an ACI (uncompressed, appc 0.8.11) of one app of an exited pod as it left its root file
 * system: its image layers with its writable layer over them, merged by a detached read-only overlay of the
 * three (nothing is mounted anywhere; nothing in the pod's layer is followed), and a manifest that runs it
 * as the pod ran it. With --private-users the pod's owners are shifted back. Written to fd. */
int pod_export_aci(const Pod *p, const PodApp *a, int fd);
