/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

typedef enum ImageRefType {
        IMAGE_REF_STORE,                /* a name or ID already in the store */
        IMAGE_REF_OCI_DIR,              /* oci:DIR[:TAG] */
        IMAGE_REF_OCI_ARCHIVE,          /* oci-archive:FILE[:TAG] */
        IMAGE_REF_DOCKER_ARCHIVE,       /* docker-archive:FILE[:NAME:TAG] */
        IMAGE_REF_ACI,                  /* ./x.aci, /abs/x.aci, file:///abs/x.aci */
        IMAGE_REF_DOCKER,               /* docker://[HOST[:PORT]/]REPO[:TAG][@sha256:HEX] */
        IMAGE_REF_HTTPS,                /* https://…/x.aci (http:// with --insecure-options=http) */
        IMAGE_REF_DISCOVERY,            /* an appc name found through meta discovery: example.com/app[:VERSION] */
        _IMAGE_REF_TYPE_MAX,
        _IMAGE_REF_TYPE_INVALID = -EINVAL,
} ImageRefType;

typedef struct ImageRef {
        ImageRefType type;
        char *path;             /* file or directory for the import forms; the URL for IMAGE_REF_HTTPS */
        char *tag;              /* oci: TAG, docker-archive: NAME:TAG, discovery: the version; may be NULL */
        char *name;             /* IMAGE_REF_STORE: the name or ID; IMAGE_REF_DOCKER: the normalised reference */
        /* IMAGE_REF_DOCKER, as docker normalises them: "busybox" is registry "docker.io", repository
         * "library/busybox", tag "latest"; a reference with a digest has no implied tag. */
        char *registry;         /* "docker.io", "localhost:5000", "10.0.0.1:5000" */
        char *repository;
        char *digest;           /* "sha256:HEX" or NULL */
} ImageRef;

const char *image_ref_type_to_string(ImageRefType t) _pure_;

/* -EINVAL: malformed; -EPROTONOSUPPORT: a transport rocket does not read (e.g. docker-daemon:). */
int image_ref_parse(const char *s, ImageRef **ret);
ImageRef *image_ref_free(ImageRef *ref);
DEFINE_POINTER_CLEANUP(ImageRef, image_ref_free);

/* A name not in the store as an appc discovery name: its first component is a domain ("example.com/app:v1"
 * → name example.com/app, version v1). -EINVAL if it cannot be one. */
int image_ref_discovery(const char *s, ImageRef **ret);

/* Parses a docker reference without its transport ("busybox", "quay.io/a/b:1", "h:5000/x@sha256:…") into
 * ref's registry, repository, tag, digest and normalised name, by the grammar of the distribution
 * project's reference package (lowercase path components, tags of at most 128 characters). */
int docker_reference_parse(const char *s, ImageRef *ref);
/* A registry as a reference names it: HOST[:PORT], HOST DNS labels or an IPv4 address. */
bool registry_name_is_valid_n(const char *s, size_t n) _pure_;
static inline bool registry_name_is_valid(const char *s) {
        return s && registry_name_is_valid_n(s, strlen(s));
}

/* The host libcurl talks to for a registry: Docker Hub's "docker.io" is served by registry-1.docker.io. */
const char *docker_registry_endpoint(const char *registry) _pure_;

/* Docker's canonical form of a reference: "busybox" → "docker.io/library/busybox:latest",
 * "quay.io/x/y:1" stays. Used to match the RepoTags of a docker-archive however the user spelled them. */
int docker_reference_normalize(const char *name, char **ret);
