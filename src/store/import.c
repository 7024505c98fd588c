/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <sys/utsname.h>

#include "import.h"
#include "log.h"
#include "string-util.h"

int archive_open_fd(int fd, struct archive **ret) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();

        if (!a)
                return -ENOMEM;
        if (archive_read_support_filter_all(a) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK ||
            archive_read_support_format_gnutar(a) != ARCHIVE_OK)
                return -EIO;
        if (archive_read_open_fd(a, fd, 128 * 1024) != ARCHIVE_OK)
                return archive_to_errno(a);
        *ret = TAKE_PTR(a);
        return 0;
}

int archive_to_errno(struct archive *a) {
        int e = archive_errno(a) > 0 ? archive_errno(a) : EBADMSG;

        log_debug("libarchive: %s", strempty(archive_error_string(a)));
        /* libarchive uses its own codes (ARCHIVE_ERRNO_MISC = -1, FILE_FORMAT = EILSEQ); they all mean
         * the data is bad, unless a real I/O errno came up. */
        if (e == EILSEQ || e == EINVAL)
                return -EBADMSG;
        return -e;
}

ssize_t archive_entry_reader(void *userdata, void *buf, size_t size) {
        struct archive *a = userdata;
        la_ssize_t n = archive_read_data(a, buf, size);
        int r;

        if (n >= 0)
                return n;
        r = archive_to_errno(a);
        return r == -EBADMSG ? -STORE_ERR_ARCHIVE_DAMAGED : r;
}

int archive_entry_name(struct archive_entry *e, char **ret) {
        const char *p = archive_entry_pathname(e);
        _cleanup_strv_free_ char **parts = NULL;
        size_t len = 0;
        char *n;
        int r;

        if (!p || p[0] == '/')
                return -EBADMSG;
        r = strv_split(p, "/", &parts);
        if (r < 0)
                return r;
        STRV_FOREACH(c, parts) {
                if (streq(*c, ".."))
                        return -EBADMSG;
                len += strlen(*c) + 1;
        }
        n = calloc(len + 1, 1);
        if (!n)
                return -ENOMEM;
        STRV_FOREACH(c, parts) {
                if (streq(*c, "."))
                        continue;
                if (*n)
                        strcat(n, "/");
                strcat(n, *c);
        }
        *ret = n;
        return 0;
}

const char *oci_host_arch(void) {
        struct utsname u;
        static const struct {
                const char *machine, *oci;
        } map[] = {
                { "x86_64", "amd64" }, { "aarch64", "arm64" }, { "i686", "386" }, { "armv7l", "arm" },
                { "ppc64le", "ppc64le" }, { "s390x", "s390x" }, { "riscv64", "riscv64" },
        };

        if (uname(&u) < 0)
                return "amd64";
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(u.machine, map[i].machine))
                        return map[i].oci;
        return "amd64";
}

static int set_detail(char **reterr, const char *s) {
        if (reterr) {
                free(*reterr);
                *reterr = s ? strdup(s) : NULL;
        }
        return 0;
}

int oci_index_select(StoreImport *imp, json_object *index, const char *tag, EnsureBlobFunc ensure,
                     void *userdata, char **ret_manifest, char **ret_ref_name, char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *owned = NULL;
        _cleanup_free_ char *ref_name = NULL;
        char digest[DIGEST_STRING_MAX];
        int r;

        for (unsigned depth = 0; ; depth++) {
                json_object *manifests, *chosen = NULL;
                const char *d, *media_type;
                bool is_manifest;
                size_t n;

                if (depth > 4)
                        return -ELOOP;
                if (json_get_array(index, "manifests", &manifests) < 0)
                        return -EBADMSG;
                n = json_object_array_length(manifests);
                for (size_t i = 0; i < n; i++) {
                        json_object *m = json_object_array_get_idx(manifests, i), *ann, *platform;
                        const char *name = NULL, *arch = NULL, *os = NULL;

                        if (json_get_object(m, "annotations", &ann) >= 0)
                                (void) json_get_string(ann, "org.opencontainers.image.ref.name", &name);
                        if (json_get_object(m, "platform", &platform) >= 0) {
                                (void) json_get_string(platform, "architecture", &arch);
                                (void) json_get_string(platform, "os", &os);
                        }
                        if (depth == 0 && tag) {
                                if (!name || !streq(name, tag))
                                        continue;
                        } else if (arch && os && (!streq(arch, oci_host_arch()) || !streq(os, "linux")))
                                continue;
                        if (chosen) {
                                set_detail(reterr_detail, tag ?: "several images and no tag given");
                                return -ENOTUNIQ;
                        }
                        chosen = m;
                        if (depth == 0 && name) {
                                ref_name = strdup(name);
                                if (!ref_name)
                                        return -ENOMEM;
                        }
                }
                if (!chosen) {
                        set_detail(reterr_detail, depth == 0 && tag ? tag : "no image for this platform");
                        return -ENOENT;
                }
                if (json_get_string(chosen, "digest", &d) < 0 || !digest_is_valid(d) ||
                    json_get_string(chosen, "mediaType", &media_type) < 0)
                        return -EBADMSG;
                strcpy(digest, d);
                is_manifest = streq(media_type, "application/vnd.oci.image.manifest.v1+json") ||
                              streq(media_type, "application/vnd.docker.distribution.manifest.v2+json");
                if (!is_manifest && !streq(media_type, "application/vnd.oci.image.index.v1+json") &&
                    !streq(media_type, "application/vnd.docker.distribution.manifest.list.v2+json")) {
                        set_detail(reterr_detail, media_type);
                        return -EMEDIUMTYPE;
                }
                r = ensure(imp, userdata, digest);
                if (r < 0) {
                        set_detail(reterr_detail, digest);
                        return r;
                }
                if (is_manifest)
                        break;

                _cleanup_close_ int fd = -EBADF;
                json_object *nested;

                r = store_import_open(imp, digest, &fd);
                if (r < 0)
                        return r;
                r = json_parse_fd(fd, STORE_JSON_SIZE_MAX, &nested);
                if (r < 0)
                        return r;
                json_object_put(owned);
                owned = index = nested;
        }

        *ret_manifest = strdup(digest);
        if (!*ret_manifest)
                return -ENOMEM;
        if (ret_ref_name)
                *ret_ref_name = TAKE_PTR(ref_name);
        return 0;
}

int oci_manifest_ensure_blobs(StoreImport *imp, const char *manifest, EnsureBlobFunc ensure, void *userdata,
                              char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *m = NULL;
        _cleanup_close_ int fd = -EBADF;
        json_object *config, *layers, *ann;
        const char *d;
        int r;

        r = store_import_open(imp, manifest, &fd);
        if (r < 0)
                return r;
        r = json_parse_fd(fd, STORE_JSON_SIZE_MAX, &m);
        if (r < 0)
                return r;
        if (json_get_object(m, "config", &config) < 0 || json_get_string(config, "digest", &d) < 0 ||
            !digest_is_valid(d))
                return -EBADMSG;
        r = ensure(imp, userdata, d);
        if (r < 0)
                return set_detail(reterr_detail, d), r;
        if (json_get_array(m, "layers", &layers) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                if (json_get_string(json_object_array_get_idx(layers, i), "digest", &d) < 0 ||
                    !digest_is_valid(d))
                        return -EBADMSG;
                r = ensure(imp, userdata, d);
                if (r < 0)
                        return set_detail(reterr_detail, d), r;
        }
        if (json_get_object(m, "annotations", &ann) >= 0 &&
            json_get_string(ann, "io.rocket.aci.manifest", &d) >= 0) {
                if (!digest_is_valid(d))
                        return -EBADMSG;
                r = ensure(imp, userdata, d);
                if (r < 0)
                        return set_detail(reterr_detail, d), r;
        }
        return 0;
}

int image_import(Store *s, const ImageRef *ref, char *const *names, char **ret_id, char **reterr_detail) {
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        _cleanup_strv_free_ char **all = NULL;
        _cleanup_free_ char *manifest = NULL;
        ImageFormat format;
        int r;

        r = store_import_begin(s, &imp);
        if (r < 0)
                return r;

        switch (ref->type) {
        case IMAGE_REF_OCI_DIR:
                format = IMAGE_FORMAT_OCI;
                r = import_oci_dir(imp, ref, &all, &manifest, reterr_detail);
                break;
        case IMAGE_REF_OCI_ARCHIVE:
                format = IMAGE_FORMAT_OCI;
                r = import_oci_archive(imp, ref, &all, &manifest, reterr_detail);
                break;
        case IMAGE_REF_DOCKER_ARCHIVE:
                format = IMAGE_FORMAT_DOCKER;
                r = import_docker_archive(imp, ref, &all, &manifest, reterr_detail);
                break;
        case IMAGE_REF_ACI:
                format = IMAGE_FORMAT_ACI;
                r = import_aci(imp, s, ref, &all, &manifest, reterr_detail);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;

        STRV_FOREACH(n, (char **) names)
                if (!strv_contains(all, *n)) {
                        r = strv_extend(&all, *n);
                        if (r < 0)
                                return r;
                }

        return store_import_commit(imp, manifest, format, all, ret_id, reterr_detail);
}

int archive_next_entry(struct archive *a, struct archive_entry **ret_entry, char **ret_name, char **reterr_detail) {
        char *name = NULL;
        int r;

        r = archive_read_next_header(a, ret_entry);
        if (r == ARCHIVE_EOF)
                return 0;
        if (r < ARCHIVE_WARN)
                return archive_to_errno(a);
        r = archive_entry_name(*ret_entry, &name);
        if (r < 0) {
                free(*reterr_detail);
                *reterr_detail = strdup(strempty(archive_entry_pathname(*ret_entry)));
                return r;
        }
        *ret_name = name;
        return 1;
}
