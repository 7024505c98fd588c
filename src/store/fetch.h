/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Pulls from registries (the OCI distribution API v2). Manifests and blobs are verified by digest while they
 * stream; a layer goes through sha256 and libarchive into its tree in one pass, several layers at once
 * (libcurl multi, one extraction thread per layer in flight). Blobs the store has are not downloaded. */

#include <stdint.h>

#include "fetch-http.h"
#include "image-ref.h"
#include "pull-policy.h"
#include "store.h"


/* One layer's progress, for the caller to show. */
typedef struct FetchLayerProgress {
        char digest[DIGEST_STRING_MAX];
        uint64_t have;          /* bytes of the blob stored so far (a resumed pull starts above 0) */
        uint64_t size;
        uint64_t start_usec, end_usec;  /* monotonic; end 0 while it runs */
        bool present;           /* the store had it: nothing downloaded */
} FetchLayerProgress;

/* Called about ten times a second while layers download, and once more with final set. */
typedef void (*FetchProgressFunc)(void *userdata, const FetchLayerProgress *layers, size_t n, bool final);

typedef struct FetchOptions {
        FetchInsecure insecure;
        PullPolicy policy;
        const char *os;         /* NULL: "linux" */
        const char *arch;       /* NULL: this machine's */
        const char *variant;    /* NULL: any */
        FetchProgressFunc progress;
        void *progress_userdata;
} FetchOptions;

/* Pulls the docker:// reference ref into the store and names it ref->name plus names. On failure
 * *reterr_detail holds one sentence saying what went wrong (which registry answered what, which blob did
 * not match, which platforms an index offers). */
int registry_pull(Store *s, const ImageRef *ref, const FetchOptions *o, char *const *names, char **ret_id,
                  char **reterr_detail);

/* ACIs over HTTPS (fetch-aci.c): the URL of an IMAGE_REF_HTTPS ref, or the one appc meta discovery finds for
 * an IMAGE_REF_DISCOVERY name (its tag is the version label), downloaded with its .aci.asc if the server has
 * one, and imported. */
int aci_pull(Store *s, const ImageRef *ref, const FetchOptions *o, char *const *names, char **ret_id,
             char **reterr_detail);
/* Verifies an ACI file against its detached signature with the keys trusted for its name (name NULL: the
 * name its manifest gives). *ret_signer: the signing key's fingerprint. */
int aci_verify(int fd, const char *name, const void *sig, size_t sig_size, char **ret_signer, char **reterr_detail);
int aci_discover(HttpClient *c, const char *name, const char *version, const char *os, const char *arch,
                 char **ret_aci_url, char **ret_asc_url, char **reterr_detail);
/* The key URLs of prefix's ac-discovery-pubkeys meta tags. */
int aci_discover_pubkeys(HttpClient *c, const char *prefix, char ***ret_urls, char **reterr_detail);

/* Checks user/password against registry's /v2/ endpoint, as a pull would authenticate. */
int registry_login_check(const char *registry, const char *user, const char *password, FetchInsecure insecure,
                         char **reterr_detail);
/* The blob downloads of one pull (fetch-download.c). */
typedef struct BlobRequest {
        char digest[DIGEST_STRING_MAX];
        uint64_t size;
        char *url;
} BlobRequest;

/* Downloads the blobs into the import, verifying each against its digest and, if extract, extracting each
 * into its tree as it arrives (identifying it otherwise). host is the registry's, for its CAs. */
int blobs_download(HttpClient *c, const HttpAuth *auth, const char *host, StoreImport *imp, bool extract,
                   const BlobRequest *blobs, size_t n, FetchLayerProgress *progress, const FetchOptions *o,
                   char **reterr_detail);
