/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The metadata service (appc's, rkt's metadata-service): apps reach $AC_METADATA_URL, which is
 * http://HOST:18112/TOKEN, where TOKEN (128 random bits) names their pod. A pod is registered by root over
 * the service's Unix socket (rocket run --mds-register); the service keeps each registration as a file of its
 * own directory, MDS_REGISTRY_DIR/TOKEN, root's alone: {"uuid", "dir" (the data directory), "key" (the pod's
 * HMAC key, base64)}, so a restart of the service loses nothing. */

#include <stddef.h>
#include <stdint.h>

#include "stage1-abi.h"

#define MDS_PORT STAGE1_MDS_PORT
#define MDS_SOCKET "/run/rocket/metadata.sock"
#define MDS_REGISTRY_DIR "/run/rocket/metadata"
#define MDS_TOKEN_FILE STAGE1_POD_MDS_TOKEN       /* in the pod directory, root's: the pod's token */
#define MDS_KEY_SIZE 64

typedef struct MdsRegistration {
        char *uuid;
        char *dir;
        uint8_t key[MDS_KEY_SIZE];
} MdsRegistration;

void mds_registration_done(MdsRegistration *r);

/* A new registration of the pod uuid of data directory dir in registry: its token. */
int mds_register(int registry_fd, const char *uuid, const char *dir, char **ret_token);
/* The registration of a token; -ENOENT if there is none (or the token is no token). */
int mds_lookup_token(int registry_fd, const char *token, MdsRegistration *ret);
/* The registration of a pod, by UUID (for hmac/verify); -ENOENT if none. */
int mds_lookup_uuid(int registry_fd, const char *uuid, MdsRegistration *ret);

/* Registrations of pods that are gone (removed by gc) removed. */
void mds_registry_sweep(int registry_fd);

/* base64 of HMAC-SHA512(key, content). */
int mds_hmac_sign(const uint8_t key[static MDS_KEY_SIZE], const void *content, size_t size, char **ret);
/* 1 if signature (base64) is content's by key, 0 if not. */
int mds_hmac_verify(const uint8_t key[static MDS_KEY_SIZE], const void *content, size_t size, const char *signature);

/* One request of an app: method, the URL's path ("/TOKEN/acMetadata/v1/…"), the POST form's content, uuid and
 * signature (NULL when not given). The answer: an HTTP status, its content type and body. */
typedef struct MdsResponse {
        unsigned status;
        const char *content_type;
        char *body;
} MdsResponse;

void mds_response_done(MdsResponse *r);
int mds_handle(int registry_fd, const char *method, const char *path, const char *content, size_t content_size,
               const char *uuid, const char *signature, MdsResponse *ret);

/* stage0's side: registers the pod with the service at socket_path (starting it, if socket-activated). Logs. */
int mds_register_remote(const char *socket_path, const char *uuid, const char *dir, char **ret_token);
