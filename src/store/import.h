/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "image-ref.h"
#include "json-util.h"
#include "store.h"

DEFINE_POINTER_CLEANUP(struct archive, archive_read_free);

/* Imports the image ref names into the store and returns its ID. names adds names of the caller's.
 * On failure *reterr_detail may name what was wrong (a tar entry, a blob, a tag). */
int image_import(Store *s, const ImageRef *ref, char *const *names, char **ret_id, char **reterr_detail);

/* One per format; same contract as image_import(). */
int import_oci_dir(StoreImport *imp, const ImageRef *ref, char ***names, char **ret_manifest, char **reterr_detail);
int import_oci_archive(StoreImport *imp, const ImageRef *ref, char ***names, char **ret_manifest,
                       char **reterr_detail);
int import_docker_archive(StoreImport *imp, const ImageRef *ref, char ***names, char **ret_manifest,
                          char **reterr_detail);
int import_aci(StoreImport *imp, Store *s, const ImageRef *ref, char ***names, char **ret_manifest,
               char **reterr_detail);

/* This machine's architecture as OCI spells it ("amd64", "arm64", …). */
const char *oci_host_arch(void) _pure_;

/* The name an ACI file's manifest gives (the prefix its signature is checked against). */
int aci_file_name(int fd, char **ret);

/* Helpers shared by the importers. */
int archive_open_fd(int fd, struct archive **ret);
/* A BlobReadFunc over the current entry's data; -STORE_ERR_ARCHIVE_DAMAGED where the stream breaks. */
ssize_t archive_entry_reader(void *userdata, void *buf, size_t size);
/* Maps libarchive's failure to an errno, keeping its message at debug level. */
int archive_to_errno(struct archive *a);
/* Normalised entry name ("./a/b" → "a/b"), or -EBADMSG for absolute names and "..". */
int archive_entry_name(struct archive_entry *e, char **ret);
/* Reads the next header and its normalized name: 1 for an entry, 0 at the end, <0 on error (a bad name is
 * put in *reterr_detail). */
int archive_next_entry(struct archive *a, struct archive_entry **ret_entry, char **ret_name, char **reterr_detail);

/* From an OCI index (index.json or an image index blob): the digest of the image manifest for tag
 * (org.opencontainers.image.ref.name) or the only one, descending into nested indexes for this machine's
 * platform. ensure() makes a referenced blob available to store_import_open(). */
typedef int (*EnsureBlobFunc)(StoreImport *imp, void *userdata, const char *digest);
int oci_index_select(StoreImport *imp, json_object *index, const char *tag, EnsureBlobFunc ensure,
                     void *userdata, char **ret_manifest, char **ret_ref_name, char **reterr_detail);
/* Makes every blob the manifest references available through ensure(). */
int oci_manifest_ensure_blobs(StoreImport *imp, const char *manifest, EnsureBlobFunc ensure, void *userdata,
                              char **reterr_detail);
