/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "fetch.h"
#include "isolation.h"
#include "rocket.h"
#include "store.h"

/* Opens ctx->dir's store, logging a clear error. With STORE_CREATE missing directories are made; without
 * it a store that does not exist yet gives -ENOENT, logged only at debug level (an empty store). */
int rocket_store_open(RocketContext *ctx, StoreFlags flags, Store **ret);
/* Resolves a name, ID or ID prefix, logging why not. */
int rocket_image_resolve(Store *s, const char *what, char **ret_id);
/* How images are fetched: --pull-policy, --insecure-options=tls,http, --platform/--arch, --quiet. */
typedef struct ImageFetchArgs {
        PullPolicy policy;
        InsecureOption insecure;
        char *os, *arch, *variant;
        char *signature;        /* --signature=FILE: a local ACI's detached signature, checked */
        bool quiet;
} ImageFetchArgs;

void image_fetch_args_done(ImageFetchArgs *a);
/* What of --insecure-options concerns fetching (tls, http, image). */
FetchInsecure fetch_insecure_of(InsecureOption o) _pure_;
/* --platform=OS/ARCH[/VARIANT] */
int image_fetch_parse_platform(const char *where, const char *s, ImageFetchArgs *a);
int image_fetch_parse_policy(const char *where, const char *s, PullPolicy *ret);

/* Pulls (docker://), imports (files) or, for a name/ID, resolves IMAGE in the store. Logs failures. fa NULL:
 * pull policy "new", secure, quiet. */
int rocket_image_get(RocketContext *ctx, Store *s, const char *image, const ImageFetchArgs *fa, char *const *names,
                     char **ret_id);
