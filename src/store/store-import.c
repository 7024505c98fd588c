/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "layer-unpack.h"
#include "log.h"
#include "store.h"
#include "string-util.h"
#include "time-util.h"

struct StoreImport {
        Store *store;
        char *staging;          /* name under tmp/ */
        int staging_fd;
        char **staged;          /* hex digests of the blobs staged so far */
        char **identities;      /* "BLOB DIFF_ID SIZE" of layers identified while they streamed in */
};

int store_import_begin(Store *s, StoreImport **ret) {
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        int r;

        imp = calloc(1, sizeof *imp);
        if (!imp)
                return -ENOMEM;
        imp->store = s;
        imp->staging_fd = -EBADF;
        r = tempname_make("import", &imp->staging);
        if (r < 0)
                return r;
        if (mkdirat(s->tmp_fd, imp->staging, 0700) < 0) {
                free(TAKE_PTR(imp->staging));
                return -errno;
        }
        imp->staging_fd = openat(s->tmp_fd, imp->staging, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
        if (imp->staging_fd < 0)
                return -errno;
        *ret = TAKE_PTR(imp);
        return 0;
}

StoreImport *store_import_free(StoreImport *imp) {
        if (!imp)
                return NULL;
        safe_close(imp->staging_fd);
        if (imp->staging) {
                int r = rm_rf_at(imp->store->tmp_fd, imp->staging);
                if (r < 0)
                        log_debug_errno(r, "Failed to remove import staging directory, ignoring: %m");
        }
        free(imp->staging);
        strv_free(imp->staged);
        strv_free(imp->identities);
        free(imp);
        return NULL;
}

bool store_import_has(StoreImport *imp, const char *digest) {
        return digest_is_valid(digest) &&
               (strv_contains(imp->staged, digest_hex(digest)) || store_blob_exists(imp->store, digest));
}

int store_import_open(StoreImport *imp, const char *digest, int *ret_fd) {
        int fd;

        if (!digest_is_valid(digest))
                return -EINVAL;
        if (strv_contains(imp->staged, digest_hex(digest))) {
                fd = openat(imp->staging_fd, digest_hex(digest), O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
                if (fd < 0)
                        return -errno;
                *ret_fd = fd;
                return 0;
        }
        return store_blob_open(imp->store, digest, ret_fd);
}

int store_import_size(StoreImport *imp, const char *digest, uint64_t *ret) {
        struct stat st;

        if (!digest_is_valid(digest))
                return -EINVAL;
        if (strv_contains(imp->staged, digest_hex(digest))) {
                if (fstatat(imp->staging_fd, digest_hex(digest), &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                *ret = (uint64_t) st.st_size;
                return 0;
        }
        return store_blob_size(imp->store, digest, ret);
}

int store_import_put(StoreImport *imp, BlobReadFunc reader, void *userdata, const char *expected, uint64_t max,
                     char ret_digest[static DIGEST_STRING_MAX], uint64_t *ret_size) {
        _cleanup_(sha256_freep) Sha256 *h = NULL;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        char digest[DIGEST_STRING_MAX], buf[128 * 1024];
        uint64_t total = 0;
        int r;

        if (expected && !digest_is_valid(expected))
                return -EINVAL;
        if (expected && store_import_has(imp, expected)) {
                /* Verified when it came in; the caller skips the source. */
                strcpy(ret_digest, expected);
                if (ret_size)
                        return store_import_size(imp, expected, ret_size);
                return 0;
        }

        h = sha256_new();
        if (!h)
                return -ENOMEM;
        r = tempname_make("blob", &tmp);
        if (r < 0)
                return r;
        fd = openat(imp->staging_fd, tmp, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;

        for (;;) {
                ssize_t n = reader(userdata, buf, sizeof buf);
                if (n < 0) {
                        r = (int) n;
                        goto fail;
                }
                if (n == 0)
                        break;
                total += (uint64_t) n;
                if (total > max) {
                        r = -EFBIG;
                        goto fail;
                }
                r = sha256_update(h, buf, (size_t) n);
                if (r < 0)
                        goto fail;
                for (ssize_t off = 0; off < n; ) {
                        ssize_t w = write(fd, buf + off, (size_t) (n - off));
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                r = -errno;
                                goto fail;
                        }
                        off += w;
                }
        }
        r = sha256_final(h, digest);
        if (r < 0)
                goto fail;
        if (expected && !streq(expected, digest)) {
                log_debug("Blob content is %s, expected %s.", digest, expected);
                r = -STORE_ERR_DIGEST_MISMATCH;
                goto fail;
        }
        if (fchmod(fd, 0444) < 0 || fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (!strv_contains(imp->staged, digest_hex(digest))) {
                if (renameat(imp->staging_fd, tmp, imp->staging_fd, digest_hex(digest)) < 0) {
                        r = -errno;
                        goto fail;
                }
                r = strv_extend(&imp->staged, digest_hex(digest));
                if (r < 0)
                        return r;
        } else
                (void) unlinkat(imp->staging_fd, tmp, 0);

        strcpy(ret_digest, digest);
        if (ret_size)
                *ret_size = total;
        return 0;
fail:
        (void) unlinkat(imp->staging_fd, tmp, 0);
        return r;
}

ssize_t blob_fd_reader(void *userdata, void *buf, size_t size) {
        int fd = *(int *) userdata;

        for (;;) {
                ssize_t n = read(fd, buf, size);
                if (n >= 0 || errno != EINTR)
                        return n < 0 ? -errno : n;
        }
}

int store_import_put_fd(StoreImport *imp, int fd, const char *expected, uint64_t max,
                        char ret_digest[static DIGEST_STRING_MAX], uint64_t *ret_size) {
        return store_import_put(imp, blob_fd_reader, &fd, expected, max, ret_digest, ret_size);
}

typedef struct MemReader {
        const uint8_t *p;
        size_t left;
} MemReader;

static ssize_t mem_reader(void *userdata, void *buf, size_t size) {
        MemReader *m = userdata;
        size_t n = MIN(size, m->left);

        memcpy(buf, m->p, n);
        m->p += n;
        m->left -= n;
        return (ssize_t) n;
}

int store_import_put_data(StoreImport *imp, const void *data, size_t size,
                          char ret_digest[static DIGEST_STRING_MAX]) {
        MemReader m = { data, size };

        return store_import_put(imp, mem_reader, &m, NULL, size, ret_digest, NULL);
}

static bool layer_media_type_ok(const char *t) {
        static const char *const ok[] = {
                "application/vnd.oci.image.layer.v1.tar",
                "application/vnd.oci.image.layer.v1.tar+gzip",
                "application/vnd.oci.image.layer.v1.tar+zstd",
                "application/vnd.oci.image.layer.nondistributable.v1.tar",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
                "application/vnd.docker.image.rootfs.diff.tar",
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
        };

        for (size_t i = 0; i < ELEMENTSOF(ok); i++)
                if (streq(t, ok[i]))
                        return true;
        return false;
}

/* Reads the manifest into rec (config, layers, size), checking that every blob it names is present. */
static int manifest_to_record(StoreImport *imp, const char *manifest_digest, ImageRecord *rec,
                              char **reterr_entry) {
        _cleanup_(json_object_putp) json_object *m = NULL;
        _cleanup_close_ int fd = -EBADF;
        json_object *config, *layers, *annotations;
        const char *s;
        int64_t version;
        uint64_t size;
        int r;

        r = store_import_open(imp, manifest_digest, &fd);
        if (r < 0)
                return r;
        r = json_parse_fd(fd, STORE_JSON_SIZE_MAX, &m);
        if (r < 0)
                return r;
        if (json_get_int64(m, "schemaVersion", &version) < 0 || version != 2)
                return -EBADMSG;
        if (json_get_string(m, "mediaType", &s) >= 0 &&
            !streq(s, "application/vnd.oci.image.manifest.v1+json") &&
            !streq(s, "application/vnd.docker.distribution.manifest.v2+json"))
                return -EMEDIUMTYPE;

        r = json_get_object(m, "config", &config);
        if (r < 0)
                return -EBADMSG;
        if (json_get_string(config, "digest", &s) < 0 || !digest_is_valid(s))
                return -EBADMSG;
        if (!store_import_has(imp, s)) {
                if (reterr_entry)
                        *reterr_entry = strdup(s);
                return -ENOENT;
        }
        rec->config = strdup(s);
        if (!rec->config)
                return -ENOMEM;
        r = store_import_size(imp, manifest_digest, &size);
        if (r < 0)
                return r;
        rec->size = size;
        r = store_import_size(imp, rec->config, &size);
        if (r < 0)
                return r;
        rec->size += size;

        r = json_get_array(m, "layers", &layers);
        if (r < 0)
                return -EBADMSG;
        rec->n_layers = json_object_array_length(layers);
        if (rec->n_layers > 512)
                return -E2BIG;
        rec->layers = calloc(MAX(rec->n_layers, 1u), sizeof(ImageLayer));
        if (!rec->layers)
                return -ENOMEM;
        for (size_t i = 0; i < rec->n_layers; i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                const char *d, *t;

                if (json_get_string(l, "digest", &d) < 0 || !digest_is_valid(d) ||
                    json_get_string(l, "mediaType", &t) < 0)
                        return -EBADMSG;
                if (!layer_media_type_ok(t)) {
                        if (reterr_entry)
                                *reterr_entry = strdup(t);
                        return -EMEDIUMTYPE;
                }
                if (!store_import_has(imp, d)) {
                        if (reterr_entry)
                                *reterr_entry = strdup(d);
                        return -ENOENT;
                }
                rec->layers[i].digest = strdup(d);
                rec->layers[i].media_type = strdup(t);
                if (!rec->layers[i].digest || !rec->layers[i].media_type)
                        return -ENOMEM;
                r = store_import_size(imp, d, &size);
                if (r < 0)
                        return r;
                rec->layers[i].size = size;
                rec->size += size;
        }

        if (json_get_object(m, "annotations", &annotations) >= 0 &&
            json_get_string(annotations, "io.rocket.aci.manifest", &s) >= 0) {
                if (!digest_is_valid(s) || !store_import_has(imp, s))
                        return -EBADMSG;
                rec->aci_manifest = strdup(s);
                if (!rec->aci_manifest)
                        return -ENOMEM;
                r = store_import_size(imp, s, &size);
                if (r < 0)
                        return r;
                rec->size += size;
        }
        return 0;
}

int store_blob_write_begin(StoreImport *imp, const char *digest, StoreBlobWrite **ret) {
        _cleanup_(store_blob_write_freep) StoreBlobWrite *w = NULL;
        struct stat st;
        int r;

        if (!digest_is_valid(digest))
                return -EINVAL;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->imp = imp;
        w->fd = -EBADF;
        strcpy(w->digest, digest);

        if (asprintf(&w->name, "partial-sha256-%s", digest_hex(digest)) < 0) {
                w->name = NULL;
                return -ENOMEM;
        }
        w->dir_fd = imp->store->tmp_fd;
        w->fd = openat(w->dir_fd, w->name, O_RDWR|O_CREAT|O_CLOEXEC|O_NOFOLLOW|O_NONBLOCK, 0600);
        if (w->fd < 0)
                return -errno;
        /* tmp/ is the group's: a partial file that is not a plain file of ours alone (planted, hard-linked)
         * is not resumed from but replaced. */
        if (fstat(w->fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != geteuid()) {
                log_debug("Replacing %s, which is not a partial download of ours.", w->name);
                w->fd = safe_close(w->fd);
                if (unlinkat(w->dir_fd, w->name, 0) < 0 && errno != ENOENT)
                        return -errno;
                w->fd = openat(w->dir_fd, w->name, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, 0600);
                if (w->fd < 0)
                        return -errno;
        }
        if (fcntl(w->fd, F_SETFL, 0) < 0)
                return -errno;
        if (flock(w->fd, LOCK_EX|LOCK_NB) >= 0)
                w->shared = true;
        else if (errno == EWOULDBLOCK) {
                /* Another pull is writing it: a private copy, not resumable. */
                w->fd = safe_close(w->fd);
                free(w->name);
                r = tempname_make("blob", &w->name);
                if (r < 0)
                        return r;
                w->dir_fd = imp->staging_fd;
                w->fd = openat(w->dir_fd, w->name, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, 0600);
                if (w->fd < 0)
                        return -errno;
        } else
                return -errno;
        if (fstat(w->fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        w->offset = (uint64_t) st.st_size;
        if (lseek(w->fd, 0, SEEK_END) < 0)
                return -errno;
        *ret = TAKE_PTR(w);
        return 0;
}

int store_blob_write_restart(StoreBlobWrite *w) {
        if (ftruncate(w->fd, 0) < 0 || lseek(w->fd, 0, SEEK_SET) < 0)
                return -errno;
        w->offset = 0;
        return 0;
}

int store_blob_write_commit(StoreBlobWrite *w) {
        StoreImport *imp = w->imp;
        struct stat ours, moved;
        int r;

        if (fchmod(w->fd, 0444) < 0 || (!w->synced && fsync(w->fd) < 0) || fstat(w->fd, &ours) < 0)
                return -errno;
        if (!strv_contains(imp->staged, digest_hex(w->digest))) {
                if (renameat(w->dir_fd, w->name, imp->staging_fd, digest_hex(w->digest)) < 0)
                        return -errno;
                /* The name was taken from the group's tmp/: what moved must be the file written and verified
                 * through our descriptor, not one put in its place meanwhile. In the staging directory (ours
                 * alone) it stays so. */
                if (fstatat(imp->staging_fd, digest_hex(w->digest), &moved, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (moved.st_dev != ours.st_dev || moved.st_ino != ours.st_ino) {
                        (void) unlinkat(imp->staging_fd, digest_hex(w->digest), 0);
                        return -STORE_ERR_DIGEST_MISMATCH;
                }
                r = strv_extend(&imp->staged, digest_hex(w->digest));
                if (r < 0)
                        return r;
        } else
                (void) unlinkat(w->dir_fd, w->name, 0);
        w->done = true;
        return 0;
}

void store_blob_write_discard(StoreBlobWrite *w) {
        (void) unlinkat(w->dir_fd, w->name, 0);
        w->done = true;
}

StoreBlobWrite *store_blob_write_free(StoreBlobWrite *w) {
        if (!w)
                return NULL;
        /* A private copy not committed is garbage; the shared partial file stays for the next pull. */
        if (!w->done && !w->shared && w->name && w->fd >= 0)
                (void) unlinkat(w->dir_fd, w->name, 0);
        safe_close(w->fd);
        free(w->name);
        free(w);
        return NULL;
}

int store_import_tree_begin(StoreImport *imp, char **ret_name, int *ret_fd) {
        _cleanup_free_ char *name = NULL;
        int r, fd;

        r = tempname_make("tree", &name);
        if (r < 0)
                return r;
        if (mkdirat(imp->staging_fd, name, 0755) < 0)
                return -errno;
        fd = openat(imp->staging_fd, name, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        *ret_name = TAKE_PTR(name);
        *ret_fd = fd;
        return 0;
}

int store_import_set_identity(StoreImport *imp, const char *blob_digest, const char *diff_id, uint64_t size) {
        _cleanup_free_ char *line = NULL;

        if (!digest_is_valid(blob_digest) || !digest_is_valid(diff_id))
                return -EINVAL;
        if (asprintf(&line, "%s %s %" PRIu64, blob_digest, diff_id, size) < 0)
                return -ENOMEM;
        return strv_push(&imp->identities, TAKE_PTR(line));
}

int store_import_tree_finish(StoreImport *imp, const char *name, const char *blob_digest, const char *diff_id,
                             uint64_t size) {
        char to[DIGEST_STRING_MAX + 8];
        int r;

        r = store_import_set_identity(imp, blob_digest, diff_id, size);
        if (r < 0)
                return r;
        snprintf(to, sizeof to, "layer-%s", digest_hex(diff_id));
        if (renameat2(imp->staging_fd, name, imp->staging_fd, to, RENAME_NOREPLACE) >= 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        /* The same layer twice in one image. */
        return rm_rf_at(imp->staging_fd, name);
}

static bool identity_known(StoreImport *imp, ImageLayer *l) {
        size_t n = strlen(l->digest);

        STRV_FOREACH(i, imp->identities) {
                char diff_id[DIGEST_STRING_MAX];
                uint64_t size;

                if (!strneq(*i, l->digest, n) || (*i)[n] != ' ')
                        continue;
                if (sscanf(*i + n + 1, "%71s %" SCNu64, diff_id, &size) != 2)
                        continue;
                free(l->diff_id);
                l->diff_id = strdup(diff_id);
                l->uncompressed_size = size;
                return true;
        }
        return false;
}

/* The diff IDs the image's config claims: hints only, to skip extracting a layer whose tree the store
 * already has (what the blob holds is computed all the same). */
static char **config_diff_ids(StoreImport *imp, const char *config) {
        _cleanup_(json_object_putp) json_object *c = NULL;
        _cleanup_close_ int fd = -EBADF;
        json_object *rootfs;
        char **ids = NULL;

        if (store_import_open(imp, config, &fd) < 0 || json_parse_fd(fd, STORE_JSON_SIZE_MAX, &c) < 0 ||
            json_get_object(c, "rootfs", &rootfs) < 0 || json_get_strv(rootfs, "diff_ids", &ids) < 0)
                return NULL;
        return ids;
}

/* The layer's diff ID and uncompressed size (its tree's name), in the same pass as its extraction when the
 * store does not have the tree yet (as root). */
static int layer_identify(StoreImport *imp, ImageLayer *l, const char *hint, bool extract, char **reterr_entry) {
        _cleanup_close_ int blob_fd = -EBADF, tree_fd = -EBADF;
        _cleanup_free_ char *tree = NULL;
        char diff_id[DIGEST_STRING_MAX];
        int r;

        if (identity_known(imp, l))
                return l->diff_id ? 0 : -ENOMEM;
        r = store_import_open(imp, l->digest, &blob_fd);
        if (r < 0)
                return r;
        if (extract && !(hint && digest_is_valid(hint) && store_layer_exists(imp->store, hint))) {
                r = store_import_tree_begin(imp, &tree, &tree_fd);
                if (r < 0)
                        return r;
                r = layer_unpack_stream(blob_fd_reader, &blob_fd, tree_fd, LAYER_UNPACK_CHOWN|LAYER_UNPACK_DEVICES,
                                        diff_id, &l->uncompressed_size, reterr_entry);
                if (r < 0)
                        return r;
                r = store_import_tree_finish(imp, tree, l->digest, diff_id, l->uncompressed_size);
        } else
                r = layer_diff_id(blob_fd, diff_id, &l->uncompressed_size);
        if (r < 0)
                return r;
        free(l->diff_id);
        l->diff_id = strdup(diff_id);
        return l->diff_id ? 0 : -ENOMEM;
}

static int extract_layer(StoreImport *imp, const ImageLayer *l, char **reterr_entry) {
        _cleanup_close_ int blob_fd = -EBADF, dir_fd = -EBADF;
        char name[DIGEST_STRING_MAX + 8];
        int r;

        snprintf(name, sizeof name, "layer-%s", digest_hex(image_layer_tree(l)));
        if (faccessat(imp->staging_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;       /* the same layer twice in one image */
        r = store_import_open(imp, l->digest, &blob_fd);
        if (r < 0)
                return r;
        if (mkdirat(imp->staging_fd, name, 0755) < 0)
                return -errno;
        dir_fd = openat(imp->staging_fd, name, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
        if (dir_fd < 0)
                return -errno;
        return layer_unpack(blob_fd, dir_fd, LAYER_UNPACK_CHOWN|LAYER_UNPACK_DEVICES, reterr_entry);
}

int store_import_commit(StoreImport *imp, const char *manifest_digest, ImageFormat format, char *const *names,
                        char **ret_id, char **reterr_entry) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_strv_free_ char **hints = NULL;
        Store *s = imp->store;
        bool extract = geteuid() == 0;
        int r;

        if (!digest_is_valid(manifest_digest) || !store_import_has(imp, manifest_digest))
                return -EINVAL;
        STRV_FOREACH(n, (char **) names)
                if (!image_name_is_valid(*n))
                        return -EINVAL;

        rec = calloc(1, sizeof *rec);
        if (!rec)
                return -ENOMEM;
        rec->id = strdup(manifest_digest);
        if (!rec->id)
                return -ENOMEM;
        rec->format = format;
        /* The same image again keeps the time it first came in. */
        {
                _cleanup_(image_record_freep) ImageRecord *old = NULL;

                if (store_image_load(s, manifest_digest, &old) >= 0)
                        rec->import_usec = old->import_usec;
        }
        if (rec->import_usec == 0)
                rec->import_usec = now_realtime_usec();

        r = manifest_to_record(imp, manifest_digest, rec, reterr_entry);
        if (r < 0)
                return r;
        /* Every layer's diff ID: a tree serves the same layer whether it came compressed or not. Sizes are
         * the uncompressed ones, so the same image counts the same whatever form it came in. */
        rec->size = 0;
        hints = config_diff_ids(imp, rec->config);
        for (size_t i = 0; i < rec->n_layers; i++) {
                r = layer_identify(imp, &rec->layers[i], i < strv_length(hints) ? hints[i] : NULL, extract,
                                   reterr_entry);
                if (r < 0) {
                        if (IN_SET(r, -EBADMSG, -STORE_ERR_ARCHIVE_DAMAGED) && reterr_entry && !*reterr_entry) {
                                free(*reterr_entry);
                                *reterr_entry = strdup(rec->layers[i].digest);
                        }
                        return r;
                }
                rec->size += rec->layers[i].uncompressed_size;
        }

        /* Extract every new layer before anything becomes visible: a hostile layer must leave no trace. Only
         * root can (ownership, devices, overlay xattrs); others store verified blobs, and root extracts them
         * when a pod first needs them. */
        if (extract)
                for (size_t i = 0; i < rec->n_layers; i++) {
                        if (store_layer_exists(s, image_layer_tree(&rec->layers[i])))
                                continue;
                        r = extract_layer(imp, &rec->layers[i], reterr_entry);
                        if (r < 0)
                                return r;
                }

        /* Publish: blobs, then layers, then the record, then the names. */
        STRV_FOREACH(hex, imp->staged)
                if (renameat2(imp->staging_fd, *hex, s->blobs_fd, *hex, RENAME_NOREPLACE) < 0 && errno != EEXIST)
                        return -errno;
        if (extract)
                for (size_t i = 0; i < rec->n_layers; i++) {
                        char from[DIGEST_STRING_MAX + 8], to[DIGEST_STRING_MAX + 8];

                        snprintf(from, sizeof from, "layer-%s", digest_hex(image_layer_tree(&rec->layers[i])));
                        snprintf(to, sizeof to, "sha256-%s", digest_hex(image_layer_tree(&rec->layers[i])));
                        if (faccessat(imp->staging_fd, from, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                                continue;
                        if (renameat2(imp->staging_fd, from, s->layers_fd, to, RENAME_NOREPLACE) < 0 &&
                            errno != EEXIST)
                                return -errno;
                }

        r = store_image_save(s, rec);
        if (r < 0)
                return r;
        STRV_FOREACH(n, (char **) names) {
                r = store_ref_set(s, *n, rec->id);
                if (r < 0)
                        return r;
        }

        if (ret_id)
                *ret_id = TAKE_PTR(rec->id);
        return 0;
}

int store_image_ensure_layers(Store *s, const ImageRecord *rec, char **reterr_entry) {
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        int r;

        for (size_t i = 0; i < rec->n_layers; i++) {
                _cleanup_close_ int blob_fd = -EBADF, dir_fd = -EBADF;
                char name[DIGEST_STRING_MAX + 8], to[DIGEST_STRING_MAX + 8], got[DIGEST_STRING_MAX];
                const char *digest = rec->layers[i].digest, *tree = image_layer_tree(&rec->layers[i]);

                if (store_layer_exists(s, tree))
                        continue;
                if (geteuid() != 0)
                        return -EPERM;
                if (!imp) {
                        r = store_import_begin(s, &imp);
                        if (r < 0)
                                return r;
                }
                /* Fetched without root: the blob is checked again before root extracts it. */
                r = store_blob_open(s, digest, &blob_fd);
                if (r < 0)
                        return r;
                r = sha256_fd(blob_fd, got, NULL);
                if (r < 0)
                        return r;
                if (!streq(got, digest)) {
                        free(*reterr_entry);
                        *reterr_entry = strdup(digest);
                        return -STORE_ERR_DIGEST_MISMATCH;
                }
                if (lseek(blob_fd, 0, SEEK_SET) < 0)
                        return -errno;
                /* The tree is named by the diff ID the record holds: that must be what the blob holds. */
                if (rec->layers[i].diff_id) {
                        r = layer_diff_id(blob_fd, got, NULL);
                        if (r < 0)
                                return r;
                        if (!streq(got, rec->layers[i].diff_id)) {
                                free(*reterr_entry);
                                *reterr_entry = strdup(digest);
                                return -STORE_ERR_DIGEST_MISMATCH;
                        }
                        if (lseek(blob_fd, 0, SEEK_SET) < 0)
                                return -errno;
                }
                snprintf(name, sizeof name, "layer-%s", digest_hex(tree));
                if (mkdirat(imp->staging_fd, name, 0755) < 0 && errno != EEXIST)
                        return -errno;
                dir_fd = openat(imp->staging_fd, name, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
                if (dir_fd < 0)
                        return -errno;
                r = layer_unpack(blob_fd, dir_fd, LAYER_UNPACK_CHOWN|LAYER_UNPACK_DEVICES, reterr_entry);
                if (r < 0)
                        return r;
                snprintf(to, sizeof to, "sha256-%s", digest_hex(tree));
                if (renameat2(imp->staging_fd, name, s->layers_fd, to, RENAME_NOREPLACE) < 0 && errno != EEXIST)
                        return -errno;
        }
        return 0;
}
