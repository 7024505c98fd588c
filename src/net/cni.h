/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The runtime side of the CNI specification (1.0): a network configuration list's plugins executed in
 * order for ADD (each plugin's result is the next one's prevResult) and in reverse for DEL (each given the
 * cached result of the ADD), with the CNI_* environment and the configuration on stdin. */

#include "json-util.h"
#include "macro.h"
#include "pod-network.h"

typedef struct CniRuntime {
        const char *container_id;       /* the pod's UUID */
        const char *netns;              /* path of the pod's network namespace; NULL on a DEL whose netns is gone */
        const char *ifname;             /* the interface in the pod: eth0, eth1… */
        const char *args;               /* CNI_ARGS ("K=V;K2=V2"), NULL: none */
        char *const *path;              /* the plugin directories, searched in order */
        json_object *port_mappings;     /* the portMappings capability's array; NULL: no ports */
        uint64_t timeout_usec;          /* per plugin; 0: the default */
} CniRuntime;

#define CNI_TIMEOUT_USEC_DEFAULT ((uint64_t) 60 * 1000000)

/* The plugin's executable in path; -ENOENT if none. */
int cni_plugin_find(char *const *path, const char *type, char **ret);

/* ADD: *ret_result is the final result. On failure, *ret_error says which plugin failed and its own
 * message (the plugins that had succeeded are DELeted again, best effort). */
int cni_add(json_object *conflist, const CniRuntime *rt, json_object **ret_result, char **ret_error);
/* DEL: every plugin, last first, each given result (may be NULL) as prevResult. Goes on after a failure;
 * the first one is returned (with *ret_error). */
int cni_del(json_object *conflist, const CniRuntime *rt, json_object *result, char **ret_error);

/* CHECK: every plugin, in order, given result as prevResult (CNI 0.4.0 and later; a list with
 * "disableCheck" is not checked). -EOPNOTSUPP for an older cniVersion. */
int cni_check(json_object *conflist, const CniRuntime *rt, json_object *result, char **ret_error);

/* The runtime of network w of a pod (its UUID, its networks n), in the network namespace netns. */
void cni_runtime_init(CniRuntime *rt, const char *uuid, const PodNet *n, const PodNetwork *w, const char *netns,
                      json_object *port_mappings);
/* The portMappings capability's array for the pod's ports; NULL for none. */
int cni_port_mappings(const PodNet *n, json_object **ret);

/* The result's interface inside the pod (the first with a sandbox), its addresses ("172.16.28.2/24") and
 * the host-side interfaces' names (no sandbox). Any may be NULL. */
int cni_result_summary(json_object *result, char **ret_ifname, char ***ret_addresses, char ***ret_host_ifnames);
