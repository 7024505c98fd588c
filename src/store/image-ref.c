/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image-ref.h"
#include "store.h"
#include "string-util.h"

static const char *const image_ref_type_table[_IMAGE_REF_TYPE_MAX] = {
        [IMAGE_REF_STORE] = "store",
        [IMAGE_REF_OCI_DIR] = "oci",
        [IMAGE_REF_OCI_ARCHIVE] = "oci-archive",
        [IMAGE_REF_DOCKER_ARCHIVE] = "docker-archive",
        [IMAGE_REF_ACI] = "aci",
};

const char *image_ref_type_to_string(ImageRefType t) {
        if (t < 0 || t >= _IMAGE_REF_TYPE_MAX)
                return NULL;
        return image_ref_type_table[t];
}

ImageRef *image_ref_free(ImageRef *ref) {
        if (!ref)
                return NULL;
        free(ref->path);
        free(ref->tag);
        free(ref->name);
        free(ref);
        return NULL;
}

/* Splits "PATH:REF" at the first (docker-archive, whose reference is NAME:TAG) or last (oci) colon. */
static int split_path(const char *s, bool first_colon, char **ret_path, char **ret_tag) {
        const char *colon = first_colon ? strchr(s, ':') : strrchr(s, ':');
        _cleanup_free_ char *path = NULL, *tag = NULL;

        if (colon) {
                path = strndup(s, (size_t) (colon - s));
                tag = strdup(colon + 1);
                if (!path || !tag)
                        return -ENOMEM;
                if (isempty(tag))
                        return -EINVAL;
        } else {
                path = strdup(s);
                if (!path)
                        return -ENOMEM;
        }
        if (isempty(path))
                return -EINVAL;
        *ret_path = TAKE_PTR(path);
        *ret_tag = TAKE_PTR(tag);
        return 0;
}

int image_ref_parse(const char *s, ImageRef **ret) {
        _cleanup_(image_ref_freep) ImageRef *ref = NULL;
        const char *rest;
        int r;

        if (isempty(s) || strlen(s) > 4096)
                return -EINVAL;
        ref = calloc(1, sizeof *ref);
        if (!ref)
                return -ENOMEM;

        if ((rest = startswith(s, "oci:"))) {
                ref->type = IMAGE_REF_OCI_DIR;
                r = split_path(rest, false, &ref->path, &ref->tag);
        } else if ((rest = startswith(s, "oci-archive:"))) {
                ref->type = IMAGE_REF_OCI_ARCHIVE;
                r = split_path(rest, false, &ref->path, &ref->tag);
        } else if ((rest = startswith(s, "docker-archive:"))) {
                ref->type = IMAGE_REF_DOCKER_ARCHIVE;
                r = split_path(rest, true, &ref->path, &ref->tag);
                if (r >= 0 && ref->tag && !image_name_is_valid(ref->tag))
                        r = -EINVAL;
        } else if ((rest = startswith(s, "file://"))) {
                ref->type = IMAGE_REF_ACI;
                if (rest[0] != '/')
                        return -EINVAL;
                ref->path = strdup(rest);
                r = ref->path ? 0 : -ENOMEM;
        } else if (s[0] == '/' || startswith(s, "./") || startswith(s, "../") || endswith(s, ".aci")) {
                ref->type = IMAGE_REF_ACI;
                ref->path = strdup(s);
                r = ref->path ? 0 : -ENOMEM;
        } else if (strstr(s, "://") || startswith(s, "docker:") || startswith(s, "docker-daemon:") ||
                   startswith(s, "containers-storage:")) {
                return -EPROTONOSUPPORT;
        } else {
                ref->type = IMAGE_REF_STORE;
                if (!image_name_is_valid(s) && !digest_is_valid(s))
                        return -EINVAL;
                ref->name = strdup(s);
                r = ref->name ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;

        *ret = TAKE_PTR(ref);
        return 0;
}

int docker_reference_normalize(const char *name, char **ret) {
        const char *slash, *last, *prefix = "";
        char *s;

        if (isempty(name))
                return -EINVAL;
        slash = strchr(name, '/');
        if (!slash)
                prefix = "docker.io/library/";
        else if (!memchr(name, '.', slash - name) && !memchr(name, ':', slash - name) &&
                 !strneq(name, "localhost/", strlen("localhost/")))
                prefix = "docker.io/";
        /* A tag is a ':' after the last '/'; a digest reference has '@'. */
        last = strrchr(name, '/') ?: name;
        if (asprintf(&s, "%s%s%s", prefix, name, strchr(last, ':') || strchr(name, '@') ? "" : ":latest") < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}
