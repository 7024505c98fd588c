/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "pod-manifest.h"
#include "string-util.h"

#define POD_MANIFEST_SIZE_MAX (4U << 20)

void pod_app_exec_init(const PodApp *a, const char *root, AppExec *ret) {
        *ret = (AppExec) {
                .name = a->name,
                .root = root,
                .user = a->user,
                .group = a->group,
                .workdir = a->working_dir,
                .extra_gids = a->supplementary_gids,
                .n_extra_gids = a->n_supplementary_gids,
                .oom_score_adj = a->oom_score_adj,
                .oom_score_adj_set = a->oom_score_adj_set,
                .caps = a->caps,
                .caps_all = a->caps_all,
                .no_new_privs = a->no_new_privs,
                .no_user_namespaces = a->no_user_namespaces,
                .mask_paths = a->mask_paths,
                .seccomp_mode = a->seccomp_mode,
                .seccomp_syscalls = a->seccomp_syscalls,
                .seccomp_errno = a->seccomp_errno,
                .env = a->env,
                .argv = a->exec,
        };
}

int pod_app_exec_for_enter(const PodApp *a, const char *root, const char *user, const char *group,
                           char *const *cmd, AppExec *ret, char ***ret_env) {
        _cleanup_strv_free_ char **env = NULL;
        const char *term = getenv("TERM");

        /* The app's environment, and the caller's terminal type. */
        STRV_FOREACH(v, a->env)
                if (strv_extend(&env, *v) < 0)
                        return -ENOMEM;
        if (term && strv_extend(&env, strjoina("TERM=", term)) < 0)
                return -ENOMEM;
        pod_app_exec_init(a, root, ret);
        /* --user alone: that user's own group; --group alone: the app's user with that group. */
        if (user) {
                ret->user = user;
                ret->group = group;
        } else if (group)
                ret->group = group;
        ret->env = env;
        ret->argv = cmd;
        *ret_env = TAKE_PTR(env);
        return 0;
}

static const char *const volume_kind_table[_VOLUME_KIND_MAX] = {
        [VOLUME_HOST] = "host",
        [VOLUME_EMPTY] = "empty",
};
DEFINE_STRING_TABLE(volume_kind, VolumeKind, _VOLUME_KIND_MAX);

void pod_app_done(PodApp *a) {
        free(a->name);
        free(a->image_id);
        free(a->image_name);
        free(a->image_signer);
        free(a->layers_dir);
        strv_free(a->layers);
        strv_free(a->exec);
        strv_free(a->pre_start);
        strv_free(a->post_stop);
        strv_free(a->annotations);
        strv_free(a->env);
        free(a->working_dir);
        free(a->user);
        free(a->group);
        for (size_t i = 0; i < a->n_mounts; i++) {
                free(a->mounts[i].volume);
                free(a->mounts[i].target);
        }
        free(a->mounts);
        free(a->ready_path);
        free(a->supplementary_gids);
        strv_free(a->sockets);
        strv_free(a->caps);
        free(a->seccomp_mode);
        strv_free(a->seccomp_syscalls);
        free(a->seccomp_errno);
}

PodManifest *pod_manifest_free(PodManifest *m) {
        if (!m)
                return NULL;
        free(m->uuid);
        free(m->name);
        free(m->hostname);
        free(m->stage1);
        for (size_t i = 0; i < m->n_apps; i++)
                pod_app_done(&m->apps[i]);
        free(m->apps);
        for (size_t i = 0; i < m->n_volumes; i++) {
                free(m->volumes[i].name);
                free(m->volumes[i].source);
        }
        free(m->volumes);
        pod_net_done(&m->net);
        strv_free(m->annotations);
        strv_free(m->user_annotations);
        strv_free(m->user_labels);
        free(m);
        return NULL;
}

bool pod_annotation_is_valid(const char *kv) {
        size_t n = strcspn(kv, "=");

        if (n == 0 || n > 253 || !kv[n] || strlen(kv + n + 1) > 4096 || strpbrk(kv + n + 1, "\n\r"))
                return false;
        if (!((kv[0] >= 'a' && kv[0] <= 'z') || (kv[0] >= 'A' && kv[0] <= 'Z') || (kv[0] >= '0' && kv[0] <= '9')))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/", kv[i]))
                        return false;
        return true;
}

int pod_annotations_to_json(json_object *o, const char *key, char *const *l) {
        _cleanup_(json_object_putp) json_object *a = NULL;

        if (strv_length((char **) l) == 0)
                return 0;
        a = json_object_new_object();
        if (!a)
                return -ENOMEM;
        STRV_FOREACH(e, (char **) l) {
                size_t n = strcspn(*e, "=");
                _cleanup_free_ char *name = strndup(*e, n);

                if (!name || json_add_string(a, name, *e + n + 1) < 0)
                        return -ENOMEM;
        }
        return json_add(o, key, TAKE_PTR(a));
}

static int annotations_from_json(json_object *o, const char *key, char ***ret) {
        json_object *a;

        if (!json_object_object_get_ex(o, key, &a))
                return 0;
        if (!json_object_is_type(a, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(a, name, v) {
                _cleanup_free_ char *kv = NULL;

                if (!json_object_is_type(v, json_type_string))
                        return -EBADMSG;
                if (asprintf(&kv, "%s=%s", name, json_object_get_string(v)) < 0)
                        return -ENOMEM;
                if (!pod_annotation_is_valid(kv))
                        return -EBADMSG;
                if (strv_set_kv(ret, kv) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* What add_identity() writes beyond the identity: whether the pod is a sandbox, its annotations. */
static int identity_extras_from_json(json_object *o, PodManifest *m) {
        int r = json_get_bool(o, "sandbox", &m->sandbox);

        if (r < 0 && r != -ENOENT)
                return -EBADMSG;
        r = annotations_from_json(o, "annotations", &m->annotations);
        if (r >= 0)
                r = annotations_from_json(o, "userAnnotations", &m->user_annotations);
        if (r >= 0)
                r = annotations_from_json(o, "userLabels", &m->user_labels);
        return r;
}

int pod_manifest_add_app(PodManifest *m, PodApp *a) {
        PodApp *t = reallocarray(m->apps, m->n_apps + 1, sizeof(PodApp));

        if (!t)
                return -ENOMEM;
        m->apps = t;
        m->apps[m->n_apps++] = *a;
        *a = (PodApp) {};
        return 0;
}

int pod_manifest_add_implicit_volumes(PodManifest *m, const PodApp *a) {
        for (size_t i = 0; i < a->n_mounts; i++) {
                PodVolume *t;

                if (!a->mounts[i].copy_up || pod_manifest_find_volume(m, a->mounts[i].volume))
                        continue;
                t = reallocarray(m->volumes, m->n_volumes + 1, sizeof(PodVolume));
                if (!t)
                        return -ENOMEM;
                m->volumes = t;
                t[m->n_volumes] = (PodVolume) {
                        .name = strdup(a->mounts[i].volume),
                        .kind = VOLUME_EMPTY,
                        .mode = POD_VOLUME_MODE_DEFAULT,
                };
                if (!t[m->n_volumes].name)
                        return -ENOMEM;
                m->n_volumes++;
        }
        return 0;
}

int pod_manifest_remove_app(PodManifest *m, const char *name) {
        for (size_t i = 0; i < m->n_apps; i++)
                if (streq(m->apps[i].name, name)) {
                        pod_app_done(&m->apps[i]);
                        memmove(m->apps + i, m->apps + i + 1, (m->n_apps - i - 1) * sizeof(PodApp));
                        m->n_apps--;
                        return 0;
                }
        return -ENOENT;
}

const PodApp *pod_manifest_find_app(const PodManifest *m, const char *name) {
        for (size_t i = 0; i < m->n_apps; i++)
                if (streq(m->apps[i].name, name))
                        return &m->apps[i];
        return NULL;
}

const PodVolume *pod_manifest_find_volume(const PodManifest *m, const char *name) {
        for (size_t i = 0; i < m->n_volumes; i++)
                if (streq(m->volumes[i].name, name))
                        return &m->volumes[i];
        return NULL;
}

int pod_machine_id(const char *uuid, char ret[static 33]) {
        size_t n = 0;

        for (const char *p = uuid; *p; p++) {
                if (*p == '-')
                        continue;
                if (!strchr("0123456789abcdef", *p) || n >= 32)
                        return -EINVAL;
                ret[n++] = *p;
        }
        if (n != 32)
                return -EINVAL;
        ret[32] = 0;
        return 0;
}

static int add_opt_string(json_object *o, const char *key, const char *v) {
        return v ? json_add_string(o, key, v) : 0;
}

static int app_to_json(const PodApp *a, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *mounts = json_object_new_array();
        int r;

        if (!o || !mounts)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_mounts; i++) {
                json_object *mo = json_object_new_object();

                if (!mo || json_object_array_add(mounts, mo) < 0) {
                        json_object_put(mo);
                        return -ENOMEM;
                }
                if (json_add_string(mo, "volume", a->mounts[i].volume) < 0 ||
                    json_add_string(mo, "target", a->mounts[i].target) < 0 ||
                    json_add(mo, "readOnly", json_object_new_boolean(a->mounts[i].read_only)) < 0 ||
                    (a->mounts[i].copy_up && json_add(mo, "copyUp", json_object_new_boolean(true)) < 0))
                        return -ENOMEM;
        }
        r = json_add_string(o, "name", a->name);
        if (r >= 0)
                r = json_add_string(o, "image", a->image_id);
        if (r >= 0)
                r = add_opt_string(o, "imageName", a->image_name);
        if (r >= 0)
                r = add_opt_string(o, "imageSignedBy", a->image_signer);
        if (r >= 0)
                r = json_add_string(o, "layersDir", a->layers_dir);
        if (r >= 0)
                r = json_add(o, "layers", strv_to_json(a->layers));
        if (r >= 0)
                r = json_add(o, "exec", strv_to_json(a->exec));
        if (r >= 0)
                r = json_add(o, "environment", strv_to_json(a->env));
        if (r >= 0)
                r = add_opt_string(o, "workingDirectory", a->working_dir);
        if (r >= 0)
                r = add_opt_string(o, "user", a->user);
        if (r >= 0)
                r = add_opt_string(o, "group", a->group);
        if (r >= 0)
                r = add_opt_string(o, "readyPath", a->ready_path);
        if (r >= 0)
                r = pod_annotations_to_json(o, "annotations", a->annotations);
        if (r >= 0 && a->pre_start)
                r = json_add(o, "preStart", strv_to_json(a->pre_start));
        if (r >= 0 && a->post_stop)
                r = json_add(o, "postStop", strv_to_json(a->post_stop));
        for (int i = 0; i < 3 && r >= 0; i++)
                if (a->io[i] != (i == 0 ? APP_IO_NULL : APP_IO_LOG))
                        r = json_add_string(o, (const char *[]) { "stdin", "stdout", "stderr" }[i],
                                            app_io_mode_to_string(a->io[i]));
        if (r >= 0 && a->interactive)
                r = json_add(o, "interactive", json_object_new_boolean(true));
        if (r >= 0 && a->readonly_rootfs)
                r = json_add(o, "readOnlyRootfs", json_object_new_boolean(true));
        if (r >= 0 && a->n_supplementary_gids > 0) {
                json_object *g = json_object_new_array();

                r = json_add(o, "supplementaryGids", g);
                for (size_t i = 0; r >= 0 && i < a->n_supplementary_gids; i++)
                        if (json_object_array_add(g, json_object_new_int64(a->supplementary_gids[i])) < 0)
                                r = -ENOMEM;
        }
        if (r >= 0 && a->oom_score_adj_set)
                r = json_add_int64(o, "oomScoreAdj", a->oom_score_adj);
        if (r >= 0)
                r = json_add(o, "capabilities", a->caps_all ? json_object_new_string("all") : strv_to_json(a->caps));
        if (r >= 0 && a->seccomp_mode) {
                json_object *sc = json_object_new_object();

                r = json_add(o, "seccomp", sc);
                if (r >= 0)
                        r = json_add_string(sc, "mode", a->seccomp_mode);
                if (r >= 0)
                        r = json_add(sc, "syscalls", strv_to_json(a->seccomp_syscalls));
                if (r >= 0)
                        r = add_opt_string(sc, "errno", a->seccomp_errno);
        }
        if (r >= 0)
                r = json_add(o, "noNewPrivileges", json_object_new_boolean(a->no_new_privs));
        if (r >= 0)
                r = json_add(o, "maskPaths", json_object_new_boolean(a->mask_paths));
        if (r >= 0)
                r = json_add(o, "noUserNamespaces", json_object_new_boolean(a->no_user_namespaces));
        if (r >= 0 && a->memory_max)
                r = json_add_int64(o, "memoryMax", (int64_t) a->memory_max);
        if (r >= 0 && a->cpu_quota_milli)
                r = json_add_int64(o, "cpuQuotaMilli", (int64_t) a->cpu_quota_milli);
        if (r >= 0 && a->cpu_weight)
                r = json_add_int64(o, "cpuWeight", (int64_t) a->cpu_weight);
        if (r >= 0 && a->sockets)
                r = json_add(o, "sockets", strv_to_json(a->sockets));
        if (r >= 0)
                r = json_add(o, "mounts", TAKE_PTR(mounts));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

/* The members the manifest and its summary share. */
static int add_identity(json_object *o, const PodManifest *m) {
        int r = json_add_int64(o, "version", POD_MANIFEST_VERSION);

        if (r >= 0)
                r = json_add_string(o, "uuid", m->uuid);
        if (r >= 0)
                r = json_add_string(o, "name", m->name);
        if (r >= 0)
                r = json_add_int64(o, "created", (int64_t) m->created_usec);
        if (r >= 0 && m->userns_base)
                r = json_add_int64(o, "privateUsers", (int64_t) m->userns_base);
        if (r >= 0 && m->sandbox)
                r = json_add(o, "sandbox", json_object_new_boolean(true));
        /* For tools that pick pods by them (rocket list --format=json shows them from the summary). */
        if (r >= 0)
                r = pod_annotations_to_json(o, "annotations", m->annotations);
        if (r >= 0)
                r = pod_annotations_to_json(o, "userAnnotations", m->user_annotations);
        if (r >= 0)
                r = pod_annotations_to_json(o, "userLabels", m->user_labels);
        return r;
}

int pod_manifest_to_json(const PodManifest *m, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *apps = json_object_new_array(),
                *vols = json_object_new_array();
        int r;

        if (!o || !apps || !vols)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_apps; i++) {
                json_object *ao = NULL;

                r = app_to_json(&m->apps[i], &ao);
                if (r < 0)
                        return r;
                if (json_object_array_add(apps, ao) < 0) {
                        json_object_put(ao);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < m->n_volumes; i++) {
                const PodVolume *v = &m->volumes[i];
                json_object *vo = json_object_new_object();

                if (!vo || json_object_array_add(vols, vo) < 0) {
                        json_object_put(vo);
                        return -ENOMEM;
                }
                if (json_add_string(vo, "name", v->name) < 0 ||
                    json_add_string(vo, "kind", volume_kind_to_string(v->kind)) < 0 ||
                    add_opt_string(vo, "source", v->source) < 0 ||
                    json_add(vo, "readOnly", json_object_new_boolean(v->read_only)) < 0 ||
                    (v->idmap && json_add(vo, "idmap", json_object_new_boolean(true)) < 0))
                        return -ENOMEM;
                if (v->kind == VOLUME_EMPTY &&
                    (json_add_int64(vo, "mode", (int64_t) v->mode) < 0 || json_add_int64(vo, "uid", (int64_t) v->uid) < 0 ||
                     json_add_int64(vo, "gid", (int64_t) v->gid) < 0))
                        return -ENOMEM;
        }
        r = add_identity(o, m);
        if (r >= 0)
                r = json_add_string(o, "hostname", m->hostname);
        if (r >= 0 && m->ipc_parent)
                r = json_add_string(o, "ipc", "parent");
        if (r >= 0 && m->no_overlay)
                r = json_add(o, "noOverlay", json_object_new_boolean(true));
        if (r >= 0 && m->mds_register)
                r = json_add(o, "mdsRegister", json_object_new_boolean(true));
        if (r >= 0)
                r = json_add_string(o, "stage1", m->stage1);
        if (r >= 0)
                r = json_add(o, "apps", TAKE_PTR(apps));
        if (r >= 0)
                r = json_add(o, "volumes", TAKE_PTR(vols));
        if (r >= 0 && m->memory_max)
                r = json_add_int64(o, "memoryMax", (int64_t) m->memory_max);
        if (r >= 0 && m->cpu_quota_milli)
                r = json_add_int64(o, "cpuQuotaMilli", (int64_t) m->cpu_quota_milli);
        if (r >= 0 && m->cpu_weight)
                r = json_add_int64(o, "cpuWeight", (int64_t) m->cpu_weight);
        if (r >= 0)
                r = m->pids_max == UINT64_MAX ? json_add_string(o, "pidsLimit", "max")
                                              : json_add_int64(o, "pidsLimit", (int64_t) m->pids_max);
        if (r >= 0) {
                json_object *net = NULL;

                r = pod_net_to_json(&m->net, &net);
                if (r >= 0)
                        r = json_add(o, "net", net);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static bool path_is_safe_absolute(const char *p) {
        _cleanup_strv_free_ char **parts = NULL;

        if (!p || p[0] != '/' || strv_split(p, "/", &parts) < 0)
                return false;
        STRV_FOREACH(c, parts)
                if (streq(*c, ".."))
                        return false;
        return true;
}

static bool layer_name_is_valid(const char *s) {
        const char *hex = startswith(s, "sha256-");

        if (!hex || strlen(hex) != 64)
                return false;
        return strspn(hex, "0123456789abcdef") == 64;
}

/* Optional string member: missing → NULL. */
static int get_opt_string(json_object *o, const char *key, char **ret) {
        const char *s;
        int r;

        r = json_get_string(o, key, &s);
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int get_req_string(json_object *o, const char *key, char **ret) {
        int r = get_opt_string(o, key, ret);

        if (r < 0)
                return r;
        return *ret ? 0 : -EBADMSG;
}

/* An empty volume's mode and owner: absent, rkt's defaults (0755, root). */
static int volume_owner_from_json(json_object *vo, PodVolume *v) {
        int64_t x;
        int r;

        v->mode = POD_VOLUME_MODE_DEFAULT;
        r = json_get_int64(vo, "mode", &x);
        if (r >= 0 && (x < 0 || x > 07777))
                return -EBADMSG;
        if (r >= 0)
                v->mode = (mode_t) x;
        else if (r != -ENOENT)
                return -EBADMSG;
        for (int i = 0; i < 2; i++) {
                r = json_get_int64(vo, i == 0 ? "uid" : "gid", &x);
                if (r == -ENOENT)
                        continue;
                if (r < 0 || x < 0 || x >= POD_USERNS_SIZE)
                        return -EBADMSG;
                if (i == 0)
                        v->uid = (uid_t) x;
                else
                        v->gid = (gid_t) x;
        }
        return 0;
}

bool pod_volume_is_valid(const PodVolume *v) {
        if (!name_is_valid(v->name) || v->kind < 0 || v->kind >= _VOLUME_KIND_MAX || v->mode > 07777 ||
            v->uid >= POD_USERNS_SIZE || v->gid >= POD_USERNS_SIZE)
                return false;
        if (v->kind == VOLUME_HOST)
                return path_is_safe_absolute(v->source) && v->mode == POD_VOLUME_MODE_DEFAULT && v->uid == 0 &&
                       v->gid == 0;
        return !v->source && !v->idmap;
}

int pod_volume_from_json(json_object *vo, PodVolume *ret) {
        _cleanup_(pod_volume_done) PodVolume v = {};
        _cleanup_free_ char *kind = NULL;
        int r;

        if (!json_object_is_type(vo, json_type_object))
                return -EBADMSG;
        r = get_req_string(vo, "name", &v.name);
        if (r >= 0)
                r = get_opt_string(vo, "kind", &kind);
        if (r >= 0)
                r = get_opt_string(vo, "source", &v.source);
        if (r >= 0)
                r = json_get_bool(vo, "readOnly", &v.read_only);
        if (r == -ENOENT)
                r = 0;
        if (r >= 0 && json_get_bool(vo, "idmap", &v.idmap) == -EBADMSG)
                r = -EBADMSG;
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        r = volume_owner_from_json(vo, &v);
        if (r < 0)
                return r;
        v.kind = kind ? volume_kind_from_string(kind) : VOLUME_HOST;
        if (!pod_volume_is_valid(&v))
                return -EBADMSG;
        *ret = v;
        v = (PodVolume) {};
        return 0;
}

int pod_mount_from_json(json_object *mo, PodMount *ret) {
        _cleanup_(pod_mount_done) PodMount pm = {};
        int r;

        if (!json_object_is_type(mo, json_type_object))
                return -EBADMSG;
        r = get_req_string(mo, "volume", &pm.volume);
        if (r >= 0)
                r = get_req_string(mo, "target", &pm.target);
        if (r >= 0)
                r = json_get_bool(mo, "readOnly", &pm.read_only);
        if (r == -ENOENT)
                r = 0;
        if (r >= 0) {
                r = json_get_bool(mo, "copyUp", &pm.copy_up);
                if (r == -ENOENT)
                        r = 0;
        }
        if (r < 0)
                return r;
        if (!name_is_valid(pm.volume) || !path_is_safe_absolute(pm.target))
                return -EBADMSG;
        *ret = pm;
        pm = (PodMount) {};
        return 0;
}

void pod_volume_done(PodVolume *v) {
        free(v->name);
        free(v->source);
        *v = (PodVolume) {};
}

void pod_mount_done(PodMount *pm) {
        free(pm->volume);
        free(pm->target);
        *pm = (PodMount) {};
}

int pod_volume_copy(const PodVolume *v, PodVolume *ret) {
        PodVolume c = *v;

        c.name = strdup(v->name);
        c.source = v->source ? strdup(v->source) : NULL;
        if (!c.name || (v->source && !c.source)) {
                pod_volume_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int pod_mount_copy(const PodMount *pm, PodMount *ret) {
        PodMount c = *pm;

        c.volume = strdup(pm->volume);
        c.target = strdup(pm->target);
        if (!c.volume || !c.target) {
                pod_mount_done(&c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static int app_from_json(json_object *o, PodApp *a) {
        json_object *mounts;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        r = get_req_string(o, "name", &a->name);
        if (r < 0)
                return r;
        if (!name_is_valid(a->name))
                return -EBADMSG;
        r = get_req_string(o, "image", &a->image_id);
        if (r >= 0)
                r = get_opt_string(o, "imageName", &a->image_name);
        if (r >= 0)
                r = get_opt_string(o, "imageSignedBy", &a->image_signer);
        if (r >= 0)
                r = get_req_string(o, "layersDir", &a->layers_dir);
        if (r >= 0)
                r = json_get_strv(o, "layers", &a->layers);
        if (r >= 0)
                r = json_get_strv(o, "exec", &a->exec);
        if (r >= 0)
                r = json_get_strv(o, "environment", &a->env);
        if (r == -ENOENT)
                r = 0;
        if (r >= 0)
                r = get_opt_string(o, "workingDirectory", &a->working_dir);
        if (r >= 0)
                r = get_opt_string(o, "user", &a->user);
        if (r >= 0)
                r = get_opt_string(o, "group", &a->group);
        if (r >= 0)
                r = get_opt_string(o, "readyPath", &a->ready_path);
        if (r >= 0) {
                r = json_get_strv(o, "sockets", &a->sockets);
                if (r == -ENOENT)
                        r = 0;
        }
        if (r >= 0)
                r = annotations_from_json(o, "annotations", &a->annotations);
        if (r >= 0) {
                r = json_get_strv(o, "preStart", &a->pre_start);
                if (r == -ENOENT)
                        r = 0;
        }
        if (r >= 0) {
                r = json_get_strv(o, "postStop", &a->post_stop);
                if (r == -ENOENT)
                        r = 0;
        }
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        if (a->ready_path && !path_is_safe_absolute(a->ready_path))
                return -EBADMSG;
        if ((a->pre_start && isempty(a->pre_start[0])) || (a->post_stop && isempty(a->post_stop[0])))
                return -EBADMSG;
        for (int i = 0; i < 3; i++) {
                const char *v;

                a->io[i] = i == 0 ? APP_IO_NULL : APP_IO_LOG;
                r = json_get_string(o, (const char *[]) { "stdin", "stdout", "stderr" }[i], &v);
                if (r == -ENOENT)
                        continue;
                if (r < 0 || (a->io[i] = app_io_mode_from_string(v)) < 0)
                        return -EBADMSG;
        }
        if (!pod_app_io_is_valid(a->io))
                return -EBADMSG;
        r = json_get_bool(o, "interactive", &a->interactive);
        if (r < 0 && r != -ENOENT)
                return -EBADMSG;
        r = json_get_bool(o, "readOnlyRootfs", &a->readonly_rootfs);
        if (r < 0 && r != -ENOENT)
                return -EBADMSG;
        {
                json_object *g;
                int64_t v;

                if (json_object_object_get_ex(o, "supplementaryGids", &g)) {
                        size_t n;

                        if (!json_object_is_type(g, json_type_array))
                                return -EBADMSG;
                        n = json_object_array_length(g);
                        a->supplementary_gids = calloc(n + 1, sizeof(gid_t));
                        if (!a->supplementary_gids)
                                return -ENOMEM;
                        for (size_t i = 0; i < n; i++) {
                                json_object *x = json_object_array_get_idx(g, i);

                                if (!json_object_is_type(x, json_type_int) || json_object_get_int64(x) < 0 ||
                                    json_object_get_int64(x) >= UINT32_MAX)
                                        return -EBADMSG;
                                a->supplementary_gids[a->n_supplementary_gids++] = (gid_t) json_object_get_int64(x);
                        }
                }
                r = json_get_int64(o, "oomScoreAdj", &v);
                if (r >= 0) {
                        if (v < -1000 || v > 1000)
                                return -EBADMSG;
                        a->oom_score_adj = (int) v;
                        a->oom_score_adj_set = true;
                } else if (r != -ENOENT)
                        return -EBADMSG;
        }
        {
                json_object *caps = NULL, *sc = NULL;
                int64_t v;

                /* Fail closed: a missing or ill-typed set is an error, never "all capabilities". */
                if (json_object_object_get_ex(o, "capabilities", &caps) && json_object_is_type(caps, json_type_string)) {
                        if (!streq(json_object_get_string(caps), "all"))
                                return -EBADMSG;
                        a->caps_all = true;
                } else if (json_get_strv(o, "capabilities", &a->caps) < 0)
                        return -EBADMSG;
                if (json_get_object(o, "seccomp", &sc) >= 0) {
                        r = get_req_string(sc, "mode", &a->seccomp_mode);
                        if (r >= 0)
                                r = json_get_strv(sc, "syscalls", &a->seccomp_syscalls);
                        if (r >= 0)
                                r = get_opt_string(sc, "errno", &a->seccomp_errno);
                        if (r < 0 || !(streq(a->seccomp_mode, "remove") || streq(a->seccomp_mode, "retain")))
                                return -EBADMSG;
                }
                if (json_get_bool(o, "noNewPrivileges", &a->no_new_privs) < 0)
                        a->no_new_privs = false;
                if (json_get_bool(o, "maskPaths", &a->mask_paths) < 0)
                        a->mask_paths = false;
                if (json_get_bool(o, "noUserNamespaces", &a->no_user_namespaces) < 0)
                        a->no_user_namespaces = false;
                if (json_get_int64(o, "memoryMax", &v) >= 0 && v > 0)
                        a->memory_max = (uint64_t) v;
                if (json_get_int64(o, "cpuQuotaMilli", &v) >= 0 && v > 0)
                        a->cpu_quota_milli = (uint64_t) v;
                if (json_get_int64(o, "cpuWeight", &v) >= 0 && v > 0)
                        a->cpu_weight = (uint64_t) MIN(v, 10000);
        }
        if (!path_is_safe_absolute(a->layers_dir) || strv_length(a->layers) == 0 || strv_length(a->exec) == 0)
                return -EBADMSG;
        STRV_FOREACH(l, a->layers)
                if (!layer_name_is_valid(*l))
                        return -EBADMSG;
        if (a->working_dir && !path_is_safe_absolute(a->working_dir))
                return -EBADMSG;

        r = json_get_array(o, "mounts", &mounts);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        a->n_mounts = json_object_array_length(mounts);
        a->mounts = calloc(a->n_mounts ?: 1, sizeof(PodMount));
        if (!a->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < a->n_mounts; i++) {
                r = pod_mount_from_json(json_object_array_get_idx(mounts, i), &a->mounts[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_manifest_from_json(json_object *o, PodManifest **ret) {
        _cleanup_(pod_manifest_freep) PodManifest *m = calloc(1, sizeof(PodManifest));
        json_object *apps, *vols;
        int64_t version, created;
        int r;

        if (!m)
                return -ENOMEM;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        r = json_get_int64(o, "version", &version);
        if (r < 0 || version != POD_MANIFEST_VERSION)
                return -EBADMSG;
        r = get_req_string(o, "uuid", &m->uuid);
        if (r >= 0)
                r = get_req_string(o, "name", &m->name);
        if (r >= 0)
                r = get_req_string(o, "hostname", &m->hostname);
        if (r >= 0) {
                const char *ipc;

                /* Absent: an IPC namespace of the pod's. */
                if (json_get_string(o, "ipc", &ipc) >= 0) {
                        if (!streq(ipc, "parent") && !streq(ipc, "private"))
                                return -EBADMSG;
                        m->ipc_parent = streq(ipc, "parent");
                }
                r = json_get_bool(o, "noOverlay", &m->no_overlay);
                if (r == -ENOENT)
                        r = 0;
                if (r >= 0) {
                        r = json_get_bool(o, "mdsRegister", &m->mds_register);
                        if (r == -ENOENT)
                                r = 0;
                }
        }
        if (r >= 0)
                r = get_req_string(o, "stage1", &m->stage1);
        if (r >= 0)
                r = json_get_int64(o, "created", &created);
        if (r >= 0)
                r = json_get_array(o, "apps", &apps);
        if (r < 0)
                return r == -ENOENT ? -EBADMSG : r;
        {
                char mid[33];

                if (pod_machine_id(m->uuid, mid) < 0 || !machine_name_is_valid(m->name) ||
                    !path_is_safe_absolute(m->stage1) || (m->hostname && !machine_name_is_valid(m->hostname)))
                        return -EBADMSG;
        }
        m->created_usec = (uint64_t) MAX(created, 0);
        {
                int64_t v;

                if (json_get_int64(o, "memoryMax", &v) >= 0 && v > 0)
                        m->memory_max = (uint64_t) v;
                if (json_get_int64(o, "cpuQuotaMilli", &v) >= 0 && v > 0)
                        m->cpu_quota_milli = (uint64_t) v;
                if (json_get_int64(o, "cpuWeight", &v) >= 0 && v > 0)
                        m->cpu_weight = (uint64_t) MIN(v, 10000);
                /* Absent (a pod of an older rocket): the default. */
                m->pids_max = POD_PIDS_MAX_DEFAULT;
                if (json_get_int64(o, "pidsLimit", &v) >= 0) {
                        if (v <= 0)
                                return -EBADMSG;
                        m->pids_max = (uint64_t) v;
                } else {
                        json_object *pl = NULL;

                        if (json_object_object_get_ex(o, "pidsLimit", &pl)) {
                                if (!json_object_is_type(pl, json_type_string) || !streq(json_object_get_string(pl), "max"))
                                        return -EBADMSG;
                                m->pids_max = UINT64_MAX;
                        }
                }
                if (json_get_int64(o, "privateUsers", &v) >= 0) {
                        if (v < POD_USERNS_FIRST || v > POD_USERNS_LAST || v % POD_USERNS_SIZE)
                                return -EBADMSG;
                        m->userns_base = (uint32_t) v;
                }
        }
        r = identity_extras_from_json(o, m);
        if (r < 0)
                return r;

        /* Only a sandbox starts with no apps (rocket app add brings them). */
        m->n_apps = json_object_array_length(apps);
        if (m->n_apps == 0 && !m->sandbox)
                return -EBADMSG;
        m->apps = calloc(m->n_apps ?: 1, sizeof(PodApp));
        if (!m->apps)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_apps; i++) {
                r = app_from_json(json_object_array_get_idx(apps, i), &m->apps[i]);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(m->apps[j].name, m->apps[i].name))
                                return -EBADMSG;
        }

        r = json_get_array(o, "volumes", &vols);
        if (r < 0 && r != -ENOENT)
                return r;
        m->n_volumes = r < 0 ? 0 : json_object_array_length(vols);
        m->volumes = calloc(m->n_volumes ?: 1, sizeof(PodVolume));
        if (!m->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_volumes; i++) {
                PodVolume *v = &m->volumes[i];

                r = pod_volume_from_json(json_object_array_get_idx(vols, i), v);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(m->volumes[j].name, v->name))
                                return -EBADMSG;
        }
        /* Every mount names a known volume. */
        for (size_t i = 0; i < m->n_apps; i++)
                for (size_t j = 0; j < m->apps[i].n_mounts; j++)
                        if (!pod_manifest_find_volume(m, m->apps[i].mounts[j].volume))
                                return -EBADMSG;
        {
                json_object *net = NULL;

                r = pod_net_from_json(json_object_object_get_ex(o, "net", &net) ? net : NULL, &m->net);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int pod_manifest_load_at(int dir_fd, const char *path, PodManifest **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        int r;

        r = json_parse_file_at(dir_fd, path, POD_MANIFEST_SIZE_MAX, &o);
        if (r < 0)
                return r;
        return pod_manifest_from_json(o, ret);
}

int pod_manifest_save_at(int dir_fd, const char *path, const PodManifest *m) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        int r;

        r = pod_manifest_to_json(m, &o);
        if (r < 0)
                return r;
        return json_write_file_atomic_at(dir_fd, path, o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
                                         0644);
}

/* The summary: what `rocket list` shows of a pod, a fraction of the manifest's size. */
int pod_manifest_save_summary_at(int dir_fd, const char *path, const PodManifest *m) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *apps = json_object_new_array();
        int r = 0;

        if (!o || !apps)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_apps && r >= 0; i++) {
                json_object *ao = json_object_new_object();

                if (!ao || json_object_array_add(apps, ao) < 0) {
                        json_object_put(ao);
                        return -ENOMEM;
                }
                r = json_add_string(ao, "name", m->apps[i].name);
                if (r >= 0)
                        r = json_add_string(ao, "image", m->apps[i].image_id);
                if (r >= 0)
                        r = add_opt_string(ao, "imageName", m->apps[i].image_name);
        }
        if (r >= 0)
                r = add_identity(o, m);
        if (r >= 0)
                r = json_add(o, "apps", TAKE_PTR(apps));
        if (r < 0)
                return r;
        return json_write_file_atomic_at(dir_fd, path, o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, 0644);
}

int pod_manifest_load_summary_at(int dir_fd, const char *path, PodManifest **ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_(pod_manifest_freep) PodManifest *m = calloc(1, sizeof(PodManifest));
        json_object *apps;
        int64_t v;
        char mid[33];
        int r;

        if (!m)
                return -ENOMEM;
        r = json_parse_file_at(dir_fd, path, 64 * 1024, &o);
        if (r < 0)
                return r;
        if (json_get_int64(o, "version", &v) < 0 || v != POD_MANIFEST_VERSION ||
            get_req_string(o, "uuid", &m->uuid) < 0 || get_req_string(o, "name", &m->name) < 0 ||
            json_get_int64(o, "created", &v) < 0 || json_get_array(o, "apps", &apps) < 0)
                return -EBADMSG;
        m->created_usec = (uint64_t) MAX(v, 0);
        if (json_get_int64(o, "privateUsers", &v) >= 0) {
                if (v < POD_USERNS_FIRST || v > POD_USERNS_LAST || v % POD_USERNS_SIZE)
                        return -EBADMSG;
                m->userns_base = (uint32_t) v;
        }
        r = identity_extras_from_json(o, m);
        if (r < 0)
                return r;
        if (!machine_name_is_valid(m->name) || pod_machine_id(m->uuid, mid) < 0)
                return -EBADMSG;
        m->n_apps = json_object_array_length(apps);
        m->apps = calloc(m->n_apps + 1, sizeof(PodApp));
        if (!m->apps)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_apps; i++) {
                json_object *ao = json_object_array_get_idx(apps, i);
                PodApp *a = &m->apps[i];

                if (get_req_string(ao, "name", &a->name) < 0 || get_req_string(ao, "image", &a->image_id) < 0 ||
                    get_opt_string(ao, "imageName", &a->image_name) < 0 || !name_is_valid(a->name))
                        return -EBADMSG;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

bool pod_app_has_io(const PodApp *a) {
        for (int i = 0; i < 3; i++)
                if (IN_SET(a->io[i], APP_IO_TTY, APP_IO_STREAM))
                        return true;
        return false;
}

bool pod_app_io_is_valid(const AppIOMode io[static 3]) {
        if (io[0] == APP_IO_LOG)
                return false;
        return (io[0] == APP_IO_TTY) == (io[1] == APP_IO_TTY) && (io[2] != APP_IO_TTY || io[1] == APP_IO_TTY);
}

int pod_app_rootfs_copy(const PodApp *a, int app_dir_fd, int *ret_fd) {
        _cleanup_close_ int layers = -EBADF, root = -EBADF;
        int r;

        if (mkdirat(app_dir_fd, "rootfs", 0755) < 0)
                return -errno;
        root = openat(app_dir_fd, "rootfs", O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        layers = open(a->layers_dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (root < 0 || layers < 0)
                return -errno;
        STRV_FOREACH(l, a->layers) {
                _cleanup_close_ int fd = openat(layers, *l, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);

                if (fd < 0)
                        return -errno;
                r = copy_layer_merge_at(fd, root);
                if (r < 0)
                        return r;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(root);
        return 0;
}

int pod_app_rootfs_copy_bind(const PodApp *a, const char *pod_dir, const char *target) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int app_fd = -EBADF, root = -EBADF;
        char p[64];
        int r;

        if (asprintf(&dir, "%s/apps/%s", pod_dir, a->name) < 0)
                return -ENOMEM;
        r = mkdir_p_at(AT_FDCWD, dir, 0755);
        if (r < 0)
                return r;
        app_fd = open(dir, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (app_fd < 0)
                return -errno;
        r = pod_app_rootfs_copy(a, app_fd, &root);
        if (r < 0)
                return r;
        snprintf(p, sizeof p, "/proc/self/fd/%i", root);
        return mount(p, target, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

int pod_app_lowerdir(const PodApp *a, char **ret) {
        _cleanup_strv_free_ char **top_first = NULL;
        size_t n = strv_length(a->layers);

        for (size_t i = n; i > 0; i--)
                if (strv_extend(&top_first, a->layers[i - 1]) < 0)
                        return -ENOMEM;
        return strv_join(top_first, ":", ret);
}
