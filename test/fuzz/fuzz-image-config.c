/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an image says about running it: an OCI config and an ACI manifest, from an image being imported.
 * The input is split at the first NUL: the OCI config before it, an ACI manifest after it (if any). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-config.h"
#include "json-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(json_object_putp) json_object *oci = NULL, *aci = NULL, *out = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        const uint8_t *nul = memchr(data, 0, size);
        size_t n = nul ? (size_t) (nul - data) : size;

        if (json_parse_strict((const char *) data, n, &oci) < 0)
                return 0;
        if (nul && json_parse_strict((const char *) nul + 1, size - n - 1, &aci) < 0)
                return 0;
        if (image_config_parse(oci, aci, &c) < 0)
                return 0;
        if (image_config_to_json(c, &out) < 0)
                abort();
        return 0;
}
