/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* When fetching asks a registry (rkt's --pull-policy). Header-only: the option parsers (librocket-cli) and the
 * pull (librocket-store) both use it. */

#include "macro.h"

typedef enum PullPolicy {
        PULL_NEW,               /* the store's copy if it has the name, else pull (run, prepare) */
        PULL_NEVER,             /* the store only */
        PULL_UPDATE,            /* ask the registry; download only what the store lacks (fetch) */
        _PULL_POLICY_MAX,
        _PULL_POLICY_INVALID = -EINVAL,
} PullPolicy;

static const char *const pull_policy_table[_PULL_POLICY_MAX] = {
        [PULL_NEW] = "new",
        [PULL_NEVER] = "never",
        [PULL_UPDATE] = "update",
};

static inline const char *pull_policy_to_string(PullPolicy p) {
        return p >= 0 && p < _PULL_POLICY_MAX ? pull_policy_table[p] : NULL;
}

static inline PullPolicy pull_policy_from_string(const char *s) {
        for (int i = 0; s && i < _PULL_POLICY_MAX; i++)
                if (streq(pull_policy_table[i], s))
                        return (PullPolicy) i;
        return _PULL_POLICY_INVALID;
}
