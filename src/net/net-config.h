/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Network configurations by name (rocket-run(1) NETWORKS): CNI network configuration lists (*.conflist)
 * or single plugin configurations (*.conf, *.json) in the directories below, the first directory that has
 * a name winning, so that /etc overrides /run overrides what rocket ships. */

#include "json-util.h"
#include "macro.h"

/* NULL-terminated; the shipped "default" and "default-restricted" are in the last one. */
extern const char *const net_config_dirs_default[];
/* Where CNI plugins are looked for, unless $ROCKET_CNI_PATH (':'-separated absolute directories) says. */
#define NET_CNI_PATH_DEFAULT "/usr/local/lib/cni:/usr/lib/cni"

/* A file's configuration, as a configuration list (a single plugin's is wrapped in one). On a bad file:
 * -EBADMSG and *ret_error says what is wrong with it. */
int net_config_parse(const char *text, size_t size, bool single, json_object **ret, char **ret_error);
/* The configuration list called name in dirs (NULL: the defaults). Logs; -ENOENT (logged) if none. */
int net_config_find(const char *const *dirs, const char *name, json_object **ret);
/* The names of every network in dirs, sorted (for --net=all). */
int net_config_names(const char *const *dirs, char ***ret);
/* The plugin directories: $ROCKET_CNI_PATH or the default, checked. Logs. */
int net_cni_path(char ***ret);
/* Whether every plugin the list names is in path; logs the first that is not, naming the network. */
int net_config_check_plugins(json_object *conflist, char *const *path);
