/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Registry credentials, in the files users already have, first match wins:
 *   $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, /etc/rocket/auth.json,
 *   ~/.docker/config.json                         ("auths": {"HOST": {"auth": base64("USER:PASSWORD")}})
 *   /etc/rocket/auth.d/ *.json                    (rkt's: {"rktKind": "dockerAuth", "registries": [HOST…],
 *                                                  "credentials": {"user": …, "password": …}})
 * and the WWW-Authenticate challenges a registry answers with. */

#include <json-c/json.h>

#include "macro.h"

#define FETCH_AUTH_FILE "/etc/rocket/auth.json"
#define FETCH_AUTH_DIR "/etc/rocket/auth.d"

typedef struct Credentials {
        char *user;
        char *password;
        char *source;           /* the file they came from, for messages */
} Credentials;

void credentials_done(Credentials *c);

/* 1 and c filled if some file has credentials for registry ("docker.io", "host:5000"), 0 if none. A file
 * that cannot be parsed is skipped with a warning. */
int credentials_find(const char *registry, Credentials *ret);

/* rkt config's dockerAuth entries: one object per auth.d file of that kind, appended to array, with the user
 * but never the password. Files that are not dockerAuth ones, or cannot be read, are left out. */
int credentials_rkt_to_json(json_object *array);

/* Where `rocket login` writes: $REGISTRY_AUTH_FILE, else /etc/rocket/auth.json for root, else
 * $XDG_RUNTIME_DIR/containers/auth.json (podman's). */
int credentials_default_file(char **ret);
/* Adds or replaces registry's entry in an auths file (created 0600), or removes it (user NULL; -ENOENT if
 * it had none). The rest of the file is kept. */
int credentials_file_update(const char *path, const char *registry, const char *user, const char *password);

/* A WWW-Authenticate challenge: scheme "Bearer" or "Basic" and its parameters. */
typedef struct AuthChallenge {
        char *scheme;
        char *realm;
        char *service;
        char *scope;
} AuthChallenge;

void auth_challenge_done(AuthChallenge *c);
int auth_challenge_parse(const char *header, AuthChallenge *ret);
