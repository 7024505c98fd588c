/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod manifest (rocket-stage1(7)), as a stage1 and rocket read it from a pod directory a pod can
 * write: parsed, and what parses written back and parsed again to the same thing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "pod-manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_object_putp) json_object *o = NULL, *back = NULL;
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL, *m2 = NULL;

        if (json_parse_strict((const char *) data, size, &o) < 0)
                return 0;
        if (pod_manifest_from_json(o, &m) < 0)
                return 0;
        if (pod_manifest_to_json(m, &back) < 0)
                abort();
        /* What rocket wrote, it reads. */
        if (pod_manifest_from_json(back, &m2) < 0 || strcmp(m->uuid, m2->uuid) != 0 || m->n_apps != m2->n_apps ||
            m->n_volumes != m2->n_volumes || m->pids_max != m2->pids_max)
                abort();
        return 0;
}
