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

/* The pod, its apps and how they ended, as JSON (rocket-status(1)). */
int pod_to_json(const Pod *p, json_object **ret);
