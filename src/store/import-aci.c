/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* appc ACI images: a tar (plain, gzip, bzip2 or xz) holding "manifest" (the image manifest, JSON) and
 * "rootfs/". We turn the rootfs into one OCI layer (a plain tar without the "rootfs/" prefix), write an OCI
 * config from what the manifest says, and keep the ACI manifest itself as a blob, named in the OCI
 * manifest's "io.rocket.aci.manifest" annotation. Dependencies must already be in the store; their layers
 * go below ours. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fs-util.h"
#include "import.h"
#include "log.h"
#include "string-util.h"

#define ACI_MANIFEST_SIZE_MAX (1U << 20)

DEFINE_POINTER_CLEANUP(struct archive_entry, archive_entry_free);

static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

/* Plain write callback: archive_write_open_fd() would skip any entry whose recorded dev/ino equals the
 * output file's, and a memfd's inode can collide with the numbers an ACI's tar headers carry. */
static la_ssize_t write_all_cb(struct archive *a, void *userdata, const void *buf, size_t size) {
        int fd = *(int *) userdata;
        size_t done = 0;

        while (done < size) {
                ssize_t n = write(fd, (const char *) buf + done, size - done);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        archive_set_error(a, errno, "write: %m");
                        return -1;
                }
                done += (size_t) n;
        }
        return (la_ssize_t) size;
}

/* "rootfs/x" → "x", "rootfs" → "."; NULL for anything outside the rootfs. */
static const char *strip_rootfs(const char *name) {
        const char *r = startswith(name, "rootfs");

        if (!r)
                return NULL;
        if (*r == 0)
                return ".";
        if (*r != '/')
                return NULL;
        r++;
        return *r ? r : ".";
}

/* Copies the rootfs entries of a into a new plain tar on out_fd; keeps the manifest text. */
static int aci_split(struct archive *a, int out_fd, char **ret_manifest, size_t *ret_size, char **reterr_detail) {
        _cleanup_(archive_write_freep) struct archive *w = archive_write_new();
        _cleanup_free_ char *manifest = NULL;
        struct archive_entry *e;
        size_t manifest_size = 0;
        int r;

        if (!w)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
            archive_write_add_filter_none(w) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
            archive_write_open2(w, &out_fd, NULL, write_all_cb, NULL, NULL) != ARCHIVE_OK)
                return -EIO;

        for (;;) {
                _cleanup_(archive_entry_freep) struct archive_entry *c = NULL;
                _cleanup_free_ char *name = NULL;
                const char *inner;

                r = archive_next_entry(a, &e, &name, reterr_detail);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        break;
                }
                if (streq(name, "manifest")) {
                        la_int64_t sz = archive_entry_size(e);

                        if (archive_entry_filetype(e) != AE_IFREG || sz < 0 || sz > ACI_MANIFEST_SIZE_MAX)
                                return -EBADMSG;
                        free(manifest);
                        manifest = malloc((size_t) sz + 1);
                        if (!manifest)
                                return -ENOMEM;
                        if (archive_read_data(a, manifest, (size_t) sz) != sz)
                                return archive_to_errno(a);
                        manifest[sz] = 0;
                        manifest_size = (size_t) sz;
                        continue;
                }
                inner = strip_rootfs(name);
                if (!inner)
                        continue;

                c = archive_entry_clone(e);
                if (!c)
                        return -ENOMEM;
                archive_entry_set_pathname(c, inner);
                if (archive_entry_hardlink(e)) {
                        _cleanup_(archive_entry_freep) struct archive_entry *tmp = archive_entry_new();
                        _cleanup_free_ char *target = NULL;
                        const char *t;

                        if (!tmp)
                                return -ENOMEM;
                        archive_entry_set_pathname(tmp, archive_entry_hardlink(e));
                        if (archive_entry_name(tmp, &target) < 0 || !(t = strip_rootfs(target))) {
                                free(*reterr_detail);
                                *reterr_detail = strdup(name);
                                return -EBADMSG;
                        }
                        archive_entry_set_hardlink(c, t);
                }
                if (archive_write_header(w, c) != ARCHIVE_OK)
                        return archive_to_errno(w);
                if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 && !archive_entry_hardlink(e))
                        for (;;) {
                                char buf[64 * 1024];
                                la_ssize_t n = archive_read_data(a, buf, sizeof buf);

                                if (n < 0)
                                        return archive_to_errno(a);
                                if (n == 0)
                                        break;
                                if (archive_write_data(w, buf, (size_t) n) != n)
                                        return archive_to_errno(w);
                        }
        }
        if (archive_write_close(w) != ARCHIVE_OK)
                return archive_to_errno(w);
        if (!manifest) {
                free(*reterr_detail);
                *reterr_detail = strdup("manifest");
                return -EMEDIUMTYPE;
        }
        *ret_manifest = TAKE_PTR(manifest);
        *ret_size = manifest_size;
        return 0;
}

static const char *aci_label(json_object *labels, const char *key) {
        for (size_t i = 0; labels && i < json_object_array_length(labels); i++) {
                json_object *l = json_object_array_get_idx(labels, i);
                const char *n, *v;

                if (json_get_string(l, "name", &n) >= 0 && streq(n, key) && json_get_string(l, "value", &v) >= 0)
                        return v;
        }
        return NULL;
}

/* The OCI config an ACI manifest describes. */
static int aci_to_oci_config(json_object *aci, json_object **ret) {
        _cleanup_(json_object_putp) json_object *cfg = json_object_new_object();
        json_object *app, *c, *labels = NULL, *a;
        const char *s, *user = NULL, *group = NULL;

        if (!cfg)
                return -ENOMEM;
        (void) json_get_array(aci, "labels", &labels);
        s = aci_label(labels, "arch");
        if (json_add_string(cfg, "architecture", s && streq(s, "amd64") ? "amd64" : (s ?: "amd64")) < 0 ||
            json_add_string(cfg, "os", aci_label(labels, "os") ?: "linux") < 0)
                return -ENOMEM;
        c = json_object_new_object();
        if (json_add(cfg, "config", c) < 0)
                return -ENOMEM;

        if (json_get_object(aci, "app", &app) < 0)
                return 0;       /* an image without an app: a base image for others */

        if (json_get_array(app, "exec", &a) >= 0 && json_add(c, "Entrypoint", json_object_get(a)) < 0)
                return -ENOMEM;
        (void) json_get_string(app, "user", &user);
        (void) json_get_string(app, "group", &group);
        if (user) {
                _cleanup_free_ char *ug = NULL;

                if (asprintf(&ug, "%s%s%s", user, group ? ":" : "", strempty(group)) < 0)
                        return -ENOMEM;
                if (json_add_string(c, "User", ug) < 0)
                        return -ENOMEM;
        }
        if (json_get_string(app, "workingDirectory", &s) >= 0 && json_add_string(c, "WorkingDir", s) < 0)
                return -ENOMEM;
        if (json_get_array(app, "environment", &a) >= 0) {
                json_object *env = json_object_new_array();

                if (json_add(c, "Env", env) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        _cleanup_free_ char *kv = NULL;
                        const char *n, *v;

                        if (json_get_string(json_object_array_get_idx(a, i), "name", &n) < 0 ||
                            json_get_string(json_object_array_get_idx(a, i), "value", &v) < 0)
                                return -EBADMSG;
                        if (asprintf(&kv, "%s=%s", n, v) < 0 ||
                            json_object_array_add(env, json_object_new_string(kv)) < 0)
                                return -ENOMEM;
                }
        }
        if (json_get_array(app, "ports", &a) >= 0) {
                json_object *ports = json_object_new_object();

                if (json_add(c, "ExposedPorts", ports) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *p = json_object_array_get_idx(a, i);
                        char key[64];
                        int64_t port;
                        const char *proto;

                        if (json_get_int64(p, "port", &port) < 0 || port < 1 || port > 65535 ||
                            json_get_string(p, "protocol", &proto) < 0 || strlen(proto) > 16)
                                return -EBADMSG;
                        snprintf(key, sizeof key, "%" PRIi64 "/%s", port, proto);
                        if (json_add(ports, key, json_object_new_object()) < 0)
                                return -ENOMEM;
                }
        }
        if (json_get_array(app, "mountPoints", &a) >= 0) {
                json_object *vols = json_object_new_object();

                if (json_add(c, "Volumes", vols) < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        const char *path;

                        if (json_get_string(json_object_array_get_idx(a, i), "path", &path) < 0)
                                return -EBADMSG;
                        if (json_add(vols, path, json_object_new_object()) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(cfg);
        return 0;
}

int aci_file_name(int fd, char **ret) {
        _cleanup_(json_object_putp) json_object *aci = NULL;
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_close_ int copy = -EBADF;
        const char *name;
        int r;

        /* Its own offset: the caller's fd is read again afterwards. */
        copy = fd_reopen_read(fd);
        if (copy < 0)
                return copy;
        r = archive_open_fd(copy, &a);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_free_ char *entry = NULL, *text = NULL;
                struct archive_entry *e;
                la_int64_t sz;

                r = archive_next_entry(a, &e, &entry, NULL);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EBADMSG;
                if (!streq(entry, "manifest"))
                        continue;
                sz = archive_entry_size(e);
                if (sz <= 0 || sz > (la_int64_t) STORE_JSON_SIZE_MAX)
                        return -EBADMSG;
                text = malloc((size_t) sz + 1);
                if (!text)
                        return -ENOMEM;
                if (archive_read_data(a, text, (size_t) sz) != sz)
                        return -EBADMSG;
                r = json_parse_strict(text, (size_t) sz, &aci);
                if (r < 0)
                        return r;
                if (json_get_string(aci, "name", &name) < 0 || !image_name_is_valid(name))
                        return -EBADMSG;
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
}

int import_aci(StoreImport *imp, Store *s, const ImageRef *ref, char ***names, char **ret_manifest,
               char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *aci = NULL, *cfg = NULL, *m = NULL;
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_free_ char *text = NULL, *name = NULL;
        _cleanup_close_ int fd = -EBADF, layer_fd = -EBADF;
        char layer[DIGEST_STRING_MAX], aci_digest[DIGEST_STRING_MAX], cfg_digest[DIGEST_STRING_MAX],
                digest[DIGEST_STRING_MAX];
        json_object *labels = NULL, *deps, *layers, *diff_ids, *rootfs, *desc, *ann;
        const char *s_name, *kind, *out;
        size_t size;
        uint64_t sz;
        int r;

        fd = open(ref->path, O_RDONLY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = archive_open_fd(fd, &a);
        if (r < 0)
                return r;

        layer_fd = memfd_create("aci-layer", MFD_CLOEXEC);
        if (layer_fd < 0)
                return -errno;
        r = aci_split(a, layer_fd, &text, &size, reterr_detail);
        if (r < 0)
                return r;
        if (lseek(layer_fd, 0, SEEK_SET) < 0)
                return -errno;
        r = store_import_put_fd(imp, layer_fd, NULL, STORE_BLOB_SIZE_MAX, layer, NULL);
        if (r < 0)
                return r;

        r = json_parse_strict(text, size, &aci);
        if (r < 0) {
                free(*reterr_detail);
                *reterr_detail = strdup("manifest");
                return r;
        }
        if (json_get_string(aci, "acKind", &kind) < 0 || !streq(kind, "ImageManifest") ||
            json_get_string(aci, "name", &s_name) < 0 || !image_name_is_valid(s_name)) {
                free(*reterr_detail);
                *reterr_detail = strdup("manifest");
                return -EBADMSG;
        }
        (void) json_get_array(aci, "labels", &labels);
        if (asprintf(&name, "%s:%s", s_name, aci_label(labels, "version") ?: "latest") < 0)
                return -ENOMEM;
        if (!image_name_is_valid(name))
                return -EBADMSG;
        r = store_import_put_data(imp, text, size, aci_digest);
        if (r < 0)
                return r;

        r = aci_to_oci_config(aci, &cfg);
        if (r < 0) {
                free(*reterr_detail);
                *reterr_detail = strdup("manifest");
                return r;
        }

        m = json_object_new_object();
        layers = json_object_new_array();
        diff_ids = json_object_new_array();
        rootfs = json_object_new_object();
        if (!m || json_add(cfg, "rootfs", rootfs) < 0 || json_add_string(rootfs, "type", "layers") < 0 ||
            json_add(rootfs, "diff_ids", diff_ids) < 0 || json_add_int64(m, "schemaVersion", 2) < 0 ||
            json_add(m, "layers", layers) < 0 ||
            json_add_string(m, "mediaType", "application/vnd.oci.image.manifest.v1+json") < 0)
                return -ENOMEM;

        /* Dependencies first: their layers lie below ours. */
        if (json_get_array(aci, "dependencies", &deps) >= 0)
                for (size_t i = 0; i < json_object_array_length(deps); i++) {
                        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
                        _cleanup_free_ char *dep = NULL, *id = NULL;
                        json_object *d = json_object_array_get_idx(deps, i), *dl = NULL;
                        const char *dn;

                        if (json_get_string(d, "imageName", &dn) < 0)
                                return -EBADMSG;
                        (void) json_get_array(d, "labels", &dl);
                        if (asprintf(&dep, "%s:%s", dn, aci_label(dl, "version") ?: "latest") < 0)
                                return -ENOMEM;
                        r = store_image_resolve(s, dep, &id);
                        if (r >= 0)
                                r = store_image_load(s, id, &rec);
                        if (r < 0) {
                                free(*reterr_detail);
                                *reterr_detail = TAKE_PTR(dep);
                                return r == -ENOENT ? -ENOPKG : r;
                        }
                        for (size_t j = 0; j < rec->n_layers; j++) {
                                desc = json_object_new_object();
                                if (json_object_array_add(layers, desc) < 0 ||
                                    json_add_string(desc, "mediaType", rec->layers[j].media_type ?:
                                                    "application/vnd.oci.image.layer.v1.tar") < 0 ||
                                    json_add_string(desc, "digest", rec->layers[j].digest) < 0 ||
                                    json_add_int64(desc, "size", (int64_t) rec->layers[j].size) < 0)
                                        return -ENOMEM;
                        }
                }

        r = store_import_size(imp, layer, &sz);
        if (r < 0)
                return r;
        desc = json_object_new_object();
        if (json_object_array_add(layers, desc) < 0 ||
            json_add_string(desc, "mediaType", "application/vnd.oci.image.layer.v1.tar") < 0 ||
            json_add_string(desc, "digest", layer) < 0 || json_add_int64(desc, "size", (int64_t) sz) < 0 ||
            json_object_array_add(diff_ids, json_object_new_string(layer)) < 0)
                return -ENOMEM;

        out = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE);
        r = store_import_put_data(imp, out, strlen(out), cfg_digest);
        if (r < 0)
                return r;
        desc = json_object_new_object();
        ann = json_object_new_object();
        if (json_add(m, "config", desc) < 0 ||
            json_add_string(desc, "mediaType", "application/vnd.oci.image.config.v1+json") < 0 ||
            json_add_string(desc, "digest", cfg_digest) < 0 ||
            json_add_int64(desc, "size", (int64_t) strlen(out)) < 0 ||
            json_add(m, "annotations", ann) < 0 ||
            json_add_string(ann, "io.rocket.aci.manifest", aci_digest) < 0)
                return -ENOMEM;

        out = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE);
        r = store_import_put_data(imp, out, strlen(out), digest);
        if (r < 0)
                return r;
        r = strv_extend(names, name);
        if (r < 0)
                return r;
        *ret_manifest = strdup(digest);
        return *ret_manifest ? 0 : -ENOMEM;
}
