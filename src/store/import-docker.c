/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `docker save` archives: manifest.json lists, per image, its config file, its RepoTags and its layer
 * files (ID/layer.tar, or blobs/sha256/HEX from Docker 25 on). Identical layers may be symlinks to another
 * image's layer.tar. We read the archive once, put every file into the transaction, and then write an
 * OCI manifest for the chosen image, whose digest becomes the image ID. */
#include <fcntl.h>
#include <stdio.h>

#include "import.h"
#include "log.h"
#include "string-util.h"

typedef struct Entry {
        char *name;
        char *digest;           /* regular files */
        char *link;             /* symlinks: the target, resolved to an archive path */
} Entry;

typedef struct Entries {
        Entry *e;
        size_t n;
} Entries;

static void entries_done(Entries *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->e[i].name);
                free(l->e[i].digest);
                free(l->e[i].link);
        }
        free(l->e);
}

static const char *entries_digest(const Entries *l, const char *name) {
        for (unsigned hops = 0; hops < 8; hops++) {
                const Entry *found = NULL;

                for (size_t i = 0; i < l->n; i++)
                        if (streq(l->e[i].name, name))
                                found = &l->e[i];
                if (!found)
                        return NULL;
                if (found->digest)
                        return found->digest;
                name = found->link;
        }
        return NULL;
}

/* "dir/x" + "../y/layer.tar" → "y/layer.tar"; NULL if it leaves the archive. */
static char *resolve_link(const char *entry, const char *target) {
        _cleanup_strv_free_ char **parts = NULL, **t = NULL;
        _cleanup_free_ char *out = NULL;
        size_t n;

        if (target[0] == '/' || strv_split(entry, "/", &parts) < 0 || strv_split(target, "/", &t) < 0)
                return NULL;
        n = strv_length(parts);
        if (n == 0)
                return NULL;
        free(parts[--n]);               /* the entry's own name */
        parts[n] = NULL;
        STRV_FOREACH(c, t) {
                if (streq(*c, "."))
                        continue;
                if (streq(*c, "..")) {
                        if (n == 0)
                                return NULL;
                        free(parts[--n]);
                        parts[n] = NULL;
                        continue;
                }
                if (strv_extend(&parts, *c) < 0)
                        return NULL;
                n++;
        }
        out = calloc(strlen(entry) + strlen(target) + 2, 1);
        if (!out)
                return NULL;
        STRV_FOREACH(c, parts) {
                if (*out)
                        strcat(out, "/");
                strcat(out, *c);
        }
        return TAKE_PTR(out);
}

static const char *layer_media_type(StoreImport *imp, const char *digest) {
        _cleanup_close_ int fd = -EBADF;
        unsigned char magic[4] = {};

        if (store_import_open(imp, digest, &fd) < 0 || read(fd, magic, sizeof magic) != sizeof magic)
                return "application/vnd.oci.image.layer.v1.tar";
        if (magic[0] == 0x1f && magic[1] == 0x8b)
                return "application/vnd.oci.image.layer.v1.tar+gzip";
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                return "application/vnd.oci.image.layer.v1.tar+zstd";
        return "application/vnd.oci.image.layer.v1.tar";
}

static int add_descriptor(StoreImport *imp, json_object *o, const char *media_type, const char *digest) {
        uint64_t size;
        int r;

        r = store_import_size(imp, digest, &size);
        if (r < 0)
                return r;
        if (json_add_string(o, "mediaType", media_type) < 0 || json_add_string(o, "digest", digest) < 0 ||
            json_add_int64(o, "size", (int64_t) size) < 0)
                return -ENOMEM;
        return 0;
}

/* Does tags hold want, comparing Docker's canonical forms ("busybox:v2" is "docker.io/library/busybox:v2")? */
static int tags_contain(char *const *tags, const char *want, bool *ret) {
        _cleanup_free_ char *w = NULL;
        int r;

        r = docker_reference_normalize(want, &w);
        if (r < 0)
                return r;
        STRV_FOREACH(t, (char **) tags) {
                _cleanup_free_ char *n = NULL;

                if (docker_reference_normalize(*t, &n) >= 0 && streq(n, w)) {
                        *ret = true;
                        return 0;
                }
        }
        *ret = false;
        return 0;
}

int import_docker_archive(StoreImport *imp, const ImageRef *ref, char ***names, char **ret_manifest,
                          char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *list = NULL, *m = NULL;
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_(entries_done) Entries entries = {};
        _cleanup_free_ char *manifest_text = NULL;
        _cleanup_close_ int fd = -EBADF;
        json_object *chosen = NULL, *layers, *config, *out_layers;
        char digest[DIGEST_STRING_MAX];
        const char *config_digest, *s;
        size_t manifest_size = 0;
        struct archive_entry *e;
        int r;

        fd = open(ref->path, O_RDONLY|O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = archive_open_fd(fd, &a);
        if (r < 0)
                return r;

        for (;;) {
                _cleanup_free_ char *name = NULL;
                Entry *t;

                r = archive_next_entry(a, &e, &name, reterr_detail);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        break;
                }
                if (streq(name, "manifest.json") && archive_entry_filetype(e) == AE_IFREG) {
                        la_int64_t sz = archive_entry_size(e);

                        if (sz < 0 || sz > (la_int64_t) STORE_JSON_SIZE_MAX)
                                return -EFBIG;
                        manifest_text = malloc((size_t) sz + 1);
                        if (!manifest_text)
                                return -ENOMEM;
                        if (archive_read_data(a, manifest_text, (size_t) sz) != sz)
                                return archive_to_errno(a);
                        manifest_text[sz] = 0;
                        manifest_size = (size_t) sz;
                        continue;
                }
                if (archive_entry_filetype(e) != AE_IFREG && archive_entry_filetype(e) != AE_IFLNK)
                        continue;
                /* Only what a manifest can point at: configs, layers, blobs. */
                if (!endswith(name, ".json") && !endswith(name, ".tar") && !startswith(name, "blobs/"))
                        continue;
                if (streq(name, "index.json"))
                        continue;

                t = reallocarray(entries.e, entries.n + 1, sizeof(Entry));
                if (!t)
                        return -ENOMEM;
                entries.e = t;
                t = &entries.e[entries.n];
                *t = (Entry) { .name = TAKE_PTR(name) };
                entries.n++;
                if (archive_entry_filetype(e) == AE_IFLNK) {
                        t->link = resolve_link(t->name, strempty(archive_entry_symlink(e)));
                        if (!t->link) {
                                free(*reterr_detail);
                                *reterr_detail = strdup(t->name);
                                return -EBADMSG;
                        }
                        continue;
                }
                r = store_import_put(imp, archive_entry_reader, a, NULL, STORE_BLOB_SIZE_MAX, digest, NULL);
                if (r < 0) {
                        free(*reterr_detail);
                        *reterr_detail = strdup(t->name);
                        return r;
                }
                t->digest = strdup(digest);
                if (!t->digest)
                        return -ENOMEM;
        }

        if (!manifest_text) {
                free(*reterr_detail);
                *reterr_detail = strdup("manifest.json");
                return -EMEDIUMTYPE;
        }
        r = json_parse_strict(manifest_text, manifest_size, &list);
        if (r < 0)
                return r;
        if (!json_object_is_type(list, json_type_array))
                return -EBADMSG;

        for (size_t i = 0; i < json_object_array_length(list); i++) {
                json_object *item = json_object_array_get_idx(list, i);
                _cleanup_strv_free_ char **tags = NULL;

                if (json_get_strv(item, "RepoTags", &tags) < 0 && !ref->tag) {
                        tags = calloc(1, sizeof(char *));
                        if (!tags)
                                return -ENOMEM;
                }
                if (ref->tag) {
                        bool match = false;

                        r = tags_contain(tags, ref->tag, &match);
                        if (r < 0)
                                return r;
                        if (!match)
                                continue;
                }
                if (chosen) {
                        free(*reterr_detail);
                        *reterr_detail = strdup(ref->tag ?: "several images and no NAME:TAG given");
                        return -ENOTUNIQ;
                }
                chosen = item;
                if (ref->tag)
                        r = strv_extend(names, ref->tag);
                else {
                        r = 0;
                        STRV_FOREACH(tag, tags)
                                if (image_name_is_valid(*tag) && (r = strv_extend(names, *tag)) < 0)
                                        break;
                }
                if (r < 0)
                        return r;
        }
        if (!chosen) {
                free(*reterr_detail);
                *reterr_detail = strdup(ref->tag ?: "no image in manifest.json");
                return -ENOENT;
        }

        if (json_get_string(chosen, "Config", &s) < 0 || json_get_array(chosen, "Layers", &layers) < 0)
                return -EBADMSG;
        config_digest = entries_digest(&entries, s);
        if (!config_digest) {
                free(*reterr_detail);
                *reterr_detail = strdup(s);
                return -ENOENT;
        }

        m = json_object_new_object();
        config = json_object_new_object();
        out_layers = json_object_new_array();
        if (!m || json_add_int64(m, "schemaVersion", 2) < 0 ||
            json_add_string(m, "mediaType", "application/vnd.oci.image.manifest.v1+json") < 0 ||
            json_add(m, "config", config) < 0 || json_add(m, "layers", out_layers) < 0)
                return -ENOMEM;
        r = add_descriptor(imp, config, "application/vnd.oci.image.config.v1+json", config_digest);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(layers); i++) {
                json_object *l = json_object_array_get_idx(layers, i), *d;
                const char *ld;

                if (!json_object_is_type(l, json_type_string))
                        return -EBADMSG;
                ld = entries_digest(&entries, json_object_get_string(l));
                if (!ld) {
                        free(*reterr_detail);
                        *reterr_detail = strdup(json_object_get_string(l));
                        return -ENOENT;
                }
                d = json_object_new_object();
                if (!d || json_object_array_add(out_layers, d) < 0) {
                        json_object_put(d);
                        return -ENOMEM;
                }
                r = add_descriptor(imp, d, layer_media_type(imp, ld), ld);
                if (r < 0)
                        return r;
        }

        s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE);
        r = store_import_put_data(imp, s, strlen(s), digest);
        if (r < 0)
                return r;
        *ret_manifest = strdup(digest);
        return *ret_manifest ? 0 : -ENOMEM;
}
