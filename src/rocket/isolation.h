/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Secure defaults for apps and their overrides (rocket-run(1) "Isolation"): the capability bounding set,
 * the seccomp filter, no_new_privs, masked /proc and /sys paths, and resource limits. Names are checked
 * with libcap and libseccomp when parsed. */

#include <stdint.h>

#include "macro.h"
#include "pod-manifest.h"

typedef enum InsecureOption {
        INSECURE_SECCOMP = 1 << 0,
        INSECURE_CAPABILITIES = 1 << 1,
        INSECURE_PATHS = 1 << 2,
        INSECURE_TLS = 1 << 3,          /* fetching: no certificate verification */
        INSECURE_HTTP = 1 << 4,         /* fetching: plain HTTP */
        INSECURE_IMAGE = 1 << 5,        /* fetching: no signature verification */
        INSECURE_PUBKEY = 1 << 6,       /* trust: keys over plain HTTP or unverified TLS */
        INSECURE_ALL_FETCH = INSECURE_IMAGE | INSECURE_TLS | INSECURE_HTTP | INSECURE_PUBKEY,
        INSECURE_ALL_RUN = INSECURE_SECCOMP | INSECURE_CAPABILITIES | INSECURE_PATHS,
} InsecureOption;

typedef struct IsolationArgs {
        char **caps_retain;     /* CAP_* names, checked */
        char **caps_remove;
        char *seccomp;          /* the --seccomp spec, checked */
        int no_new_privs;       /* -1 unset */
        uint64_t memory;        /* bytes, 0 unset */
        uint64_t cpu_milli;     /* 1000 = one CPU, 0 unset */
        uint64_t cpu_shares;    /* 0 unset */
} IsolationArgs;

void isolation_args_done(IsolationArgs *a);

/* --caps-retain/--caps-remove: "CAP_NET_ADMIN,SYS_TIME" (CAP_ optional, any case). */
int isolation_parse_caps(const char *where, const char *s, char ***ret);
/* --seccomp: "mode=retain|remove[,errno=NAME],SYSCALL|@GROUP,…". */
int isolation_parse_seccomp(const char *where, const char *s);
/* --memory: "256M", "1G", "16Mi" (k8s-style), bytes. --cpu: "500m" or "2" (CPUs). */
int isolation_parse_memory(const char *where, const char *s, uint64_t *ret);
int isolation_parse_cpu(const char *where, const char *s, uint64_t *ret_milli);
/* --insecure-options, rkt's values: "none,http,image,tls,pubkey,capabilities,paths,seccomp,all-fetch,all-run,all". */
int isolation_parse_insecure(const char *where, const char *s, InsecureOption *ret);
/* The values set in o, comma-separated ("none" for none). */
int isolation_insecure_to_string(InsecureOption o, char **ret);

/* The app's final settings: its own options over the pod's defaults over the image's isolators over the
 * secure defaults, with insecure options switching defaults off. image_isolators are "NAME=JSON". */
int isolation_apply(const char *where, const IsolationArgs *app, const IsolationArgs *pod, char *const *image_isolators,
                    InsecureOption insecure, PodApp *ret);
