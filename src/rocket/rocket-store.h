/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "rocket.h"
#include "store.h"

/* Opens ctx->dir's store, logging a clear error. With STORE_CREATE missing directories are made; without
 * it a store that does not exist yet gives -ENOENT, logged only at debug level (an empty store). */
int rocket_store_open(RocketContext *ctx, StoreFlags flags, Store **ret);
/* Resolves a name, ID or ID prefix, logging why not. */
int rocket_image_resolve(Store *s, const char *what, char **ret_id);
/* Imports IMAGE (any form rocket reads) or, for a name/ID, resolves it in the store. Logs failures. */
int rocket_image_get(RocketContext *ctx, Store *s, const char *image, char *const *names, char **ret_id);
