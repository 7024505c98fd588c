/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The content-addressed image store, under DIR/store/:
 *
 *   lock                      flock(2): shared while importing or reading, exclusive for gc
 *   blobs/sha256/HEX          verified blobs (manifests, configs, layers as they were shipped), 0444
 *   layers/sha256-HEX/        the extracted tree of layer blob HEX, whiteouts in overlayfs form (root only)
 *   images/sha256-HEX.json    image records; HEX is the digest of the image's OCI manifest = its ID
 *   images/sha256-HEX.used    its mtime is when a pod last used the image
 *   images/sha256-HEX.asc     the detached OpenPGP signature an ACI came with, if any
 *   images/sha256-HEX.signer  the fingerprint of the key whose signature was verified when it came in
 *   refs/NAME                 "sha256:HEX\n": name → image ID ('/' and '%' in NAME %-escaped)
 *   tmp/                      imports in progress; everything here is garbage once gc holds the lock
 *
 * Nothing is ever modified in place: files are written in tmp/ or beside their target and renamed,
 * so a reader never sees half an object, and a killed import leaves only garbage in tmp/. */

#include <stdint.h>
#include <sys/types.h>

#include "digest.h"
#include "macro.h"

#define STORE_BLOB_SIZE_MAX (64ULL << 30)
#define STORE_JSON_SIZE_MAX (4U << 20)

/* What a blob whose content does not hash to its declared digest fails with (distinct from -EBADMSG,
 * which means malformed data), so the caller can say which it was. */
#define STORE_ERR_DIGEST_MISMATCH EUCLEAN
/* An archive whose data stops, or cannot be decoded, while an entry's content is read: the file is
 * truncated or damaged, which says nothing about the entry itself. */
#define STORE_ERR_ARCHIVE_DAMAGED ENODATA
#define IMAGE_NAME_MAX 255

typedef enum StoreFlags {
        STORE_CREATE = 1 << 0,          /* create the directories if missing */
        STORE_EXCLUSIVE = 1 << 1,       /* take the lock exclusively (gc) instead of shared */
        STORE_NONBLOCK = 1 << 2,        /* fail with -EWOULDBLOCK rather than wait for the lock */
} StoreFlags;

typedef struct Store {
        char *path;             /* DIR/store */
        int dir_fd;
        int blobs_fd;           /* blobs/sha256 */
        int layers_fd;
        int images_fd;
        int refs_fd;
        int tmp_fd;
        int lock_fd;
        bool shared;            /* setgid and group-writable: group members write too */
} Store;

int store_open(const char *rocket_dir, StoreFlags flags, Store **ret);
Store *store_free(Store *s);
DEFINE_POINTER_CLEANUP(Store, store_free);

/* Blobs */
bool store_blob_exists(Store *s, const char *digest);
int store_blob_open(Store *s, const char *digest, int *ret_fd);
int store_blob_size(Store *s, const char *digest, uint64_t *ret);

typedef ssize_t (*BlobReadFunc)(void *userdata, void *buf, size_t size);
/* A BlobReadFunc over the fd userdata points to. */
ssize_t blob_fd_reader(void *userdata, void *buf, size_t size);

/* Layers */
bool store_layer_exists(Store *s, const char *digest);
/* "layers/sha256-HEX", relative to the store directory. */
int store_layer_path(const char *digest, char **ret);

/* Image records */
typedef struct ImageLayer {
        char *digest;
        char *media_type;
        uint64_t size;
        /* Its uncompressed tar's digest (layer_diff_id()), which names its tree, so that the same layer
         * compressed or not is stored once; NULL in a record of an older rocket, whose tree is named by
         * the blob's digest. */
        char *diff_id;
        uint64_t uncompressed_size;
} ImageLayer;

/* The digest that names the layer's tree in layers/. */
static inline const char *image_layer_tree(const ImageLayer *l) {
        return l->diff_id ?: l->digest;
}

typedef enum ImageFormat {
        IMAGE_FORMAT_OCI,
        IMAGE_FORMAT_DOCKER,
        IMAGE_FORMAT_ACI,
        IMAGE_FORMAT_REGISTRY,
        _IMAGE_FORMAT_MAX,
        _IMAGE_FORMAT_INVALID = -EINVAL,
} ImageFormat;

const char *image_format_to_string(ImageFormat f) _pure_;
ImageFormat image_format_from_string(const char *s) _pure_;

typedef struct ImageRecord {
        char *id;               /* digest of the OCI manifest */
        ImageFormat format;     /* what it was imported from */
        char *config;           /* digest of the OCI config */
        char *aci_manifest;     /* digest of the appc manifest, for ACIs */
        ImageLayer *layers;     /* bottom first */
        size_t n_layers;
        uint64_t size;          /* all its blobs */
        uint64_t import_usec;
        uint64_t last_used_usec;        /* from the .used file; import time if never used */
        char **names;           /* refs pointing at it, filled by store_image_load() */
        bool removed;           /* removed by the user while pods used it: goes once they are gone */
        char *signer;           /* fingerprint of the key whose signature was verified, or "policy:TYPE" */
} ImageRecord;

ImageRecord *image_record_free(ImageRecord *r);
DEFINE_POINTER_CLEANUP(ImageRecord, image_record_free);
void image_record_array_free(ImageRecord **l, size_t n);

int store_image_load(Store *s, const char *id, ImageRecord **ret);
int store_image_save(Store *s, const ImageRecord *rec);
/* All images, sorted by import time. */
int store_image_list(Store *s, ImageRecord ***ret, size_t *ret_n);
/* A name ("busybox:latest"; ":latest" is implied), a full ID, or a unique prefix of an ID's hex, with or
 * without "sha256:". -ENOENT: no such image; -ENOTUNIQ: an ambiguous prefix. */
int store_image_resolve(Store *s, const char *what, char **ret_id);
/* Removes the image's refs and its record; blobs and layers stay until gc. */
int store_image_remove(Store *s, const char *id);
/* Removes the image's names and marks it removed, keeping its data for the pods that use it; store_gc()
 * removes it once they are gone (its keep list no longer names it), whatever the grace period. */
int store_image_mark_removed(Store *s, const char *id);
int store_image_touch(Store *s, const char *id);
/* Records who signed the image (a key fingerprint), as verified when it came in. */
int store_image_set_signer(Store *s, const char *id, const char *signer);
/* Keeps the ACI signature dir_fd/name (moved) beside the image's record. */
int store_image_set_signature(Store *s, const char *id, int dir_fd, const char *name);

/* Refs */
bool image_name_is_valid(const char *name) _pure_;
int store_ref_set(Store *s, const char *name, const char *id);
int store_ref_get(Store *s, const char *name, char **ret_id);
/* Whether what (as a user typed it: an image name, an ID, anything) is a name of image id. */
bool store_ref_names(Store *s, const char *what, const char *id);
/* Removes one name; the image stays. -ENOENT: no such name. */
int store_ref_remove(Store *s, const char *name);
/* All refs as parallel NULL-terminated lists. */
int store_ref_list(Store *s, char ***ret_names, char ***ret_ids);

/* Importing: a transaction. New blobs are staged in tmp/ and become visible only on commit, after every
 * layer has been extracted; dropping the transaction without commit leaves the store as it was. */
typedef struct StoreImport StoreImport;

int store_import_begin(Store *s, StoreImport **ret);
StoreImport *store_import_free(StoreImport *imp);
DEFINE_POINTER_CLEANUP(StoreImport, store_import_free);

/* Copies a blob in, verifying it against expected (if given; -EBADMSG on mismatch). A blob already
 * in the store is not read again. */
int store_import_put(StoreImport *imp, BlobReadFunc reader, void *userdata, const char *expected, uint64_t max,
                     char ret_digest[static DIGEST_STRING_MAX], uint64_t *ret_size);
int store_import_put_fd(StoreImport *imp, int fd, const char *expected, uint64_t max,
                        char ret_digest[static DIGEST_STRING_MAX], uint64_t *ret_size);
int store_import_put_data(StoreImport *imp, const void *data, size_t size,
                          char ret_digest[static DIGEST_STRING_MAX]);
bool store_import_has(StoreImport *imp, const char *digest);
int store_import_open(StoreImport *imp, const char *digest, int *ret_fd);
int store_import_size(StoreImport *imp, const char *digest, uint64_t *ret);

/* Streamed blobs (downloads). The blob goes to tmp/partial-sha256-HEX, locked while written, so that an
 * interrupted pull resumes from the bytes it has; a concurrent pull of the same blob writes a private copy
 * in its staging directory instead. The caller verifies the digest before commit. */
typedef struct StoreBlobWrite {
        StoreImport *imp;
        char digest[DIGEST_STRING_MAX];
        int dir_fd;             /* tmp/ or the staging directory; not owned */
        char *name;
        int fd;                 /* O_RDWR, positioned at its end */
        uint64_t offset;        /* bytes already there from an interrupted pull */
        bool shared;            /* the resumable partial file (kept if not committed) */
        bool done;              /* committed or discarded */
        bool synced;            /* the writer fsync()ed it already (in its own thread) */
} StoreBlobWrite;

int store_blob_write_begin(StoreImport *imp, const char *digest, StoreBlobWrite **ret);
/* Empties it (the server did not resume, or the bytes there were wrong). */
int store_blob_write_restart(StoreBlobWrite *w);
/* Verified: staged under its digest, as store_import_put() would have. */
int store_blob_write_commit(StoreBlobWrite *w);
/* Wrong content: removed, not kept for resume. */
void store_blob_write_discard(StoreBlobWrite *w);
StoreBlobWrite *store_blob_write_free(StoreBlobWrite *w);
DEFINE_POINTER_CLEANUP(StoreBlobWrite, store_blob_write_free);

/* A layer tree extracted while its blob streams in: made in the staging area, named by its diff ID once that
 * is known. store_import_commit() then neither reads the blob again nor extracts it. */
int store_import_tree_begin(StoreImport *imp, char **ret_name, int *ret_fd);
int store_import_tree_finish(StoreImport *imp, const char *name, const char *blob_digest, const char *diff_id,
                             uint64_t size);
/* The diff ID and uncompressed size of a blob computed while it streamed in (without a tree: no root). */
int store_import_set_identity(StoreImport *imp, const char *blob_digest, const char *diff_id, uint64_t size);

/* Parses the OCI image manifest blob manifest_digest (already put), and commits: extracts the layers
 * (as root), publishes the blobs, writes the record and points names at it. On an extraction failure
 * *reterr_entry names the refused tar entry. */
int store_import_commit(StoreImport *imp, const char *manifest_digest, ImageFormat format, char *const *names,
                        char **ret_id, char **reterr_entry);

/* Maintenance */
typedef struct StoreGcStats {
        unsigned images, blobs, layers, tmp;
        uint64_t bytes;
} StoreGcStats;

/* Removes images not used for grace_usec (UINT64_MAX: none) unless their ID is in keep, then every blob and
 * layer no remaining image references, and everything in tmp/. Needs the exclusive lock. */
int store_gc(Store *s, uint64_t grace_usec, char *const *keep, StoreGcStats *ret_stats);

/* Rechecks every blob's digest and every record's references. Calls report() once per problem found
 * and returns the number of problems (0: clean). */
typedef void (*StoreVerifyReport)(void *userdata, const char *what, const char *problem);
int store_verify(Store *s, StoreVerifyReport report, void *userdata);

/* Writes an OCI archive (tar of an OCI image layout) of the image to fd. */
int store_export_oci_archive(Store *s, const char *id, const char *ref_name, int fd);

/* Extracts the layers of an image fetched without root (root only; the blobs are verified again first). */
int store_image_ensure_layers(Store *s, const ImageRecord *rec, char **reterr_entry);

/* Extracts the image's layers into dir_fd in order, as one tree (no overlay). */
int store_image_render(Store *s, const char *id, int dir_fd, bool as_root, char **reterr_entry);
