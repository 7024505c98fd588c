/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

typedef enum ImageRefType {
        IMAGE_REF_STORE,                /* a name or ID already in the store */
        IMAGE_REF_OCI_DIR,              /* oci:DIR[:TAG] */
        IMAGE_REF_OCI_ARCHIVE,          /* oci-archive:FILE[:TAG] */
        IMAGE_REF_DOCKER_ARCHIVE,       /* docker-archive:FILE[:NAME:TAG] */
        IMAGE_REF_ACI,                  /* ./x.aci, /abs/x.aci, file:///abs/x.aci */
        _IMAGE_REF_TYPE_MAX,
        _IMAGE_REF_TYPE_INVALID = -EINVAL,
} ImageRefType;

typedef struct ImageRef {
        ImageRefType type;
        char *path;             /* file or directory for the import forms */
        char *tag;              /* oci: TAG, docker-archive: NAME:TAG; may be NULL */
        char *name;             /* IMAGE_REF_STORE: the name or ID */
} ImageRef;

const char *image_ref_type_to_string(ImageRefType t) _pure_;

/* -EINVAL: malformed; -EPROTONOSUPPORT: a transport rocket does not read (e.g. docker://). */
int image_ref_parse(const char *s, ImageRef **ret);
ImageRef *image_ref_free(ImageRef *ref);
DEFINE_POINTER_CLEANUP(ImageRef, image_ref_free);

/* Docker's canonical form of a reference: "busybox" → "docker.io/library/busybox:latest",
 * "quay.io/x/y:1" stays. Used to match the RepoTags of a docker-archive however the user spelled them. */
int docker_reference_normalize(const char *name, char **ret);
