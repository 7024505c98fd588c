/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rocket-config.h"
#include "fetch-auth.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "run-args.h"
#include "string-util.h"

#define CONFIG_FILE_MAX (64 * 1024)

/* One setting: its value, and the file that gave it (a second file of the same directory is an error). */
typedef struct Setting {
        const char *kind, *key;
        char **value;
        char *from;
} Setting;

void rocket_config_done(RocketConfig *c) {
        free(c->data);
        free(c->stage1_images);
        free(c->stage1_name);
        free(c->stage1_location);
        free(c->stage1_version);
        *c = (RocketConfig) {};
}

static int config_file(int dir_fd, const char *dir, const char *subdir, const char *name, Setting *settings,
                       size_t n_settings) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *path = NULL;
        const char *kind, *version;
        int r;

        if (asprintf(&path, "%s/%s/%s", dir, subdir, name) < 0)
                return log_oom();
        r = json_parse_file_at(dir_fd, name, CONFIG_FILE_MAX, &o);
        if (r < 0)
                return log_error_errno(r, "Configuration %s: %s", path,
                                       r == -EBADMSG ? "not a JSON object" : strerror(-r));
        if (json_get_string(o, "rktKind", &kind) < 0 || json_get_string(o, "rktVersion", &version) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Configuration %s: no \"rktKind\" or \"rktVersion\".", path);
        if (!streq(kind, "paths") && !streq(kind, "stage1"))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Configuration %s: unknown rktKind '%s' (paths.d and stage1.d "
                                       "hold 'paths' and 'stage1').", path, kind);
        if (!streq(version, "v1"))
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Configuration %s: unknown rktVersion '%s' (rocket reads v1).",
                                       path, version);
        json_object_object_foreach(o, key, value) {
                Setting *s = NULL;

                if (streq(key, "rktKind") || streq(key, "rktVersion"))
                        continue;
                for (size_t i = 0; i < n_settings; i++)
                        if (streq(settings[i].kind, kind) && streq(settings[i].key, key))
                                s = &settings[i];
                if (!s)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Configuration %s: a %s configuration has no \"%s\".",
                                               path, kind, key);
                if (!json_object_is_type(value, json_type_string) || isempty(json_object_get_string(value)))
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Configuration %s: \"%s\" is not a string.", path, key);
                if (s->from)
                        return log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Configuration %s: \"%s\" is set in %s already.", path,
                                               key, s->from);
                if (streq(kind, "stage1") && streq(key, "version"))
                        ;       /* rkt's image version: ours are installed trees, of one version */
                else if (!streq(kind, "stage1") || !streq(key, "name")) {
                        const char *v = json_object_get_string(value);

                        if (v[0] != '/')
                                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                                       "Configuration %s: \"%s\" must be an absolute path, got '%s'.", path, key, v);
                } else {
                        _cleanup_free_ char *n = NULL;

                        r = stage1_name_normalize(json_object_get_string(value), &n);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return log_error_errno(r, "Configuration %s: invalid stage1 name '%s'.", path,
                                                       json_object_get_string(value));
                }
                s->from = strdup(path);
                free(*s->value);
                *s->value = strdup(json_object_get_string(value));
                if (!s->from || !*s->value)
                        return log_oom();
        }
        return 0;
}

/* One configuration directory's kind subdirectory: every *.json, in name order. */
static int config_subdir(const char *dir, const char *subdir, Setting *settings, size_t n_settings) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dir, subdir) < 0)
                return log_oom();
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Failed to read %s: %m", path);
        r = readdir_names_sorted(d, ".json", &names);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        STRV_FOREACH(n, names) {
                r = config_file(dirfd(d), dir, subdir, *n, settings, n_settings);
                if (r < 0)
                        return r;
        }
        return 0;
}

int rocket_config_load(const char *const *dirs, RocketConfig *ret) {
        RocketConfig c = {};
        int r = 0;

        for (const char *const *dir = dirs; *dir && r >= 0; dir++) {
                /* Each directory's files may not repeat a setting; a later directory's replace an earlier's. */
                Setting settings[] = {
                        { "paths", "data", &c.data },
                        { "paths", "stage1-images", &c.stage1_images },
                        { "stage1", "name", &c.stage1_name },
                        { "stage1", "location", &c.stage1_location },
                        { "stage1", "version", &c.stage1_version },
                };

                r = config_subdir(*dir, "paths.d", settings, ELEMENTSOF(settings));
                if (r >= 0)
                        r = config_subdir(*dir, "stage1.d", settings, ELEMENTSOF(settings));
                /* The default stage1 is one choice: named or located here, what an earlier directory said of it
                 * goes. */
                for (size_t i = 2; i < ELEMENTSOF(settings) && (settings[2].from || settings[3].from); i++)
                        if (!settings[i].from) {
                                free(*settings[i].value);
                                *settings[i].value = NULL;
                        }
                for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                        free(settings[i].from);
        }
        if (r < 0) {
                rocket_config_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}

static int add_opt(json_object *o, const char *key, const char *value) {
        return value ? json_add_string(o, key, value) : 0;
}

int rocket_config_to_json(const RocketConfig *c, json_object **ret) {
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *stage0 = json_object_new_array(), *paths = json_object_new_object(),
                    *stage1 = json_object_new_object();
        int r;

        if (!root || json_add(root, "stage0", stage0) < 0 || json_object_array_add(stage0, paths) < 0) {
                json_object_put(paths);
                json_object_put(stage1);
                return -ENOMEM;
        }
        if (json_object_array_add(stage0, stage1) < 0) {
                json_object_put(stage1);
                return -ENOMEM;
        }
        /* What is in effect: the built-in defaults where nothing is configured. */
        if (json_add_string(paths, "rktKind", "paths") < 0 || json_add_string(paths, "rktVersion", "v1") < 0 ||
            json_add_string(paths, "data", c->data ?: ROCKET_DEFAULT_DIR) < 0 ||
            json_add_string(paths, "stage1-images", c->stage1_images ?: ROCKET_STAGE1_DIR) < 0 ||
            json_add_string(stage1, "rktKind", "stage1") < 0 || json_add_string(stage1, "rktVersion", "v1") < 0 ||
            add_opt(stage1, "name", c->stage1_name) < 0 || add_opt(stage1, "version", c->stage1_version) < 0 ||
            add_opt(stage1, "location", c->stage1_location ?: c->stage1_name ? NULL : ROCKET_STAGE1_DEFAULT) < 0)
                return -ENOMEM;
        r = credentials_rkt_to_json(stage0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}
