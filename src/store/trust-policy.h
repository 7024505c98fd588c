/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which docker:// images are accepted, in the containers-policy.json(5) format podman and skopeo users have:
 * /etc/rocket/policy.json over the shipped ROCKET_POLICY_VENDOR. For the "docker" transport the most specific
 * scope wins (the reference, its repository, each namespace up to the registry, the transport's "" scope),
 * else "default". Requirements, all of which must hold: insecureAcceptAnything, reject, and signedBy (GPGKeys
 * from keyPath, keyPaths or keyData; signedIdentity matchRepoDigestOrExact, matchExact, matchRepository):
 * "simple signing" signatures read from the lookaside store that registries.d configures (/etc/rocket/
 * registries.d, then /etc/containers/registries.d: "docker:" scopes and "default-docker:", "lookaside:" or
 * "sigstore:"), at LOOKASIDE/REPOSITORY@sha256=HEX/signature-N, as skopeo copy --sign-by writes them. */

#include "image-ref.h"
#include "macro.h"

#define POLICY_ADMIN_FILE "/etc/rocket/policy.json"

typedef struct PolicyDirs {
        const char *admin_policy;
        const char *vendor_policy;
        const char *const *registries_d;        /* NULL-terminated */
} PolicyDirs;

PolicyDirs policy_dirs_default(void) _pure_;

/* Whether the policy accepts the image ref (whose manifest has digest manifest_digest). 0: accepted, with
 * *ret_signer the key whose signature satisfied it, or NULL when no signature was needed; -EPERM: refused,
 * *reterr_detail saying by which file and scope and how to proceed. */
int policy_check_docker(const PolicyDirs *d, const ImageRef *ref, const char *manifest_digest, char **ret_signer,
                        char **reterr_detail);

/* Local imports (transport "oci", "oci-archive", "docker-archive") are taken as given, unless the policy names
 * their transport: then the most specific scope of the file's path (the path, each directory above it, "")
 * says; insecureAcceptAnything and reject are understood, other requirements refuse. -EPERM: refused. */
int policy_check_local(const PolicyDirs *d, const char *transport, const char *path, char **reterr_detail);
