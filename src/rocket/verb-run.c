/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket run, prepare, run-prepared: from images to a pod directory, then into the stage1. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs-util.h"
#include "image-config.h"
#include "log.h"
#include "rocket-pod.h"
#include "rocket-store.h"
#include "string-util.h"
#include "verb-list.h"

/* What the command line says about one app; a pod-level instance holds the defaults for all apps. */
typedef struct AppArgs {
        char *image;
        char *name;
        char *exec;
        char **args;
        bool have_args;
        char *user;
        char *group;
        char *working_dir;
        char **env;             /* --environment (app) or --set-env (pod) */
        char **mounts;          /* "volume=NAME,target=PATH[,readOnly=B]" */
} AppArgs;

typedef struct PodArgs {
        char *name;
        char *hostname;
        char *uuid_file;
        char *stage1_path;
        char *stage1_name;
        char **volumes;         /* "NAME,kind=host|empty,source=PATH,readOnly=B" */
        bool keep_unit;
        bool quiet;
        AppArgs defaults;
        AppArgs *apps;
        size_t n_apps;
} PodArgs;

static void app_args_done(AppArgs *a) {
        free(a->image);
        free(a->name);
        free(a->exec);
        strv_free(a->args);
        free(a->user);
        free(a->group);
        free(a->working_dir);
        strv_free(a->env);
        strv_free(a->mounts);
}

static void pod_args_done(PodArgs *p) {
        free(p->name);
        free(p->hostname);
        free(p->uuid_file);
        free(p->stage1_path);
        free(p->stage1_name);
        strv_free(p->volumes);
        app_args_done(&p->defaults);
        for (size_t i = 0; i < p->n_apps; i++)
                app_args_done(&p->apps[i]);
        free(p->apps);
}

static void help(const char *verb) {
        bool prepare = streq(verb, "prepare");

        printf("Usage: rocket %s [OPTIONS...] IMAGE [APP OPTIONS...] [-- ARGS...] [--- IMAGE ...]\n"
               "\n"
               "%s\n"
               "\n"
               "IMAGE is a name or ID in the store, or anything 'rocket fetch' reads. App options follow\n"
               "their IMAGE; given before the first IMAGE they apply to every app. '--' starts the\n"
               "app's arguments, '---' ends them.\n"
               "\n"
               "Pod options:\n"
               "  -h --help                Show this help\n"
               "     --name=NAME          Name the pod (the machine name; default APP-UUIDPREFIX)\n"
               "     --hostname=NAME      The pod's hostname (default: the pod name)\n"
               "     --set-env=K=V        Set an environment variable in every app\n"
               "     --volume=NAME,kind=host|empty[,source=PATH][,readOnly=BOOL]\n"
               "                          Define a volume the apps can mount\n"
               "     --uuid-file-save=FILE  Write the pod's UUID to FILE\n"
               "     --stage1-path=DIR    Use the stage1 in DIR\n"
               "     --stage1-name=NAME   Use the installed stage1 NAME (default: systemd)\n"
               "%s"
               "\n"
               "App options:\n"
               "     --name=NAME          Name the app (default: from the image name)\n"
               "     --exec=CMD           Run CMD instead of the image's entrypoint and command\n"
               "     --user=USER          Run as USER (name or UID, resolved in the image)\n"
               "     --group=GROUP        Run with GROUP (name or GID)\n"
               "     --working-dir=DIR    Start in DIR\n"
               "     --environment=K=V    Set an environment variable in this app\n"
               "     --mount=volume=NAME,target=PATH[,readOnly=BOOL]\n"
               "                          Mount a volume at PATH in the app\n",
               verb,
               prepare ? "Prepare a pod from images and print its UUID; start it with 'rocket run-prepared'."
                       : "Run a pod of one or more apps from images, in the foreground. Exits with the status of\n"
                         "the first app that failed, 0 if all succeeded. SIGINT/SIGTERM stop the pod gracefully.",
               prepare ? "     --quiet              Print only the UUID\n"
                       : "     --keep-unit          Stay in the systemd unit rocket runs in (default when\n"
                         "                          that unit delegates its cgroup)\n");
}

enum {
        ARG_NAME = 0x100,
        ARG_HOSTNAME,
        ARG_SET_ENV,
        ARG_VOLUME,
        ARG_UUID_FILE,
        ARG_STAGE1_PATH,
        ARG_STAGE1_NAME,
        ARG_KEEP_UNIT,
        ARG_QUIET,
        ARG_EXEC,
        ARG_USER,
        ARG_GROUP,
        ARG_WORKDIR,
        ARG_ENVIRONMENT,
        ARG_MOUNT,
};

static const struct option app_options[] = {
        { "name", required_argument, NULL, ARG_NAME },
        { "exec", required_argument, NULL, ARG_EXEC },
        { "user", required_argument, NULL, ARG_USER },
        { "group", required_argument, NULL, ARG_GROUP },
        { "working-dir", required_argument, NULL, ARG_WORKDIR },
        { "environment", required_argument, NULL, ARG_ENVIRONMENT },
        { "mount", required_argument, NULL, ARG_MOUNT },
        {}
};

static int set_string(char **dst, const char *v) {
        char *t = strdup(v);

        if (!t)
                return log_oom();
        free(*dst);
        *dst = t;
        return 0;
}

static int check_env(const char *verb, const char *kv) {
        const char *eq = strchr(kv, '=');

        if (!eq || eq == kv || strchr(kv, '\n'))
                return log_usage("%s: '%s' is not an environment assignment K=V.", verb, kv);
        return 0;
}

/* One app option (c from app_options) into a. */
static int app_option(const char *verb, AppArgs *a, int c, const char *arg) {
        int r;

        switch (c) {
        case ARG_NAME:
                if (!name_is_valid(arg))
                        return log_usage("%s: invalid app name '%s' (use a-z, 0-9 and '-').", verb, arg);
                return set_string(&a->name, arg);
        case ARG_EXEC:
                if (isempty(arg))
                        return log_usage("%s: --exec needs a command.", verb);
                return set_string(&a->exec, arg);
        case ARG_USER:
                return set_string(&a->user, arg);
        case ARG_GROUP:
                return set_string(&a->group, arg);
        case ARG_WORKDIR:
                if (arg[0] != '/')
                        return log_usage("%s: the working directory '%s' is not an absolute path.", verb, arg);
                return set_string(&a->working_dir, arg);
        case ARG_ENVIRONMENT:
                r = check_env(verb, arg);
                if (r < 0)
                        return r;
                return strv_extend(&a->env, arg) < 0 ? log_oom() : 0;
        case ARG_MOUNT:
                return strv_extend(&a->mounts, arg) < 0 ? log_oom() : 0;
        default:
                return -EINVAL;
        }
}

/* Parses IMAGE [APP OPTIONS] [-- ARGS] [---] from argv[i], repeatedly. */
static int parse_apps(const char *verb, int argc, char *argv[], int i, PodArgs *p) {
        while (i < argc) {
                AppArgs *t, *a;

                if (argv[i][0] == '-')
                        return log_usage("%s: expected an IMAGE, got '%s'.", verb, argv[i]);
                t = realloc(p->apps, (p->n_apps + 1) * sizeof(AppArgs));
                if (!t)
                        return log_oom();
                p->apps = t;
                a = &p->apps[p->n_apps++];
                *a = (AppArgs) {};
                a->image = strdup(argv[i++]);
                if (!a->image)
                        return log_oom();

                while (i < argc) {
                        const char *s = argv[i], *val = NULL;
                        const struct option *o = NULL;
                        size_t len;
                        int r;

                        if (streq(s, "---")) {
                                i++;
                                break;
                        }
                        if (streq(s, "--")) {
                                a->have_args = true;
                                for (i++; i < argc && !streq(argv[i], "---"); i++)
                                        if (strv_extend(&a->args, argv[i]) < 0)
                                                return log_oom();
                                if (i < argc)
                                        i++;
                                break;
                        }
                        if (!startswith(s, "--"))
                                break;  /* the next IMAGE */
                        len = strcspn(s + 2, "=");
                        for (const struct option *x = app_options; x->name; x++)
                                if (strlen(x->name) == len && strneq(x->name, s + 2, len))
                                        o = x;
                        if (!o)
                                return log_usage("%s: unknown app option '%s'; see '--help'.", verb, s);
                        if (s[2 + len] == '=')
                                val = s + 3 + len;
                        else if (i + 1 < argc)
                                val = argv[++i];
                        else
                                return log_usage("%s: option '%s' needs an argument.", verb, s);
                        r = app_option(verb, a, o->val, val);
                        if (r < 0)
                                return r;
                        i++;
                }
        }
        if (p->n_apps == 0)
                return log_usage("%s: no IMAGE given.", verb);
        return 0;
}

static int parse_args(const char *verb, int argc, char *argv[], PodArgs *p) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, ARG_NAME },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "set-env", required_argument, NULL, ARG_SET_ENV },
                { "volume", required_argument, NULL, ARG_VOLUME },
                { "uuid-file-save", required_argument, NULL, ARG_UUID_FILE },
                { "stage1-path", required_argument, NULL, ARG_STAGE1_PATH },
                { "stage1-name", required_argument, NULL, ARG_STAGE1_NAME },
                { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
                { "quiet", no_argument, NULL, ARG_QUIET },
                { "exec", required_argument, NULL, ARG_EXEC },
                { "user", required_argument, NULL, ARG_USER },
                { "group", required_argument, NULL, ARG_GROUP },
                { "working-dir", required_argument, NULL, ARG_WORKDIR },
                { "environment", required_argument, NULL, ARG_ENVIRONMENT },
                { "mount", required_argument, NULL, ARG_MOUNT },
                {}
        };
        bool prepare = streq(verb, "prepare");
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help(verb);
                        return 0;
                case ARG_NAME:
                        if (!name_is_valid(optarg))
                                return log_usage("%s: invalid pod name '%s' (1-63 of a-z, 0-9 and '-').", verb, optarg);
                        r = set_string(&p->name, optarg);
                        break;
                case ARG_HOSTNAME:
                        if (!name_is_valid(optarg))
                                return log_usage("%s: invalid hostname '%s'.", verb, optarg);
                        r = set_string(&p->hostname, optarg);
                        break;
                case ARG_SET_ENV:
                        r = check_env(verb, optarg);
                        if (r >= 0)
                                r = strv_extend(&p->defaults.env, optarg) < 0 ? log_oom() : 0;
                        break;
                case ARG_VOLUME:
                        r = strv_extend(&p->volumes, optarg) < 0 ? log_oom() : 0;
                        break;
                case ARG_UUID_FILE:
                        r = set_string(&p->uuid_file, optarg);
                        break;
                case ARG_STAGE1_PATH:
                        r = set_string(&p->stage1_path, optarg);
                        break;
                case ARG_STAGE1_NAME:
                        r = set_string(&p->stage1_name, optarg);
                        break;
                case ARG_KEEP_UNIT:
                        if (prepare)
                                return getopt_error(verb, '?', argv);
                        p->keep_unit = true;
                        r = 0;
                        break;
                case ARG_QUIET:
                        if (!prepare)
                                return getopt_error(verb, '?', argv);
                        p->quiet = true;
                        r = 0;
                        break;
                case ARG_EXEC:
                case ARG_USER:
                case ARG_GROUP:
                case ARG_WORKDIR:
                case ARG_ENVIRONMENT:
                case ARG_MOUNT:
                        r = app_option(verb, &p->defaults, c, optarg);
                        break;
                default:
                        return getopt_error(verb, c, argv);
                }
                if (r < 0)
                        return r;
        }
        if (p->stage1_path && p->stage1_name)
                return log_usage("%s: --stage1-path and --stage1-name exclude each other.", verb);
        r = parse_apps(verb, argc, argv, optind, p);
        return r < 0 ? r : 1;
}

/* "a=b,c=d" into a value lookup. */
static const char *kv_get(char **kv, const char *key) {
        size_t n = strlen(key);

        STRV_FOREACH(s, kv)
                if (strneq(*s, key, n) && (*s)[n] == '=')
                        return *s + n + 1;
        return NULL;
}

static int kv_check(const char *verb, const char *what, const char *spec, char **kv, const char *const *allowed) {
        STRV_FOREACH(s, kv) {
                bool ok = false;

                for (const char *const *a = allowed; *a; a++)
                        if (startswith(*s, *a) && (*s)[strlen(*a)] == '=')
                                ok = true;
                if (!ok)
                        return log_usage("%s: invalid %s '%s': unknown or malformed '%s'.", verb, what, spec, *s);
        }
        return 0;
}

static int parse_bool_opt(const char *verb, const char *spec, const char *v, bool *ret) {
        int b;

        if (!v) {
                *ret = false;
                return 0;
        }
        b = parse_boolean(v);
        if (b < 0)
                return log_usage("%s: invalid boolean '%s' in '%s'.", verb, v, spec);
        *ret = b;
        return 0;
}

static int build_volumes(const char *verb, PodArgs *a, PodManifest *m) {
        static const char *const allowed[] = { "kind", "source", "readOnly", NULL };

        m->volumes = calloc(strv_length(a->volumes) + 1, sizeof(PodVolume));
        if (!m->volumes)
                return log_oom();
        STRV_FOREACH(spec, a->volumes) {
                _cleanup_strv_free_ char **parts = NULL;
                PodVolume *v = &m->volumes[m->n_volumes];
                const char *kind, *source;
                struct stat st;
                int r;

                if (strv_split(*spec, ",", &parts) < 0)
                        return log_oom();
                if (!parts || !name_is_valid(parts[0]))
                        return log_usage("%s: invalid volume '%s': it must start with a name (a-z, 0-9, '-').", verb,
                                         *spec);
                r = kv_check(verb, "volume", *spec, parts + 1, allowed);
                if (r < 0)
                        return r;
                if (pod_manifest_find_volume(m, parts[0]))
                        return log_usage("%s: volume '%s' is defined twice.", verb, parts[0]);
                kind = kv_get(parts + 1, "kind") ?: "host";
                v->kind = volume_kind_from_string(kind);
                if (v->kind < 0)
                        return log_usage("%s: volume '%s': kind must be host or empty, not '%s'.", verb, parts[0], kind);
                source = kv_get(parts + 1, "source");
                if (v->kind == VOLUME_HOST) {
                        if (!source || source[0] != '/')
                                return log_usage("%s: volume '%s' needs source=ABSOLUTE-PATH.", verb, parts[0]);
                        if (stat(source, &st) < 0)
                                return log_error_errno(errno, "Volume '%s': source '%s' does not exist.", parts[0], source);
                        v->source = realpath(source, NULL);
                        if (!v->source)
                                return log_oom();
                } else if (source)
                        return log_usage("%s: volume '%s' of kind empty takes no source.", verb, parts[0]);
                r = parse_bool_opt(verb, *spec, kv_get(parts + 1, "readOnly"), &v->read_only);
                if (r < 0)
                        return r;
                v->name = strdup(parts[0]);
                if (!v->name)
                        return log_oom();
                m->n_volumes++;
        }
        return 0;
}

static bool target_is_safe(const char *t) {
        _cleanup_strv_free_ char **parts = NULL;

        if (!t || t[0] != '/' || strv_split(t, "/", &parts) < 0 || !parts)
                return false;
        STRV_FOREACH(c, parts)
                if (streq(*c, "..") || streq(*c, "."))
                        return false;
        return true;
}

static int build_mounts(const char *verb, const PodManifest *m, char **specs, PodApp *app) {
        static const char *const allowed[] = { "volume", "target", "readOnly", NULL };

        STRV_FOREACH(spec, specs) {
                _cleanup_strv_free_ char **parts = NULL;
                const char *vol, *target;
                PodMount *t, *pm;
                int r;

                if (strv_split(*spec, ",", &parts) < 0)
                        return log_oom();
                r = kv_check(verb, "mount", *spec, parts, allowed);
                if (r < 0)
                        return r;
                vol = kv_get(parts, "volume");
                target = kv_get(parts, "target");
                if (!vol || !target)
                        return log_usage("%s: invalid mount '%s': it needs volume=NAME,target=PATH.", verb, *spec);
                if (!pod_manifest_find_volume(m, vol))
                        return log_usage("%s: mount '%s' names volume '%s', which no --volume defines.", verb, *spec, vol);
                if (!target_is_safe(target) || streq(target, "/"))
                        return log_usage("%s: mount target '%s' is not an absolute path inside the app's rootfs.", verb,
                                         target);
                t = realloc(app->mounts, (app->n_mounts + 1) * sizeof(PodMount));
                if (!t)
                        return log_oom();
                app->mounts = t;
                pm = &app->mounts[app->n_mounts];
                *pm = (PodMount) {};
                r = parse_bool_opt(verb, *spec, kv_get(parts, "readOnly"), &pm->read_only);
                if (r < 0)
                        return r;
                pm->volume = strdup(vol);
                pm->target = strdup(target);
                app->n_mounts++;
                if (!pm->volume || !pm->target)
                        return log_oom();
        }
        return 0;
}

/* "docker.io/library/busybox:v2" → "busybox"; anything else reduced to a valid name. */
static char *app_name_from(const char *image) {
        const char *base = strrchr(image, '/');
        char *n, *w;
        size_t len;

        base = base ? base + 1 : image;
        len = strcspn(base, ":@");
        if (len > 4 && endswith(base, ".aci") && len == strlen(base))
                len -= 4;
        n = strndup(base, MIN(len, (size_t) 40));
        if (!n)
                return NULL;
        for (w = n; *w; w++) {
                *w = (char) (*w >= 'A' && *w <= 'Z' ? *w - 'A' + 'a' : *w);
                if (!((*w >= 'a' && *w <= 'z') || (*w >= '0' && *w <= '9')))
                        *w = '-';
        }
        while (*n == '-')
                memmove(n, n + 1, strlen(n));
        for (len = strlen(n); len > 0 && n[len - 1] == '-'; len--)
                n[len - 1] = 0;
        if (isempty(n)) {
                free(n);
                n = strdup("app");
        }
        return n;
}

/* Sets K=V in env, replacing an earlier K. */
static int env_set(char ***env, const char *kv) {
        size_t klen = strcspn(kv, "=");

        STRV_FOREACH(e, *env)
                if (strneq(*e, kv, klen) && (*e)[klen] == '=') {
                        char *t = strdup(kv);

                        if (!t)
                                return -ENOMEM;
                        free(*e);
                        *e = t;
                        return 0;
                }
        return strv_extend(env, kv);
}

static int build_app(const char *verb, RocketContext *ctx, Store *s, const PodArgs *pa, const AppArgs *aa,
                     PodManifest *m, PodApp *app) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_(image_config_freep) ImageConfig *cfg = NULL;
        const AppArgs *d = &pa->defaults;
        const char *exec = aa->exec ?: d->exec;
        char *const *args = aa->have_args ? aa->args : d->have_args ? d->args : NULL;
        bool have_args = aa->have_args || d->have_args;
        int r;

        r = rocket_image_get(ctx, s, aa->image, NULL, &app->image_id);
        if (r < 0)
                return r;
        r = store_image_load(s, app->image_id, &rec);
        if (r >= 0)
                r = image_config_load(s, rec, &cfg);
        if (r < 0)
                return log_error_errno(r, "Failed to read image %s: %m", app->image_id);
        (void) store_image_touch(s, app->image_id);

        app->name = aa->name ? strdup(aa->name) : app_name_from(rec->names && rec->names[0] ? rec->names[0] : aa->image);
        app->image_name = strdup(rec->names && rec->names[0] ? rec->names[0] : aa->image);
        if (asprintf(&app->layers_dir, "%s/store/layers", ctx->dir) < 0)
                app->layers_dir = NULL;
        if (!app->name || !app->image_name || !app->layers_dir)
                return log_oom();
        {
                char *abs = realpath(app->layers_dir, NULL);

                if (!abs)
                        return log_error_errno(errno, "Failed to find the store's layers: %m");
                free(app->layers_dir);
                app->layers_dir = abs;
        }
        for (size_t i = 0; i < rec->n_layers; i++) {
                _cleanup_free_ char *path = NULL;
                const char *base;

                if (!store_layer_exists(s, rec->layers[i].digest))
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                               "Layer %s of image %s is not extracted; fetch the image as root.",
                                               rec->layers[i].digest, app->image_id);
                r = store_layer_path(rec->layers[i].digest, &path);
                if (r < 0)
                        return log_oom();
                base = strrchr(path, '/');
                if (strv_extend(&app->layers, base ? base + 1 : path) < 0)
                        return log_oom();
        }
        if (rec->n_layers == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Image %s has no layers.", app->image_id);

        /* The command: --exec replaces entrypoint and command; arguments replace the image's command. */
        if (exec) {
                if (strv_extend(&app->exec, exec) < 0)
                        return log_oom();
        } else
                STRV_FOREACH(e, cfg->entrypoint)
                        if (strv_extend(&app->exec, *e) < 0)
                                return log_oom();
        STRV_FOREACH(e, have_args ? (char **) args : (exec ? NULL : cfg->cmd))
                if (strv_extend(&app->exec, *e) < 0)
                        return log_oom();
        if (strv_length(app->exec) == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "Image '%s' has no command to run; give one with --exec.", aa->image);

        /* Environment, lowest first: the image's, --set-env, --environment. */
        STRV_FOREACH(e, cfg->env)
                if (env_set(&app->env, *e) < 0)
                        return log_oom();
        STRV_FOREACH(e, d->env)
                if (env_set(&app->env, *e) < 0)
                        return log_oom();
        STRV_FOREACH(e, aa->env)
                if (env_set(&app->env, *e) < 0)
                        return log_oom();

        if ((aa->working_dir ?: d->working_dir ?: cfg->working_dir) &&
            !(app->working_dir = strdup(aa->working_dir ?: d->working_dir ?: cfg->working_dir)))
                return log_oom();
        if (app->working_dir && !target_is_safe(app->working_dir) && !streq(app->working_dir, "/"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Image '%s' has an invalid working directory '%s'.",
                                       aa->image, app->working_dir);
        if ((aa->user ?: d->user ?: cfg->user) && !(app->user = strdup(aa->user ?: d->user ?: cfg->user)))
                return log_oom();
        if ((aa->group ?: d->group ?: cfg->group) && !(app->group = strdup(aa->group ?: d->group ?: cfg->group)))
                return log_oom();

        r = build_mounts(verb, m, d->mounts, app);
        if (r >= 0)
                r = build_mounts(verb, m, aa->mounts, app);
        return r;
}

static int build_manifest(const char *verb, RocketContext *ctx, Store *s, PodArgs *pa, const char *uuid,
                          const char *stage1, PodManifest **ret) {
        _cleanup_(pod_manifest_freep) PodManifest *m = calloc(1, sizeof(PodManifest));
        struct timespec ts;
        int r;

        if (!m)
                return log_oom();
        r = build_volumes(verb, pa, m);
        if (r < 0)
                return r;
        m->apps = calloc(pa->n_apps, sizeof(PodApp));
        if (!m->apps)
                return log_oom();
        for (size_t i = 0; i < pa->n_apps; i++) {
                r = build_app(verb, ctx, s, pa, &pa->apps[i], m, &m->apps[i]);
                m->n_apps++;
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(m->apps[j].name, m->apps[i].name))
                                return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                                       "Two apps are named '%s'; name one with --name after its image.",
                                                       m->apps[i].name);
        }
        m->uuid = strdup(uuid);
        if (pa->name)
                m->name = strdup(pa->name);
        else if (asprintf(&m->name, "%.50s-%.8s", m->apps[0].name, uuid) < 0)
                m->name = NULL;
        m->hostname = strdup(pa->hostname ?: m->name);
        m->stage1 = strdup(stage1);
        if (!m->uuid || !m->name || !m->hostname || !m->stage1)
                return log_oom();
        clock_gettime(CLOCK_REALTIME, &ts);
        m->created_usec = (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
        *ret = TAKE_PTR(m);
        return 0;
}

/* Under the pods lock: the name must be free among pods that have not exited; an exited pod of the same
 * name moves to exited-garbage (its journal stays until gc). */
static int claim_name(int pods_fd, const char *name) {
        Pod **l = NULL;
        size_t n = 0;
        int r;

        r = pod_list(pods_fd, &l, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to list pods: %m");
        for (size_t i = 0; i < n && r >= 0; i++) {
                Pod *p = l[i];

                if (!p->manifest || !streq(p->manifest->name, name))
                        continue;
                if (p->state == POD_EXITED) {
                        r = pod_transition(pods_fd, p, POD_EXITED_GARBAGE);
                        if (r < 0 && r != -ENOENT)
                                r = log_error_errno(r, "Failed to retire exited pod %s: %m", p->uuid);
                        else
                                r = 0;
                } else if (p->state < POD_EXITED)
                        r = log_error_errno(SYNTHETIC_ERRNO(EEXIST), "A pod named '%s' already exists (%s, %s).", name,
                                            p->uuid, pod_state_to_string(p->state));
        }
        pod_array_free(l, n);
        return r;
}

static int write_uuid_file(const char *path, const char *uuid) {
        _cleanup_free_ char *line = NULL;
        int r;

        if (asprintf(&line, "%s\n", uuid) < 0)
                return log_oom();
        r = write_file_atomic_at(AT_FDCWD, path, line, strlen(line), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the pod's UUID to '%s': %m", path);
        return 0;
}

/* Creates the pod directory in embryo/ and moves it to `to`. Returns the locked pod directory fd. */
static int create_pod(RocketContext *ctx, int pods_fd, PodManifest *m, PodState to, const char *uuid_file,
                      Pod **ret_pod) {
        _cleanup_close_ int lock_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_free_ char *rel = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        lock_fd = openat(pods_fd, "lock", O_RDWR|O_CREAT|O_CLOEXEC, 0600);
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0)
                return log_error_errno(errno, "Failed to lock the pods directory: %m");
        r = claim_name(pods_fd, m->name);
        if (r < 0)
                return r;

        if (asprintf(&rel, "embryo/%s", m->uuid) < 0)
                return log_oom();
        if (mkdirat(pods_fd, rel, 0700) < 0)
                return log_error_errno(errno, "Failed to create the pod directory: %m");
        dir_fd = openat(pods_fd, rel, O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_NOFOLLOW);
        if (dir_fd < 0 || flock(dir_fd, LOCK_EX) < 0) {
                r = log_error_errno(errno, "Failed to open the pod directory: %m");
                goto fail;
        }
        r = pod_manifest_save_at(dir_fd, "pod", m);
        if (r < 0) {
                log_error_errno(r, "Failed to write the pod manifest: %m");
                goto fail;
        }
        r = mkdirat(dir_fd, "apps", 0755) < 0 ? -errno : 0;
        for (size_t i = 0; i < m->n_apps && r >= 0; i++)
                r = mkdirat(dir_fd, strjoina("apps/", m->apps[i].name), 0755) < 0 ? -errno : 0;
        if (r < 0) {
                log_error_errno(r, "Failed to create the app directories: %m");
                goto fail;
        }
        if (uuid_file) {
                r = write_uuid_file(uuid_file, m->uuid);
                if (r < 0)
                        goto fail;
        }
        r = pod_load(pods_fd, POD_EMBRYO, m->uuid, &p);
        if (r >= 0)
                r = pod_transition(pods_fd, p, to);
        if (r < 0) {
                log_error_errno(r, "Failed to move the pod to %s: %m", pod_state_dir(to));
                goto fail;
        }
        safe_close(p->dir_fd);
        p->dir_fd = TAKE_FD(dir_fd);
        p->state = to;
        *ret_pod = TAKE_PTR(p);
        return 0;
fail:
        /* No half-created pod stays behind in any state directory. */
        (void) rm_rf_at(pods_fd, rel);
        if (uuid_file)
                (void) unlink(uuid_file);
        return r;
}

static int exec_run(RocketContext *ctx, int pods_fd, Pod *p, bool keep_unit) {
        char *args[3];
        size_t n = 0;

        /* Shared from here on: the stage1 and the pod take it too; gc probes with an exclusive lock. */
        if (flock(p->dir_fd, LOCK_SH) < 0)
                return log_error_errno(errno, "Failed to lock pod %s: %m", p->uuid);
        if (ctx->debug || log_get_max_level() >= LOG_DEBUG)
                args[n++] = (char *) "--debug";
        if (keep_unit)
                args[n++] = (char *) "--keep-unit";
        args[n] = NULL;
        return rocket_stage1_exec(pods_fd, p, p->dir_fd, "run", args);
}

static int do_run(const char *verb, int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(pod_args_done) PodArgs pa = {};
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *stage1 = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        bool prepare = streq(verb, "prepare");
        char uuid[37];
        int r;

        r = parse_args(verb, argc, argv, &pa);
        if (r <= 0)
                return r;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "%s: running pods needs root.", verb);
        r = rocket_stage1_find(pa.stage1_path, pa.stage1_name, &stage1);
        if (r < 0)
                return r;
        r = pod_uuid_new(uuid);
        if (r < 0)
                return log_error_errno(r, "Failed to generate a UUID: %m");
        /* The store stays open (locked against image gc) until the pod's manifest names its images. */
        r = rocket_store_open(ctx, STORE_CREATE, &s);
        if (r < 0)
                return r;
        r = build_manifest(verb, ctx, s, &pa, uuid, stage1, &m);
        if (r < 0)
                return r;
        r = rocket_pods_open(ctx, true, &pods_fd);
        if (r < 0)
                return r;
        r = create_pod(ctx, pods_fd, m, prepare ? POD_PREPARED : POD_RUNNING, pa.uuid_file, &p);
        if (r < 0)
                return r;
        s = store_free(s);
        if (prepare) {
                printf("%s\n", p->uuid);
                if (!pa.quiet)
                        log_info("Prepared pod %s (%s); start it with 'rocket run-prepared %s'.", m->name, p->uuid,
                                 m->name);
                return 0;
        }
        log_debug("Running pod %s (%s).", m->name, p->uuid);
        return exec_run(ctx, pods_fd, p, pa.keep_unit);
}

int verb_run(int argc, char *argv[], RocketContext *ctx) {
        return do_run("run", argc, argv, ctx);
}

int verb_prepare(int argc, char *argv[], RocketContext *ctx) {
        return do_run("prepare", argc, argv, ctx);
}

int verb_run_prepared(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "keep-unit", no_argument, NULL, ARG_KEEP_UNIT },
                {}
        };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        bool keep_unit = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("Usage: rocket run-prepared [OPTIONS...] POD\n"
                               "\n"
                               "Run a prepared pod (UUID, UUID prefix or name), in the foreground.\n"
                               "\n"
                               "Options:\n"
                               "  -h --help              Show this help\n"
                               "     --keep-unit         Stay in the systemd unit rocket runs in\n");
                        return 0;
                case ARG_KEEP_UNIT:
                        keep_unit = true;
                        break;
                default:
                        return getopt_error("run-prepared", c, argv);
                }
        if (argc - optind != 1)
                return log_usage("run-prepared: give exactly one POD.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "run-prepared: running pods needs root.");
        r = rocket_pods_open(ctx, false, &pods_fd);
        if (r < 0 && r != -ENOENT)
                return r;
        r = rocket_pod_resolve(pods_fd, argv[optind], &p);
        if (r < 0)
                return r;
        if (p->state != POD_PREPARED)
                return log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Pod %s is %s, not prepared.", p->uuid,
                                       pod_state_to_string(p->state));
        r = pod_lock_exclusive(p->dir_fd);
        if (r < 0)
                return log_error_errno(r, "Pod %s is being started or removed by another rocket.", p->uuid);
        r = pod_transition(pods_fd, p, POD_RUNNING);
        if (r < 0)
                return log_error_errno(r, "Failed to move pod %s to run/: %m", p->uuid);
        return exec_run(ctx, pods_fd, p, keep_unit);
}
