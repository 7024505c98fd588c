/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Export as an OCI archive: a tar of an OCI image layout with the image's own blobs, unchanged, so the
 * manifest digest (the image ID) survives the round trip. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "json-util.h"
#include "store.h"
#include "string-util.h"

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}
DEFINE_POINTER_CLEANUP(struct archive_entry, archive_entry_free);

static int write_entry(struct archive *w, const char *name, const void *data, size_t size, int fd) {
        _cleanup_(archive_entry_freep) struct archive_entry *e = archive_entry_new();

        if (!e)
                return -ENOMEM;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, name[strlen(name) - 1] == '/' ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e, name[strlen(name) - 1] == '/' ? 0755 : 0644);
        archive_entry_set_size(e, (la_int64_t) size);
        archive_entry_set_mtime(e, time(NULL), 0);
        if (archive_write_header(w, e) != ARCHIVE_OK)
                return -EIO;
        if (data && archive_write_data(w, data, size) != (la_ssize_t) size)
                return -EIO;
        if (fd >= 0)
                for (;;) {
                        char buf[128 * 1024];
                        ssize_t n = read(fd, buf, sizeof buf);

                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        if (n == 0)
                                break;
                        if (archive_write_data(w, buf, (size_t) n) != n)
                                return -EIO;
                }
        return 0;
}

static int write_blob(Store *s, struct archive *w, const char *digest, char ***done) {
        _cleanup_close_ int fd = -EBADF;
        char name[DIGEST_STRING_MAX + 16];
        struct stat st;
        int r;

        if (strv_contains(*done, digest))
                return 0;
        r = store_blob_open(s, digest, &fd);
        if (r < 0)
                return r;
        if (fstat(fd, &st) < 0)
                return -errno;
        snprintf(name, sizeof name, "blobs/sha256/%s", digest_hex(digest));
        r = write_entry(w, name, NULL, (size_t) st.st_size, fd);
        if (r < 0)
                return r;
        return strv_extend(done, digest);
}

int store_export_oci_archive(Store *s, const char *id, const char *ref_name, int fd) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_(archive_write_freep) struct archive *w = archive_write_new();
        _cleanup_(json_object_putp) json_object *index = json_object_new_object();
        _cleanup_strv_free_ char **done = NULL;
        json_object *manifests, *desc, *ann;
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        const char *text;
        uint64_t size;
        int r;

        if (!w || !index)
                return -ENOMEM;
        r = store_image_load(s, id, &rec);
        if (r < 0)
                return r;
        r = store_blob_size(s, rec->id, &size);
        if (r < 0)
                return r;

        manifests = json_object_new_array();
        desc = json_object_new_object();
        if (json_add_int64(index, "schemaVersion", 2) < 0 ||
            json_add_string(index, "mediaType", "application/vnd.oci.image.index.v1+json") < 0 ||
            json_add(index, "manifests", manifests) < 0 || !desc || json_object_array_add(manifests, desc) < 0 ||
            json_add_string(desc, "mediaType", "application/vnd.oci.image.manifest.v1+json") < 0 ||
            json_add_string(desc, "digest", rec->id) < 0 || json_add_int64(desc, "size", (int64_t) size) < 0)
                return -ENOMEM;
        if (ref_name) {
                ann = json_object_new_object();
                if (json_add(desc, "annotations", ann) < 0 ||
                    json_add_string(ann, "org.opencontainers.image.ref.name", ref_name) < 0)
                        return -ENOMEM;
        }
        text = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE);

        if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK || archive_write_open_fd(w, fd) != ARCHIVE_OK)
                return -EIO;
        if ((r = write_entry(w, "oci-layout", layout, strlen(layout), -EBADF)) < 0 ||
            (r = write_entry(w, "index.json", text, strlen(text), -EBADF)) < 0 ||
            (r = write_entry(w, "blobs/", NULL, 0, -EBADF)) < 0 ||
            (r = write_entry(w, "blobs/sha256/", NULL, 0, -EBADF)) < 0 ||
            (r = write_blob(s, w, rec->id, &done)) < 0 ||
            (r = write_blob(s, w, rec->config, &done)) < 0)
                return r;
        if (rec->aci_manifest && (r = write_blob(s, w, rec->aci_manifest, &done)) < 0)
                return r;
        for (size_t i = 0; i < rec->n_layers; i++)
                if ((r = write_blob(s, w, rec->layers[i].digest, &done)) < 0)
                        return r;
        if (archive_write_close(w) != ARCHIVE_OK)
                return -EIO;
        return 0;
}
