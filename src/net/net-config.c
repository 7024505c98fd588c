/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "config.h"
#include "fs-util.h"
#include "log.h"
#include "net-config.h"
#include "pod-network.h"
#include "string-util.h"

#define NET_CONFIG_SIZE_MAX (1024U * 1024U)

const char *const net_config_dirs_default[] = {
        "/etc/rocket/net.d",
        "/run/rocket/net.d",
        ROCKET_NET_DIR,
        NULL
};

static int set_error(char **ret_error, const char *msg) {
        *ret_error = strdup(msg);
        return -EBADMSG;
}

int net_config_parse(const char *text, size_t size, bool single, json_object **ret, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL, *list = NULL;
        const char *name, *version;
        json_object *plugins;

        *ret_error = NULL;
        if (json_parse_strict(text, size, &o) < 0 || !json_object_is_type(o, json_type_object))
                return set_error(ret_error, "not a JSON object");
        if (json_get_string(o, "name", &name) < 0)
                return set_error(ret_error, "no \"name\"");
        if (!net_name_is_valid(name))
                return set_error(ret_error, "\"name\" is not a valid network name");
        if (json_get_string(o, "cniVersion", &version) < 0 || isempty(version))
                return set_error(ret_error, "no \"cniVersion\"");
        if (single) {
                const char *type;

                if (json_get_string(o, "type", &type) < 0)
                        return set_error(ret_error, "no plugin \"type\"");
                list = json_object_new_object();
                plugins = json_object_new_array();
                if (!list || json_add_string(list, "cniVersion", version) < 0 || json_add_string(list, "name", name) < 0 ||
                    json_add(list, "plugins", plugins) < 0 || json_object_array_add(plugins, json_object_get(o)) < 0)
                        return -ENOMEM;
        } else {
                if (json_get_array(o, "plugins", &plugins) < 0 || json_object_array_length(plugins) == 0)
                        return set_error(ret_error, "no \"plugins\" list");
                list = TAKE_PTR(o);
        }
        if (!net_conflist_is_valid(list))
                return set_error(ret_error, "a plugin has no \"type\" or one that is not a file name");
        *ret = TAKE_PTR(list);
        return 0;
}

static int filter_config(const struct dirent *de) {
        return de->d_name[0] != '.' &&
               (endswith(de->d_name, ".conflist") || endswith(de->d_name, ".conf") || endswith(de->d_name, ".json"));
}

/* Every configuration file of one directory, in name order: calls f for each that parses, and for each that
 * does not (with its error), until f returns non-zero. */
typedef int (*config_cb)(const char *path, const char *file, json_object *list, const char *error, void *userdata);

static int for_each_config(const char *dir, config_cb f, void *userdata) {
        struct dirent **list = NULL;
        int n, r = 0;

        n = scandir(dir, &list, filter_config, alphasort);
        if (n < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0
                        : log_error_errno(errno, "Cannot read the network configurations in %s: %m", dir);
        for (int i = 0; i < n; i++) {
                _cleanup_(json_object_putp) json_object *c = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL, *error = NULL;
                size_t size;

                if (r != 0)
                        goto next;
                if (asprintf(&path, "%s/%s", dir, list[i]->d_name) < 0) {
                        r = log_oom();
                        goto next;
                }
                r = read_full_file_at(AT_FDCWD, path, NET_CONFIG_SIZE_MAX, &text, &size);
                if (r == -EISDIR) {
                        r = 0;
                        goto next;
                }
                if (r < 0) {
                        if (asprintf(&error, "cannot read it: %s", strerror(-r)) < 0)
                                error = NULL;
                } else
                        (void) net_config_parse(text, size, !endswith(list[i]->d_name, ".conflist"), &c, &error);
                r = f(path, list[i]->d_name, c, error, userdata);
        next:
                free(list[i]);
        }
        free(list);
        return r;
}

typedef struct FindContext {
        const char *name;
        json_object *found;
} FindContext;

static int find_cb(const char *path, const char *file, json_object *list, const char *error, void *userdata) {
        FindContext *c = userdata;
        const char *name = NULL;

        if (!list) {
                size_t len = strcspn(file, ".");

                /* A broken file is an error for the network it is named after, and skipped otherwise. */
                if (strlen(c->name) == len && strneq(file, c->name, len))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Network '%s': %s: %s.", c->name, path,
                                               strna(error));
                log_debug("Skipping %s: %s.", path, strna(error));
                return 0;
        }
        (void) json_get_string(list, "name", &name);
        if (!streq_ptr(name, c->name))
                return 0;
        log_debug("Network '%s' is %s.", c->name, path);
        c->found = json_object_get(list);
        return 1;
}

int net_config_find(const char *const *dirs, const char *name, json_object **ret) {
        FindContext c = { .name = name };

        for (const char *const *d = dirs ?: net_config_dirs_default; *d; d++) {
                int r = for_each_config(*d, find_cb, &c);

                if (r < 0)
                        return r;
                if (c.found) {
                        *ret = c.found;
                        return 0;
                }
        }
        return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                               "Network '%s': no configuration has that name in /etc/rocket/net.d, /run/rocket/net.d or "
                               ROCKET_NET_DIR ".", name);
}

static int names_cb(const char *path _unused_, const char *file _unused_, json_object *list,
                    const char *error _unused_, void *userdata) {
        char ***names = userdata;
        const char *name;

        if (!list || json_get_string(list, "name", &name) < 0 || strv_contains(*names, name))
                return 0;
        return strv_extend(names, name) < 0 ? log_oom() : 0;
}

int net_config_names(const char *const *dirs, char ***ret) {
        _cleanup_strv_free_ char **names = NULL;

        for (const char *const *d = dirs ?: net_config_dirs_default; *d; d++) {
                int r = for_each_config(*d, names_cb, &names);

                if (r < 0)
                        return r;
        }
        strv_sort(names);
        *ret = TAKE_PTR(names);
        return 0;
}

int net_cni_path(char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *e = getenv("ROCKET_CNI_PATH");

        if (strv_split(isempty(e) ? NET_CNI_PATH_DEFAULT : e, ":", &l) < 0)
                return log_oom();
        STRV_FOREACH(d, l)
                if ((*d)[0] != '/' || strstr(*d, "/../") || endswith(*d, "/.."))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "$ROCKET_CNI_PATH: '%s' is not an absolute directory.", *d);
        if (!l || !l[0])
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "$ROCKET_CNI_PATH names no directory.");
        *ret = TAKE_PTR(l);
        return 0;
}

int net_config_check_plugins(json_object *conflist, char *const *path) {
        json_object *plugins;
        const char *name = NULL;

        (void) json_get_string(conflist, "name", &name);
        if (json_get_array(conflist, "plugins", &plugins) < 0)
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                _cleanup_free_ char *exe = NULL, *dirs = NULL;
                const char *type = NULL;

                (void) json_get_string(json_object_array_get_idx(plugins, i), "type", &type);
                if (cni_plugin_find(path, type, &exe) >= 0)
                        continue;
                (void) strv_join(path, ":", &dirs);
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                       "Network '%s': plugin '%s' is not installed in %s (Debian: containernetworking-plugins).",
                                       strna(name), strna(type), strna(dirs));
        }
        return 0;
}
