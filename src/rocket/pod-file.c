/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fcntl.h>

#include "json-util.h"
#include "log.h"
#include "pod-file.h"
#include "string-util.h"

static const char *const search_dirs[] = { "/etc/rocket/pods", "/run/rocket/pods", "/usr/lib/rocket/pods" };

int pod_file_find(const char *name_or_path, char **ret_path) {
        _cleanup_strv_free_ char **dirs = NULL;

        if (strchr(name_or_path, '/')) {
                if (access(name_or_path, R_OK) < 0)
                        return log_error_errno(errno, "Cannot read pod file '%s': %m", name_or_path);
                *ret_path = strdup(name_or_path);
                return *ret_path ? 0 : log_oom();
        }
        if (!machine_name_is_valid(name_or_path))
                return log_usage("Invalid pod name '%s' (a machine name: letters, digits, inner '-' and '.').",
                                 name_or_path);
        if (getenv("ROCKET_POD_PATH") && strv_split(getenv("ROCKET_POD_PATH"), ":", &dirs) < 0)
                return log_oom();
        for (size_t i = 0; i < ELEMENTSOF(search_dirs); i++)
                if (strv_extend(&dirs, search_dirs[i]) < 0)
                        return log_oom();
        STRV_FOREACH(d, dirs) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/%s.pod", *d, name_or_path) < 0)
                        return log_oom();
                if (access(p, F_OK) == 0) {
                        *ret_path = TAKE_PTR(p);
                        return 0;
                }
        }
        return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                               "No pod file %s.pod in /etc/rocket/pods, /run/rocket/pods or /usr/lib/rocket/pods.",
                               name_or_path);
}

const char *pod_file_default_name(const char *name_or_path) {
        static char buf[64];
        const char *base = strrchr(name_or_path, '/');
        size_t n;

        base = base ? base + 1 : name_or_path;
        n = strlen(base);
        if (endswith(base, ".pod"))
                n -= 4;
        snprintf(buf, sizeof buf, "%.*s", (int) MIN(n, sizeof buf - 1), base);
        return buf;
}

typedef struct Parser {
        const char *path;
        FILE *f;
        unsigned line;          /* of the line inih handed us last */
        char raw[4096];         /* that line, as it is in the file */
        PodArgs *p;
        AppArgs *app;           /* of the current [App NAME] section */
        char *section;
        int error;              /* first error: logged already */
        bool in_pod;
} Parser;

static const struct {
        const char *key;
        int option;
        bool pod;               /* [Pod] (true) or [App] (false) */
} keys[] = {
        { "Name", ARG_NAME, true },
        { "Hostname", ARG_HOSTNAME, true },
        { "Environment", ARG_SET_ENV, true },
        { "EnvironmentFile", ARG_SET_ENV_FILE, true },
        { "InheritEnvironment", ARG_INHERIT_ENV, true },
        { "Volume", ARG_VOLUME, true },
        { "Stage1", ARG_STAGE1_NAME, true },
        { "Stage1Path", ARG_STAGE1_PATH, true },
        { "InsecureOptions", ARG_INSECURE, true },
        { "PullPolicy", ARG_PULL_POLICY, true },
        { "PrivateUsers", ARG_PRIVATE_USERS, true },
        { "PidsLimit", ARG_PIDS_LIMIT, true },
        { "IPC", ARG_IPC, true },
        { "NoOverlay", ARG_NO_OVERLAY, true },
        { "MetadataService", ARG_MDS_REGISTER, true },
        { "Annotation", ARG_ANNOTATION, true },
        { "UserAnnotation", ARG_USER_ANNOTATION, true },
        { "UserLabel", ARG_USER_LABEL, true },
        { "Network", ARG_NET, true },
        { "Port", ARG_PORT, true },
        { "DNS", ARG_DNS, true },
        { "DNSSearch", ARG_DNS_SEARCH, true },
        { "DNSOption", ARG_DNS_OPT, true },
        { "DNSDomain", ARG_DNS_DOMAIN, true },
        { "HostsEntry", ARG_HOSTS_ENTRY, true },
        { "Memory", ARG_MEMORY, true },
        { "CPU", ARG_CPU, true },
        { "CPUShares", ARG_CPU_SHARES, true },
        { "Exec", ARG_EXEC, false },
        { "User", ARG_USER, false },
        { "Group", ARG_GROUP, false },
        { "WorkingDirectory", ARG_WORKDIR, false },
        { "Environment", ARG_ENVIRONMENT, false },
        { "Mount", ARG_MOUNT, false },
        { "ReadyPath", ARG_READY_PATH, false },
        { "Sockets", ARG_SOCKETS, false },
        { "Stdin", ARG_STDIN, false },
        { "Stdout", ARG_STDOUT, false },
        { "Stderr", ARG_STDERR, false },
        { "CapsRetain", ARG_CAPS_RETAIN, false },
        { "CapsRemove", ARG_CAPS_REMOVE, false },
        { "Seccomp", ARG_SECCOMP, false },
        { "Memory", ARG_MEMORY, false },
        { "CPU", ARG_CPU, false },
        { "CPUShares", ARG_CPU_SHARES, false },
        { "NoNewPrivileges", ARG_NO_NEW_PRIVS, false },
        { "ReadOnlyRootfs", ARG_READONLY_ROOTFS, false },
        { "SupplementaryGIDs", ARG_SUPPLEMENTARY_GIDS, false },
        { "OOMScoreAdjust", ARG_OOM_SCORE_ADJ, false },
};

/* inih reads line by line through us, so we know the line a key is on. */
static char *reader(char *str, int num, void *stream) {
        Parser *ps = stream;
        char *r = fgets(str, num, ps->f);

        if (r) {
                ps->line++;
                snprintf(ps->raw, sizeof ps->raw, "%s", r);
        }
        return r;
}

/* The value of the key on the line just read, as written: libinih (as Debian builds it) cuts a value at
 * " ;", an inline comment, but rocket.pod(5) has comments only on lines of their own, so that
 * 'Args=-c "a ; b"' means what it says. A continuation line (leading white space) is a value all of it. */
static const char *raw_value(Parser *ps, const char *name) {
        char *v = ps->raw + strspn(ps->raw, " \t"), *end;

        if (startswith(v, name) && strchr("=: \t", v[strlen(name)])) {
                v += strlen(name);
                v += strspn(v, " \t");
                if (*v != '=' && *v != ':')
                        return NULL;
                v++;
                v += strspn(v, " \t");
        } else if (v == ps->raw)
                return NULL;
        end = v + strlen(v);
        while (end > v && strchr(" \t\r\n", end[-1]))
                end--;
        *end = 0;
        return v;
}

static int fail(Parser *ps, const char *fmt, ...) _printf_(2, 3);
static int fail(Parser *ps, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        if (ps->error < 0)
                return 0;
        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        ps->error = log_usage("%s:%u: %s", ps->path, ps->line, msg ?: "out of memory");
        return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value_inih) {
        const char *value = value_inih;
        Parser *ps = user;
        char where[PATH_MAX + 32];
        int r;

        if (ps->error < 0)
                return 0;
        snprintf(where, sizeof where, "%s:%u", ps->path, ps->line);
        value = raw_value(ps, name) ?: value;

        if (!ps->section || !streq(ps->section, section)) {
                const char *app;

                free(ps->section);
                ps->section = strdup(section);
                if (!ps->section)
                        return fail(ps, "out of memory");
                ps->app = NULL;
                ps->in_pod = streq(section, "Pod");
                if (!ps->in_pod) {
                        app = startswith(section, "App ");
                        if (!app)
                                return fail(ps, "unknown section [%s]; expected [Pod] or [App NAME]", section);
                        if (!name_is_valid(app))
                                return fail(ps, "invalid app name '%s' (use a-z, 0-9 and '-')", app);
                        for (size_t i = 0; i < ps->p->n_apps; i++)
                                if (streq(ps->p->apps[i].name, app))
                                        return fail(ps, "app '%s' is defined twice", app);
                        /* The image comes with Image=; until then the app has none. */
                        if (pod_args_add_app(ps->p, "", &ps->app) < 0)
                                return fail(ps, "out of memory");
                        ps->app->name = strdup(app);
                        if (!ps->app->name)
                                return fail(ps, "out of memory");
                }
        }
        if (!ps->in_pod && streq(name, "Image")) {
                if (isempty(value))
                        return fail(ps, "Image= is empty");
                free(ps->app->image);
                ps->app->image = strdup(value);
                return ps->app->image ? 1 : fail(ps, "out of memory");
        }
        if (!ps->in_pod && streq(name, "Args")) {
                _cleanup_strv_free_ char **words = NULL;

                r = split_words(where, value, &words);
                if (r < 0) {
                        ps->error = r;
                        return 0;
                }
                STRV_FOREACH(w, words)
                        if (strv_extend(&ps->app->args, *w) < 0)
                                return fail(ps, "out of memory");
                ps->app->have_args = true;
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                if (keys[i].pod != ps->in_pod || !streq(keys[i].key, name))
                        continue;
                r = ps->in_pod ? run_pod_option(where, ps->p, keys[i].option, value)
                               : run_app_option(where, ps->app, keys[i].option, value);
                if (r < 0) {
                        ps->error = r;
                        return 0;
                }
                return 1;
        }
        return fail(ps, "unknown key %s= in [%s]", name, section);
}

int pod_file_load(const char *path, const char *default_name, PodArgs *p) {
        Parser ps = { .path = path, .p = p };
        int r;

        ps.f = fopen(path, "re");
        if (!ps.f)
                return log_error_errno(errno, "Cannot read pod file '%s': %m", path);
        r = ini_parse_stream(reader, &ps, handler, &ps);
        fclose(ps.f);
        free(ps.section);
        if (ps.error < 0)
                return ps.error;
        if (r < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Cannot read pod file '%s'.", path);
        if (r > 0)
                return log_usage("%s:%i: not a key=value line or a [section]", path, r);
        for (size_t i = 0; i < p->n_apps; i++)
                if (isempty(p->apps[i].image))
                        return log_usage("%s: app '%s' has no Image=.", path, p->apps[i].name);
        if (!p->name && machine_name_is_valid(default_name) && run_pod_option(path, p, ARG_NAME, default_name) < 0)
                return -ERRNO_USAGE;
        return 0;
}

/* A JSON pod manifest (rocket-stage1(7) format; uuid, stage1, layers and the like are ignored, the images
 * are resolved again) through the same option checks as the command line. */
static int json_app(const char *where, json_object *ao, PodArgs *p) {
        static const struct {
                const char *key;
                int option;
        } strings[] = {
                { "workingDirectory", ARG_WORKDIR },
                { "user", ARG_USER },
                { "group", ARG_GROUP },
                { "readyPath", ARG_READY_PATH },
        };
        _cleanup_strv_free_ char **exec = NULL, **env = NULL, **sockets = NULL;
        const char *name, *image, *v;
        json_object *mounts;
        AppArgs *a;
        int r;

        if (json_get_string(ao, "name", &name) < 0 || json_get_string(ao, "image", &image) < 0)
                return log_usage("%s: every app needs \"name\" and \"image\".", where);
        r = pod_args_add_app(p, image, &a);
        if (r < 0)
                return r;
        r = run_app_option(where, a, ARG_NAME, name);
        if (r < 0)
                return r;
        if (json_get_strv(ao, "exec", &exec) >= 0 && exec) {
                r = run_app_option(where, a, ARG_EXEC, exec[0]);
                if (r < 0)
                        return r;
                for (size_t i = 1; exec[i]; i++)
                        if (strv_extend(&a->args, exec[i]) < 0)
                                return log_oom();
                a->have_args = true;
        }
        if (json_get_strv(ao, "environment", &env) >= 0)
                STRV_FOREACH(e, env) {
                        r = run_app_option(where, a, ARG_ENVIRONMENT, *e);
                        if (r < 0)
                                return r;
                }
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (json_get_string(ao, strings[i].key, &v) >= 0) {
                        r = run_app_option(where, a, strings[i].option, v);
                        if (r < 0)
                                return r;
                }
        if (json_get_strv(ao, "sockets", &sockets) >= 0 && sockets && strv_join(sockets, ",", (char **) &v) >= 0) {
                r = run_app_option(where, a, ARG_SOCKETS, v);
                free((char *) v);
                if (r < 0)
                        return r;
        }
        /* Straight into the manifest's types, through the manifest's own checks. */
        if (json_get_array(ao, "mounts", &mounts) >= 0)
                for (size_t i = 0; i < json_object_array_length(mounts); i++) {
                        _cleanup_(pod_mount_done) PodMount pm = {};

                        r = pod_mount_from_json(json_object_array_get_idx(mounts, i), &pm);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return log_usage("%s: app %s: mount %zu is not valid (\"volume\", an absolute "
                                                 "\"target\", \"readOnly\").", where, name, i + 1);
                        r = app_args_add_mount(where, a, &pm);
                        if (r < 0)
                                return r;
                }
        return 0;
}

int pod_manifest_file_load(const char *path, PodArgs *p) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        json_object *apps, *vols;
        const char *v;
        int r;

        r = json_parse_file_at(AT_FDCWD, path, 4 << 20, &o);
        if (r == -EBADMSG)
                return log_usage("%s: not valid JSON.", path);
        if (r < 0)
                return log_error_errno(r, "Cannot read pod manifest '%s': %m", path);
        if (json_get_array(o, "apps", &apps) < 0 || json_object_array_length(apps) == 0)
                return log_usage("%s: no \"apps\".", path);
        if (json_get_string(o, "name", &v) >= 0 && (r = run_pod_option(path, p, ARG_NAME, v)) < 0)
                return r;
        if (json_get_string(o, "hostname", &v) >= 0 && (r = run_pod_option(path, p, ARG_HOSTNAME, v)) < 0)
                return r;
        if (json_get_array(o, "volumes", &vols) >= 0)
                for (size_t i = 0; i < json_object_array_length(vols); i++) {
                        _cleanup_(pod_volume_done) PodVolume vol = {};

                        r = pod_volume_from_json(json_object_array_get_idx(vols, i), &vol);
                        if (r == -ENOMEM)
                                return log_oom();
                        if (r < 0)
                                return log_usage("%s: volume %zu is not valid (see rocket-stage1(7)).", path, i + 1);
                        r = pod_args_add_volume(path, p, &vol);
                        if (r < 0)
                                return r;
                }
        for (size_t i = 0; i < json_object_array_length(apps); i++) {
                r = json_app(path, json_object_array_get_idx(apps, i), p);
                if (r < 0)
                        return r;
        }
        return 0;
}
