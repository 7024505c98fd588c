/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
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
        [IMAGE_REF_DOCKER] = "docker",
        [IMAGE_REF_HTTPS] = "https",
        [IMAGE_REF_DISCOVERY] = "discovery",
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
        free(ref->registry);
        free(ref->repository);
        free(ref->digest);
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
        } else if (startswith(s, "https://") || startswith(s, "http://")) {
                ref->type = IMAGE_REF_HTTPS;
                if (strlen(s) <= strlen("https://") || strpbrk(s, " \t\n\r"))
                        return -EINVAL;
                ref->path = strdup(s);
                r = ref->path ? 0 : -ENOMEM;
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
        } else if ((rest = startswith(s, "docker://"))) {
                ref->type = IMAGE_REF_DOCKER;
                r = docker_reference_parse(rest, ref);
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

static bool tag_is_valid(const char *t);

static bool islower_or_digit(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int image_ref_discovery(const char *s, ImageRef **ret) {
        _cleanup_(image_ref_freep) ImageRef *ref = NULL;
        const char *colon, *slash;
        size_t n;

        if (isempty(s))
                return -EINVAL;
        slash = strchr(s, '/');
        colon = strrchr(s, ':');
        if (colon && slash && colon < slash)
                return -EINVAL;         /* a port: not an appc name */
        n = colon ? (size_t) (colon - s) : strlen(s);
        if (!memchr(s, '.', slash ? (size_t) (slash - s) : n) || n > 255)
                return -EINVAL;
        /* An AC identifier: lowercase letters, digits, '-', '.', '/' (appc spec). */
        for (size_t i = 0; i < n; i++)
                if (!islower_or_digit(s[i]) && !strchr("-./", s[i]))
                        return -EINVAL;
        if (s[0] == '.' || s[0] == '-' || s[0] == '/' || s[n - 1] == '/' || memmem(s, n, "//", 2) ||
            memmem(s, n, "..", 2))
                return -EINVAL;
        if (colon && (isempty(colon + 1) || !tag_is_valid(colon + 1)))
                return -EINVAL;
        ref = calloc(1, sizeof *ref);
        if (!ref)
                return -ENOMEM;
        ref->type = IMAGE_REF_DISCOVERY;
        ref->name = strndup(s, n);
        ref->tag = colon ? strdup(colon + 1) : NULL;
        if (!ref->name || (colon && !ref->tag))
                return -ENOMEM;
        *ret = TAKE_PTR(ref);
        return 0;
}

/* path-component: [a-z0-9]+ joined by "." "_" "__" or any run of "-". */
static bool path_component_is_valid(const char *c, size_t n) {
        if (n == 0 || !islower_or_digit(c[0]) || !islower_or_digit(c[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++) {
                if (islower_or_digit(c[i]))
                        continue;
                if (c[i] == '.' || c[i] == '_') {
                        /* "." and "_" alone, or "__" */
                        size_t run = strspn(c + i, c[i] == '_' ? "_" : ".");
                        if (run > (c[i] == '_' ? 2u : 1u))
                                return false;
                        i += run - 1;
                } else if (c[i] == '-')
                        i += strspn(c + i, "-") - 1;
                else
                        return false;
                if (!islower_or_digit(c[i + 1]))
                        return false;
        }
        return true;
}

/* A registry host: DNS labels or an IPv4 address, and an optional port. (An IPv6 literal cannot be part of
 * an image name; give such a registry a host name.) */
bool registry_name_is_valid_n(const char *h, size_t n) {
        const char *colon;
        size_t host_len = n;

        if (n == 0 || n > 255)
                return false;
        colon = memchr(h, ':', n);
        if (colon)
                host_len = (size_t) (colon - h);
        if (host_len == 0)
                return false;
        for (size_t i = 0; i < host_len; i++)
                if (!isalnum((unsigned char) h[i]) && h[i] != '.' && h[i] != '-')
                        return false;
        if (h[0] == '.' || h[0] == '-' || h[host_len - 1] == '.' || h[host_len - 1] == '-' ||
            memmem(h, host_len, "..", 2))
                return false;
        if (host_len < n) {
                /* ":PORT", 1-65535 */
                const char *port = h + host_len + 1;
                size_t plen = n - host_len - 1;
                unsigned long v = 0;

                if (plen == 0 || plen > 5)
                        return false;
                for (size_t i = 0; i < plen; i++) {
                        if (!isdigit((unsigned char) port[i]))
                                return false;
                        v = v * 10 + (unsigned long) (port[i] - '0');
                }
                if (v == 0 || v > 65535)
                        return false;
        }
        return true;
}

static bool tag_is_valid(const char *t) {
        size_t n = strlen(t);

        if (n == 0 || n > 128 || !(isalnum((unsigned char) t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) t[i]) && !strchr("_.-", t[i]))
                        return false;
        return true;
}

int docker_reference_parse(const char *s, ImageRef *ref) {
        _cleanup_free_ char *registry = NULL, *repository = NULL, *tag = NULL, *digest = NULL, *name = NULL;
        const char *at, *slash, *path, *last, *colon;
        size_t path_len;

        if (isempty(s) || strlen(s) > 4096)
                return -EINVAL;

        at = strchr(s, '@');
        if (at) {
                if (!digest_is_valid(at + 1))
                        return -EINVAL;
                digest = strdup(at + 1);
                if (!digest)
                        return -ENOMEM;
        }
        path_len = at ? (size_t) (at - s) : strlen(s);

        /* The first component is a registry if it looks like a host: a dot, a port or "localhost". */
        slash = memchr(s, '/', path_len);
        if (slash && (memchr(s, '.', (size_t) (slash - s)) || memchr(s, ':', (size_t) (slash - s)) ||
                      ((size_t) (slash - s) == strlen("localhost") && strneq(s, "localhost", strlen("localhost"))))) {
                if (!registry_name_is_valid_n(s, (size_t) (slash - s)))
                        return -EINVAL;
                registry = strndup(s, (size_t) (slash - s));
                path = slash + 1;
        } else {
                registry = strdup("docker.io");
                path = s;
        }
        if (!registry)
                return -ENOMEM;
        path_len -= (size_t) (path - s);

        /* A tag is a ':' in the last path component. */
        last = path;
        for (const char *p = path; p < path + path_len; p++)
                if (*p == '/')
                        last = p + 1;
        colon = memchr(last, ':', (size_t) (path + path_len - last));
        if (colon) {
                tag = strndup(colon + 1, (size_t) (path + path_len - colon - 1));
                if (!tag)
                        return -ENOMEM;
                if (!tag_is_valid(tag))
                        return -EINVAL;
                path_len = (size_t) (colon - path);
        }
        if (path_len == 0)
                return -EINVAL;
        for (const char *c = path, *end = path + path_len; c < end; ) {
                const char *e = memchr(c, '/', (size_t) (end - c)) ?: end;
                if (!path_component_is_valid(c, (size_t) (e - c)))
                        return -EINVAL;
                c = e + (e < end);
                if (e + 1 == end)       /* a trailing '/' */
                        return -EINVAL;
        }
        if (streq(registry, "docker.io") && !memchr(path, '/', path_len)) {
                if (asprintf(&repository, "library/%.*s", (int) path_len, path) < 0)
                        repository = NULL;
        } else
                repository = strndup(path, path_len);
        if (!repository)
                return -ENOMEM;
        if (!tag && !digest) {
                tag = strdup("latest");
                if (!tag)
                        return -ENOMEM;
        }
        if (asprintf(&name, "%s/%s%s%s%s%s", registry, repository, tag ? ":" : "", strempty(tag),
                     digest ? "@" : "", strempty(digest)) < 0)
                return -ENOMEM;
        if (strlen(name) > IMAGE_NAME_MAX || !image_name_is_valid(name))
                return -EINVAL;

        free_and_replace(ref->registry, registry);
        free_and_replace(ref->repository, repository);
        free_and_replace(ref->tag, tag);
        free_and_replace(ref->digest, digest);
        free_and_replace(ref->name, name);
        return 0;
}

const char *docker_registry_endpoint(const char *registry) {
        return streq(registry, "docker.io") ? "registry-1.docker.io" : registry;
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
