/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* rkt's stage0 configuration, as its users' files have it: JSON files ("*.json", no recursion) with "rktKind"
 * and "rktVersion": "v1" in per-kind directories of the vendor's directory (ROCKET_VENDOR_CONFIG_DIR) and the
 * administrator's (/etc/rocket):
 *   paths.d/   {"rktKind": "paths", "data": DIR, "stage1-images": DIR}
 *   stage1.d/  {"rktKind": "stage1", "name": NAME, "version": V, "location": DIR}
 * (auth.d/ dockerAuth files are the fetcher's: fetch-auth.h). Within one directory a setting given twice is an
 * error; the administrator's directory wins over the vendor's, one setting at a time. */

#include <json-c/json.h>

#include "macro.h"

#define ROCKET_LOCAL_CONFIG_DIR "/etc/rocket"

typedef struct RocketConfig {
        char *data;             /* paths: the data directory (--dir and $ROCKET_DIR win) */
        char *stage1_images;    /* paths: where stage1 directories are found by name */
        char *stage1_name;      /* stage1: the default stage1, by name (stage1-NAME in stage1_images) */
        char *stage1_location;  /* or by its directory */
        char *stage1_version;   /* rkt's, of its stage1 image: accepted and shown, not used */
} RocketConfig;

void rocket_config_done(RocketConfig *c);
/* dirs: lowest first, NULL-terminated; a directory that does not exist is no error. Logs. */
int rocket_config_load(const char *const *dirs, RocketConfig *ret);
/* rkt config's form: {"stage0": [ one object per kind, then the dockerAuth entries, passwords left out ]}. */
int rocket_config_to_json(const RocketConfig *c, json_object **ret);
