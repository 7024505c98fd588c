/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "json-util.h"
#include "pod.h"

/* The pod's own limits as its stage1 recorded them (stage1-abi.h: "limits"), at most 8. */
typedef struct PodLimit {
        char name[16];
        uint64_t value;
        bool enforced;
} PodLimit;
size_t pod_limits_read(const Pod *p, PodLimit ret[static 8]);

/* The pod's networks while it has them (the stage1's cached CNI results in net/), by name. */
typedef struct PodNetInfo {
        char *name;
        char *ifname;
        char **addresses;       /* "172.16.28.2/24" */
} PodNetInfo;
int pod_networks_read(const Pod *p, PodNetInfo **ret, size_t *ret_n);
void pod_networks_free(PodNetInfo *l, size_t n);
/* "default:172.16.28.2,…" for a table, NULL for none. */
char *pod_networks_format(const PodNetInfo *l, size_t n);

/* The pod, its apps and how they ended, as JSON (rocket-status(1)). */
int pod_to_json(const Pod *p, json_object **ret);
/* One app of it (its manifest's i-th), as pod_to_json() lists them: name, state, image, start and exit. */
int pod_app_to_json(const Pod *p, size_t i, json_object **ret);
