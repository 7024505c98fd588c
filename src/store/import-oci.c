/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>

#include "fs-util.h"
#include "import.h"
#include "log.h"
#include "string-util.h"

/* The image's names: "TAG" from the command line or the layout's ref.name annotation. A full reference
 * ("example.com/app:1.0") is used as it is; a bare tag is put after the layout's base name. */
static int oci_names(const char *path, const char *tag, char ***names) {
        _cleanup_free_ char *base = NULL, *name = NULL;
        const char *slash;
        char *dot;

        if (!tag)
                return 0;
        if (strchr(tag, '/') || strchr(tag, ':'))
                return image_name_is_valid(tag) ? strv_extend(names, tag) : 0;

        while (endswith(path, "/") && strlen(path) > 1)
                path = strndupa(path, strlen(path) - 1);
        slash = strrchr(path, '/');
        base = strdup(slash ? slash + 1 : path);
        if (!base)
                return -ENOMEM;
        dot = strchr(base, '.');                /* "busybox.tar" → "busybox" */
        if (dot && dot != base)
                *dot = 0;
        for (char *p = base; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-", *p))
                        *p = *p >= 'A' && *p <= 'Z' ? (char) (*p - 'A' + 'a') : '-';
        if (asprintf(&name, "%s:%s", base, tag) < 0)
                return -ENOMEM;
        /* An unusable directory name gives an image reachable by ID only, not an error. */
        return image_name_is_valid(name) ? strv_extend(names, name) : 0;
}

static int check_layout(const char *text, size_t size) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *v;
        int r;

        r = json_parse_strict(text, size, &o);
        if (r < 0)
                return r;
        if (json_get_string(o, "imageLayoutVersion", &v) < 0)
                return -EBADMSG;
        return startswith(v, "1.") ? 0 : -EPROTONOSUPPORT;
}

static int ensure_from_dir(StoreImport *imp, void *userdata, const char *digest) {
        int dir_fd = *(int *) userdata;
        _cleanup_close_ int fd = -EBADF;
        char path[DIGEST_STRING_MAX + 16], got[DIGEST_STRING_MAX];

        if (store_import_has(imp, digest))
                return 0;
        snprintf(path, sizeof path, "blobs/sha256/%s", digest_hex(digest));
        fd = openat(dir_fd, path, O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        return store_import_put_fd(imp, fd, digest, STORE_BLOB_SIZE_MAX, got, NULL);
}

int import_oci_dir(StoreImport *imp, const ImageRef *ref, char ***names, char **ret_manifest, char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *index = NULL;
        _cleanup_free_ char *text = NULL, *manifest = NULL, *ref_name = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        size_t size;
        int r;

        dir_fd = open(ref->path, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        r = read_full_file_at(dir_fd, "oci-layout", 4096, &text, &size);
        if (r < 0) {
                free(*reterr_detail);
                *reterr_detail = strdup("oci-layout");
                return r == -ENOENT ? -EMEDIUMTYPE : r;
        }
        r = check_layout(text, size);
        if (r < 0)
                return r;
        r = json_parse_file_at(dir_fd, "index.json", STORE_JSON_SIZE_MAX, &index);
        if (r < 0)
                return r;

        r = oci_index_select(imp, index, ref->tag, ensure_from_dir, &dir_fd, &manifest, &ref_name, reterr_detail);
        if (r < 0)
                return r;
        r = oci_manifest_ensure_blobs(imp, manifest, ensure_from_dir, &dir_fd, reterr_detail);
        if (r < 0)
                return r;
        r = oci_names(ref->path, ref->tag ?: ref_name, names);
        if (r < 0)
                return r;
        *ret_manifest = TAKE_PTR(manifest);
        return 0;
}

/* In an archive every blob was put while reading it; anything else is missing. */
static int ensure_present(StoreImport *imp, void *userdata, const char *digest) {
        return store_import_has(imp, digest) ? 0 : -ENOENT;
}

int import_oci_archive(StoreImport *imp, const ImageRef *ref, char ***names, char **ret_manifest,
                       char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *index = NULL;
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_free_ char *manifest = NULL, *ref_name = NULL, *index_text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct archive_entry *e;
        bool have_layout = false;
        size_t index_size = 0;
        int r;

        fd = open(ref->path, O_RDONLY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = archive_open_fd(fd, &a);
        if (r < 0)
                return r;

        /* One pass: every blob goes into the transaction, verified against its name. */
        for (;;) {
                _cleanup_free_ char *name = NULL;
                const char *hex;

                r = archive_next_entry(a, &e, &name, reterr_detail);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        break;
                }
                if (archive_entry_filetype(e) != AE_IFREG)
                        continue;

                if (streq(name, "oci-layout") || streq(name, "index.json")) {
                        _cleanup_free_ char *text = NULL;
                        la_int64_t sz = archive_entry_size(e);

                        if (sz < 0 || sz > (la_int64_t) STORE_JSON_SIZE_MAX)
                                return -EFBIG;
                        text = malloc((size_t) sz + 1);
                        if (!text)
                                return -ENOMEM;
                        if (archive_read_data(a, text, (size_t) sz) != sz)
                                return archive_to_errno(a);
                        text[sz] = 0;
                        if (streq(name, "oci-layout")) {
                                r = check_layout(text, (size_t) sz);
                                if (r < 0)
                                        return r;
                                have_layout = true;
                        } else {
                                free(index_text);
                                index_text = TAKE_PTR(text);
                                index_size = (size_t) sz;
                        }
                } else if ((hex = startswith(name, "blobs/sha256/"))) {
                        char expected[DIGEST_STRING_MAX + 1], got[DIGEST_STRING_MAX];

                        snprintf(expected, sizeof expected, DIGEST_PREFIX "%s", hex);
                        if (!digest_is_valid(expected)) {
                                free(*reterr_detail);
                                *reterr_detail = strdup(name);
                                return -EBADMSG;
                        }
                        r = store_import_put(imp, archive_entry_reader, a, expected, STORE_BLOB_SIZE_MAX, got,
                                             NULL);
                        if (r < 0) {
                                free(*reterr_detail);
                                *reterr_detail = strdup(name);
                                return r;
                        }
                }
        }
        if (!have_layout || !index_text) {
                free(*reterr_detail);
                *reterr_detail = strdup(have_layout ? "index.json" : "oci-layout");
                return -EMEDIUMTYPE;
        }
        r = json_parse_strict(index_text, index_size, &index);
        if (r < 0)
                return r;
        r = oci_index_select(imp, index, ref->tag, ensure_present, NULL, &manifest, &ref_name, reterr_detail);
        if (r < 0)
                return r;
        r = oci_manifest_ensure_blobs(imp, manifest, ensure_present, NULL, reterr_detail);
        if (r < 0)
                return r;
        r = oci_names(ref->path, ref->tag ?: ref_name, names);
        if (r < 0)
                return r;
        *ret_manifest = TAKE_PTR(manifest);
        return 0;
}
