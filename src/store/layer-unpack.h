/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "digest.h"
#include "macro.h"
#include "store.h"

typedef enum LayerUnpackFlags {
        LAYER_UNPACK_CHOWN   = 1 << 0,  /* keep the archive's owners (needs CAP_CHOWN) */
        LAYER_UNPACK_DEVICES = 1 << 1,  /* create device nodes and overlayfs whiteouts (needs CAP_MKNOD) */
} LayerUnpackFlags;

/* Hard limits for one layer: beyond them the layer is refused with -EFBIG / -E2BIG. */
#define LAYER_UNPACK_BYTES_MAX (UINT64_C(64) << 30)
#define LAYER_UNPACK_ENTRIES_MAX 1000000u

/* Extracts the tar stream in archive_fd (plain, gzip, zstd, … as libarchive detects) below target_fd.
 *
 * Never writes outside target_fd: every path is walked component by component with O_NOFOLLOW; absolute
 * names, "..", entries below a symlink, relative symlinks that climb out of the root and hardlinks to
 * anything outside it are refused with -EBADMSG, and *reterr_entry then names the entry as the archive
 * spells it. Whiteouts (".wh.NAME", ".wh..wh..opq") become overlayfs whiteouts (0:0 character devices and
 * trusted.overlay.opaque=y) with LAYER_UNPACK_DEVICES and are skipped without it. Planted overlay
 * xattrs (trusted.*, user.overlay.*) are never applied. */
int layer_unpack(int archive_fd, int target_fd, LayerUnpackFlags flags, char **reterr_entry);

/* The same from a stream (a download), in one pass: the blob goes through libarchive's filters, and the tar
 * stream that comes out is hashed into its diff ID as the tar reader extracts it. With target_fd < 0 nothing
 * is extracted (the diff ID alone). The reader is read to its end. */
int layer_unpack_stream(BlobReadFunc reader, void *userdata, int target_fd, LayerUnpackFlags flags,
                        char ret_diff_id[static DIGEST_STRING_MAX], uint64_t *ret_size, char **reterr_entry);

/* The layer's diff ID: the sha256 of its tar stream once decompressed (libarchive's filters), and that
 * stream's size. Computed, never taken from an image's config. From the current offset of blob_fd. */
int layer_diff_id(int blob_fd, char ret[static DIGEST_STRING_MAX], uint64_t *ret_size);
