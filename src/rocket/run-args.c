/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <sys/stat.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "log.h"
#include "pod-manifest.h"
#include "run-args.h"
#include "string-util.h"

void app_args_done(AppArgs *a) {
        free(a->image);
        free(a->name);
        free(a->exec);
        strv_free(a->args);
        free(a->user);
        free(a->group);
        free(a->working_dir);
        strv_free(a->env);
        for (size_t i = 0; i < a->n_mounts; i++)
                pod_mount_done(&a->mounts[i]);
        free(a->mounts);
        free(a->ready_path);
        free(a->supplementary_gids);
        free(a->oom_score_adj);
        strv_free(a->sockets);
        isolation_args_done(&a->iso);
}

void pod_args_done(PodArgs *p) {
        free(p->name);
        free(p->hostname);
        free(p->uuid_file);
        strv_free(p->env_file);
        free(p->stage1_path);
        free(p->stage1_name);
        free(p->stage1_from_dir);
        free(p->stage1_hash);
        free(p->pod_file);
        free(p->pod_manifest);
        strv_free(p->annotations);
        strv_free(p->user_annotations);
        strv_free(p->user_labels);
        for (size_t i = 0; i < p->n_volumes; i++)
                pod_volume_done(&p->volumes[i]);
        free(p->volumes);
        app_args_done(&p->defaults);
        isolation_args_done(&p->pod_iso);
        for (size_t i = 0; i < p->n_apps; i++)
                app_args_done(&p->apps[i]);
        free(p->apps);
        net_args_done(&p->net);
}

int pod_args_add_volume(const char *where, PodArgs *p, PodVolume *v) {
        PodVolume *t;

        if (!pod_volume_is_valid(v))
                return log_usage("%s: invalid volume '%s'.", where, strempty(v->name));
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i].name, v->name))
                        return log_usage("%s: volume '%s' is defined twice.", where, v->name);
        t = reallocarray(p->volumes, p->n_volumes + 1, sizeof(PodVolume));
        if (!t)
                return log_oom();
        p->volumes = t;
        p->volumes[p->n_volumes++] = *v;
        *v = (PodVolume) {};
        return 0;
}

int app_args_add_mount(const char *where, AppArgs *a, PodMount *pm) {
        PodMount *t;

        if (!name_is_valid(pm->volume) || !target_is_safe(pm->target))
                return log_usage("%s: invalid mount of volume '%s' at '%s'.", where, strempty(pm->volume),
                                 strempty(pm->target));
        t = reallocarray(a->mounts, a->n_mounts + 1, sizeof(PodMount));
        if (!t)
                return log_oom();
        a->mounts = t;
        a->mounts[a->n_mounts++] = *pm;
        *pm = (PodMount) {};
        return 0;
}

int pod_args_add_app(PodArgs *p, const char *image, AppArgs **ret) {
        AppArgs *t = realloc(p->apps, (p->n_apps + 1) * sizeof(AppArgs));

        if (!t)
                return log_oom();
        p->apps = t;
        t = &p->apps[p->n_apps];
        *t = (AppArgs) { .iso.no_new_privs = -1 };
        t->image = strdup(image);
        if (!t->image)
                return log_oom();
        p->n_apps++;
        *ret = t;
        return 0;
}

/* A stage1 named as rkt named its images: "coreos.com/rkt/stage1-fly:1.30.0", "stage1-fly" and "fly" are all
 * the installed stage1 "fly"; "coreos.com/rkt/stage1-coreos" (or -host, -src) is "systemd". */
int stage1_name_normalize(const char *name, char **ret) {
        const char *base = strrchr(name, '/');
        _cleanup_free_ char *n = NULL;

        base = base ? base + 1 : name;
        n = strndup(base, strcspn(base, ":"));
        if (!n)
                return -ENOMEM;
        if (startswith(n, "stage1-") && n[strlen("stage1-")])
                memmove(n, n + strlen("stage1-"), strlen(n) - strlen("stage1-") + 1);
        if (!name_is_valid(n))
                return -EINVAL;
        /* rkt's systemd-nspawn flavours are all our systemd stage1. */
        if (streq(n, "coreos") || streq(n, "host") || streq(n, "src")) {
                free(n);
                n = strdup("systemd");
                if (!n)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(n);
        return 0;
}

static int set_string(char **dst, const char *v) {
        char *t = strdup(v);

        if (!t)
                return log_oom();
        free(*dst);
        *dst = t;
        return 0;
}

static int check_env(const char *where, const char *kv) {
        const char *eq = strchr(kv, '=');

        if (!eq || eq == kv || strchr(kv, '\n'))
                return log_usage("%s: '%s' is not an environment assignment K=V.", where, kv);
        return 0;
}

const char *spec_get(char **kv, const char *key) {
        size_t n = strlen(key);

        STRV_FOREACH(s, kv)
                if (strneq(*s, key, n) && (*s)[n] == '=')
                        return *s + n + 1;
        return NULL;
}

int spec_check(const char *where, const char *what, const char *spec, char **kv, const char *const *allowed) {
        STRV_FOREACH(s, kv) {
                bool ok = false;

                for (const char *const *a = allowed; *a; a++)
                        if (startswith(*s, *a) && (*s)[strlen(*a)] == '=')
                                ok = true;
                if (!ok)
                        return log_usage("%s: invalid %s '%s': unknown or malformed '%s'.", where, what, spec, *s);
        }
        return 0;
}

int spec_bool(const char *where, const char *spec, const char *v, bool *ret) {
        int b;

        if (!v) {
                *ret = false;
                return 0;
        }
        b = parse_boolean(v);
        if (b < 0)
                return log_usage("%s: invalid boolean '%s' in '%s'.", where, v, spec);
        *ret = b;
        return 0;
}

bool target_is_safe(const char *t) {
        _cleanup_strv_free_ char **parts = NULL;

        if (!t || t[0] != '/' || strv_split(t, "/", &parts) < 0 || !parts)
                return false;
        STRV_FOREACH(c, parts)
                if (streq(*c, "..") || streq(*c, "."))
                        return false;
        return true;
}

/* The syntax of a volume; whether a host source exists is checked when the pod is built. */
/* rkt's mode=, uid=, gid= of an empty volume: octal, and IDs as the pod sees them. */
static int volume_owner_parse(const char *where, const char *name, VolumeKind kind, char **kv, PodVolume *v) {
        const char *mode = spec_get(kv, "mode"), *ids[2] = { spec_get(kv, "uid"), spec_get(kv, "gid") };
        char *end;

        v->mode = POD_VOLUME_MODE_DEFAULT;
        if (kind != VOLUME_EMPTY && (mode || ids[0] || ids[1]))
                return log_usage("%s: volume '%s': mode=, uid= and gid= are for a volume of kind empty.", where, name);
        if (mode) {
                unsigned long m;

                errno = 0;
                m = strtoul(mode, &end, 8);
                if (errno || end == mode || *end || m > 07777)
                        return log_usage("%s: volume '%s': invalid mode '%s' (octal, such as 0770).", where, name, mode);
                v->mode = (mode_t) m;
        }
        for (int i = 0; i < 2; i++) {
                unsigned long id;

                if (!ids[i])
                        continue;
                errno = 0;
                id = strtoul(ids[i], &end, 10);
                if (errno || end == ids[i] || *end || ids[i][0] == '-' || id >= POD_USERNS_SIZE)
                        return log_usage("%s: volume '%s': invalid %s '%s' (0-65535).", where, name,
                                         i == 0 ? "uid" : "gid", ids[i]);
                if (i == 0)
                        v->uid = (uid_t) id;
                else
                        v->gid = (gid_t) id;
        }
        return 0;
}

int volume_spec_parse(const char *where, const char *spec, PodVolume *ret) {
        static const char *const allowed[] = { "kind", "source", "readOnly", "idmap", "mode", "uid", "gid", NULL };
        _cleanup_strv_free_ char **parts = NULL;
        const char *kind, *source;
        PodVolume v = {};
        int r;

        if (strv_split(spec, ",", &parts) < 0)
                return log_oom();
        if (!parts || !name_is_valid(parts[0]))
                return log_usage("%s: invalid volume '%s': it must start with a name (a-z, 0-9, '-').", where, spec);
        r = spec_check(where, "volume", spec, parts + 1, allowed);
        if (r < 0)
                return r;
        kind = spec_get(parts + 1, "kind") ?: "host";
        source = spec_get(parts + 1, "source");
        v.kind = volume_kind_from_string(kind);
        if (v.kind < 0)
                return log_usage("%s: volume '%s': kind must be host or empty, not '%s'.", where, parts[0], kind);
        if (v.kind == VOLUME_HOST && (!source || source[0] != '/'))
                return log_usage("%s: volume '%s' needs source=ABSOLUTE-PATH.", where, parts[0]);
        if (v.kind == VOLUME_EMPTY && source)
                return log_usage("%s: volume '%s' of kind empty takes no source.", where, parts[0]);
        r = spec_bool(where, spec, spec_get(parts + 1, "readOnly"), &v.read_only);
        if (r >= 0)
                r = spec_bool(where, spec, spec_get(parts + 1, "idmap"), &v.idmap);
        if (r < 0)
                return r;
        r = volume_owner_parse(where, parts[0], v.kind, parts + 1, &v);
        if (r < 0)
                return r;
        v.name = strdup(parts[0]);
        v.source = source ? strdup(source) : NULL;
        if (!v.name || (source && !v.source)) {
                free(v.name);
                free(v.source);
                return log_oom();
        }
        *ret = v;
        return 0;
}

int mount_spec_parse(const char *where, const char *spec, PodMount *ret) {
        static const char *const allowed[] = { "volume", "target", "readOnly", NULL };
        _cleanup_strv_free_ char **parts = NULL;
        const char *volume, *target;
        PodMount pm = {};
        int r;

        if (strv_split(spec, ",", &parts) < 0)
                return log_oom();
        r = spec_check(where, "mount", spec, parts, allowed);
        if (r < 0)
                return r;
        volume = spec_get(parts, "volume");
        target = spec_get(parts, "target");
        if (!volume || !target)
                return log_usage("%s: invalid mount '%s': it needs volume=NAME,target=PATH.", where, spec);
        if (!name_is_valid(volume))
                return log_usage("%s: invalid mount '%s': no volume can be named '%s'.", where, spec, volume);
        if (!target_is_safe(target))
                return log_usage("%s: mount target '%s' is not an absolute path inside the app's rootfs.", where,
                                 target);
        r = spec_bool(where, spec, spec_get(parts, "readOnly"), &pm.read_only);
        if (r < 0)
                return r;
        pm.volume = strdup(volume);
        pm.target = strdup(target);
        if (!pm.volume || !pm.target) {
                free(pm.volume);
                free(pm.target);
                return log_oom();
        }
        *ret = pm;
        return 0;
}

int run_app_option(const char *where, AppArgs *a, int option, const char *arg) {
        int r;

        switch (option) {
        case ARG_NAME:
                if (!name_is_valid(arg))
                        return log_usage("%s: invalid app name '%s' (use a-z, 0-9 and '-').", where, arg);
                return set_string(&a->name, arg);
        case ARG_EXEC:
                if (isempty(arg))
                        return log_usage("%s: the command to execute is empty.", where);
                return set_string(&a->exec, arg);
        case ARG_USER:
                if (isempty(arg))
                        return log_usage("%s: the user is empty.", where);
                return set_string(&a->user, arg);
        case ARG_GROUP:
                if (isempty(arg))
                        return log_usage("%s: the group is empty.", where);
                return set_string(&a->group, arg);
        case ARG_WORKDIR:
                if (!target_is_safe(arg) && !streq(arg, "/"))
                        return log_usage("%s: the working directory '%s' is not an absolute path.", where, arg);
                return set_string(&a->working_dir, arg);
        case ARG_ENVIRONMENT:
                r = check_env(where, arg);
                if (r < 0)
                        return r;
                return strv_extend(&a->env, arg) < 0 ? log_oom() : 0;
        case ARG_MOUNT: {
                _cleanup_(pod_mount_done) PodMount pm = {};

                r = mount_spec_parse(where, arg, &pm);
                if (r < 0)
                        return r;
                return app_args_add_mount(where, a, &pm);
        }
        case ARG_READY_PATH:
                if (!target_is_safe(arg))
                        return log_usage("%s: the ready path '%s' is not an absolute path.", where, arg);
                return set_string(&a->ready_path, arg);
        case ARG_STDIN:
        case ARG_STDOUT:
        case ARG_STDERR: {
                int i = option - ARG_STDIN;
                AppIOMode m = app_io_mode_from_string(arg);

                if (m < 0 || (i == 0 && m == APP_IO_LOG))
                        return log_usage("%s: invalid --%s '%s' (%s).", where, (const char *[]) { "stdin", "stdout", "stderr" }[i],
                                         arg, i == 0 ? "null, tty or stream" : "log, null, tty or stream");
                a->io[i] = m;
                a->io_given[i] = true;
                return 0;
        }
        case ARG_SOCKETS: {
                _cleanup_strv_free_ char **l = NULL;

                if (strv_split(arg, ", ", &l) < 0)
                        return log_oom();
                STRV_FOREACH(n, l) {
                        if (strlen(*n) > 255 || strpbrk(*n, ":"))
                                return log_usage("%s: invalid socket name '%s'.", where, *n);
                        if (strv_extend(&a->sockets, *n) < 0)
                                return log_oom();
                }
                return 0;
        }
        case ARG_CAPS_RETAIN:
                strv_free(a->iso.caps_retain);
                a->iso.caps_retain = NULL;
                return isolation_parse_caps(where, arg, &a->iso.caps_retain);
        case ARG_CAPS_REMOVE:
                strv_free(a->iso.caps_remove);
                a->iso.caps_remove = NULL;
                return isolation_parse_caps(where, arg, &a->iso.caps_remove);
        case ARG_SECCOMP:
                r = isolation_parse_seccomp(where, arg);
                if (r < 0)
                        return r;
                return set_string(&a->iso.seccomp, arg);
        case ARG_MEMORY:
                return isolation_parse_memory(where, arg, &a->iso.memory);
        case ARG_CPU:
                return isolation_parse_cpu(where, arg, &a->iso.cpu_milli);
        case ARG_CPU_SHARES: {
                char *end;
                unsigned long v = strtoul(arg, &end, 10);

                if (*end || v < 2 || v > 262144)
                        return log_usage("%s: invalid CPU shares '%s' (2-262144).", where, arg);
                a->iso.cpu_shares = v;
                return 0;
        }
        case ARG_SUPPLEMENTARY_GIDS: {
                _cleanup_strv_free_ char **l = NULL;

                if (strv_split(arg, ",", &l) < 0)
                        return log_oom();
                if (strv_length(l) == 0 || strv_length(l) > 64)
                        return log_usage("%s: invalid --supplementary-gids '%s' (GID,… at most 64).", where, arg);
                STRV_FOREACH(g, l) {
                        char *end;
                        unsigned long v;

                        errno = 0;
                        v = strtoul(*g, &end, 10);
                        if (isempty(*g) || *end || errno || v >= UINT32_MAX || (*g)[0] == '-')
                                return log_usage("%s: invalid group ID '%s' in --supplementary-gids.", where, *g);
                }
                return set_string(&a->supplementary_gids, arg);
        }
        case ARG_OOM_SCORE_ADJ: {
                char *end;
                long v;

                errno = 0;
                v = strtol(arg, &end, 10);
                if (isempty(arg) || *end || errno || v < -1000 || v > 1000)
                        return log_usage("%s: invalid --oom-score-adj '%s' (-1000…1000).", where, arg);
                return set_string(&a->oom_score_adj, arg);
        }
        case ARG_READONLY_ROOTFS:
                r = arg ? parse_boolean(arg) : 1;
                if (r < 0)
                        return log_usage("%s: invalid boolean '%s'.", where, arg);
                a->readonly_rootfs = r;
                a->readonly_rootfs_given = true;
                return 0;
        case ARG_NO_NEW_PRIVS:
                r = parse_boolean(arg);
                if (r < 0)
                        return log_usage("%s: invalid boolean '%s'.", where, arg);
                a->iso.no_new_privs = r;
                return 0;
        default:
                return log_usage("%s: not an app option.", where);
        }
}

/* --flag or --flag=BOOL. */
static int parse_flag(const char *where, const char *arg, bool *ret) {
        int r = arg ? parse_boolean(arg) : 1;

        if (r < 0)
                return log_usage("%s: invalid boolean '%s'.", where, arg);
        *ret = r;
        return 0;
}

int run_pod_option(const char *where, PodArgs *p, int option, const char *arg) {
        int r;

        switch (option) {
        case ARG_NAME:
                if (!machine_name_is_valid(arg))
                        return log_usage("%s: invalid pod name '%s' (a machine name: letters, digits, inner '-' "
                                         "and '.', 64 at the most).", where, arg);
                return set_string(&p->name, arg);
        case ARG_HOSTNAME:
                if (!machine_name_is_valid(arg))
                        return log_usage("%s: invalid hostname '%s'.", where, arg);
                return set_string(&p->hostname, arg);
        case ARG_SET_ENV:
                r = check_env(where, arg);
                if (r < 0)
                        return r;
                return strv_extend(&p->defaults.env, arg) < 0 ? log_oom() : 0;
        case ARG_SET_ENV_FILE: {
                _cleanup_free_ char *text = NULL;
                _cleanup_strv_free_ char **lines = NULL;

                /* rkt's format: K=V per line; blank lines and lines starting with '#' are skipped. */
                _cleanup_close_ int fd = open(arg, O_RDONLY|O_CLOEXEC|O_NONBLOCK|O_NOCTTY);
                struct stat st;

                /* A plain file only: never wait on a FIFO or a terminal. */
                if (fd < 0)
                        return log_error_errno(errno, "%s: cannot read environment file '%s': %m", where, arg);
                if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "%s: cannot read environment file '%s': not a regular file.", where, arg);
                r = read_full_fd(fd, 1U << 20, &text, NULL);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot read environment file '%s': %m", where, arg);
                if (strv_split(text, "\n", &lines) < 0)
                        return log_oom();
                STRV_FOREACH(l, lines) {
                        const char *kv = *l + strspn(*l, " \t");

                        if (isempty(kv) || kv[0] == '#')
                                continue;
                        r = check_env(where, kv);
                        if (r < 0)
                                return r;
                        if (strv_extend(&p->env_file, kv) < 0)
                                return log_oom();
                }
                return 0;
        }
        case ARG_INHERIT_ENV:
                return parse_flag(where, arg, &p->inherit_env);
        case ARG_ANNOTATION:
        case ARG_USER_ANNOTATION:
        case ARG_USER_LABEL: {
                static const char *const what[] = { "annotation", "user annotation", "user label" };
                char ***l = option == ARG_ANNOTATION ? &p->annotations :
                            option == ARG_USER_ANNOTATION ? &p->user_annotations : &p->user_labels;

                if (!pod_annotation_is_valid(arg))
                        return log_usage("%s: invalid %s '%s' (NAME=VALUE: NAME of letters, digits, '.', '_', "
                                         "'-' and '/', 253 at the most; VALUE one line).",
                                         where, what[option - ARG_ANNOTATION], arg);
                return strv_set_kv(l, arg) < 0 ? log_oom() : 0;
        }
        case ARG_VOLUME: {
                _cleanup_(pod_volume_done) PodVolume v = {};

                r = volume_spec_parse(where, arg, &v);
                if (r < 0)
                        return r;
                return pod_args_add_volume(where, p, &v);
        }
        case ARG_UUID_FILE:
                return set_string(&p->uuid_file, arg);
        case ARG_STAGE1_PATH:
                return set_string(&p->stage1_path, arg);
        case ARG_STAGE1_NAME: {
                _cleanup_free_ char *n = NULL;

                r = stage1_name_normalize(arg, &n);
                if (r == -ENOMEM)
                        return log_oom();
                if (r < 0)
                        return log_usage("%s: invalid stage1 name '%s'.", where, arg);
                return set_string(&p->stage1_name, arg);
        }
        case ARG_STAGE1_FROM_DIR:
                if (isempty(arg) || strchr(arg, '/') || streq(arg, ".") || streq(arg, ".."))
                        return log_usage("%s: --stage1-from-dir= takes the name of a stage1 in the stage1 images "
                                         "directory, got '%s'.", where, arg);
                return set_string(&p->stage1_from_dir, arg);
        case ARG_STAGE1_HASH:
                return set_string(&p->stage1_hash, arg);
        case ARG_MEMORY:
        case ARG_CPU:
        case ARG_CPU_SHARES: {
                /* Before the first image, resource limits are the whole pod's. */
                AppArgs tmp = { .iso = p->pod_iso };

                r = run_app_option(where, &tmp, option, arg);
                p->pod_iso = tmp.iso;
                return r;
        }
        case ARG_INSECURE:
                return isolation_parse_insecure(where, arg, &p->insecure);
        case ARG_PULL_POLICY:
                p->pull_policy = pull_policy_from_string(arg);
                if (p->pull_policy < 0)
                        return log_usage("%s: invalid pull policy '%s' (never, new, update).", where, arg);
                return 0;
        case ARG_NO_OVERLAY:
                return parse_flag(where, arg, &p->no_overlay);
        case ARG_MDS_REGISTER:
                return parse_flag(where, arg, &p->mds_register);
        case ARG_IPC:
                /* rkt's values; auto is what both stage1s do by default: an IPC namespace of the pod's. */
                if (!streq(arg, "auto") && !streq(arg, "private") && !streq(arg, "parent"))
                        return log_usage("%s: invalid --ipc '%s' (auto, private or parent).", where, arg);
                p->ipc_parent = streq(arg, "parent");
                return 0;
        case ARG_PIDS_LIMIT: {
                char *end;
                unsigned long long v;

                if (streq(arg, "max") || streq(arg, "infinity")) {
                        p->pids_max = UINT64_MAX;
                        return 0;
                }
                errno = 0;
                v = strtoull(arg, &end, 10);
                if (errno || end == arg || *end || v < 1 || v >= UINT64_MAX || arg[0] == '-')
                        return log_usage("%s: invalid tasks limit '%s' (a number of 1 or more, or max).", where, arg);
                p->pids_max = v;
                return 0;
        }
        case ARG_NET:
        case ARG_PORT:
        case ARG_DNS:
        case ARG_DNS_SEARCH:
        case ARG_DNS_OPT:
        case ARG_DNS_DOMAIN:
        case ARG_HOSTS_ENTRY:
                return net_args_option(where, &p->net, option, arg);
        case ARG_PRIVATE_USERS:
                return parse_flag(where, arg, &p->private_users);
        default:
                return run_app_option(where, &p->defaults, option, arg);
        }
}

int split_words(const char *where, const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *w = malloc(strlen(s) + 1);
        size_t n = 0;
        bool in_word = false;
        char quote = 0;

        if (!w)
                return log_oom();
        for (const char *c = s;; c++) {
                if (!*c || (!quote && strchr(" \t\n", *c))) {
                        if (quote)
                                return log_usage("%s: unterminated quote in '%s'.", where, s);
                        if (in_word) {
                                w[n] = 0;
                                if (strv_extend(&l, w) < 0)
                                        return log_oom();
                                n = 0;
                                in_word = false;
                        }
                        if (!*c)
                                break;
                        continue;
                }
                in_word = true;
                if (quote && *c == quote) {
                        quote = 0;
                        continue;
                }
                if (!quote && (*c == '\'' || *c == '"')) {
                        quote = *c;
                        continue;
                }
                if (*c == '\\' && quote != '\'') {
                        if (!c[1])
                                return log_usage("%s: trailing backslash in '%s'.", where, s);
                        c++;
                }
                w[n++] = *c;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static const struct option app_options[] = {
        APP_OPTIONS,
        {}
};

int run_parse_apps(const char *verb, int argc, char *argv[], int i, PodArgs *p) {
        while (i < argc) {
                AppArgs *a;
                int r;

                if (argv[i][0] == '-')
                        return log_usage("%s: expected an IMAGE, got '%s'.", verb, argv[i]);
                r = pod_args_add_app(p, argv[i++], &a);
                if (r < 0)
                        return r;

                while (i < argc) {
                        const char *s = argv[i], *val = NULL;
                        const struct option *o = NULL;
                        size_t len;

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
                        else if (o->has_arg == optional_argument)
                                val = NULL;     /* only ever --OPTION=VALUE, as getopt has it */
                        else if (i + 1 < argc)
                                val = argv[++i];
                        else
                                return log_usage("%s: option '%s' needs an argument.", verb, s);
                        r = run_app_option(verb, a, o->val, val);
                        if (r < 0)
                                return r;
                        i++;
                }
        }
        return 0;
}
