/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* From what run, prepare and app add are asked for (run-args.h) to a pod manifest: images resolved and
 * fetched, apps built, and what the stage1 must be able to do. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-config.h"
#include "log.h"
#include "pod-build.h"
#include "rocket-store.h"
#include "string-util.h"
#include "time-util.h"

static int build_volumes(const char *verb, PodArgs *a, PodManifest *m) {
        m->volumes = calloc(a->n_volumes + 1, sizeof(PodVolume));
        if (!m->volumes)
                return log_oom();
        for (size_t j = 0; j < a->n_volumes; j++) {
                PodVolume *v = &m->volumes[m->n_volumes];
                _cleanup_free_ char *source = NULL;
                struct stat st;

                if (pod_volume_copy(&a->volumes[j], v) < 0)
                        return log_oom();
                m->n_volumes++;         /* the manifest frees it from here on */
                if (v->kind == VOLUME_HOST) {
                        source = TAKE_PTR(v->source);
                        if (stat(source, &st) < 0)
                                return log_error_errno(errno, "Volume '%s': source '%s' does not exist.", v->name,
                                                       source);
                        v->source = realpath(source, NULL);
                        if (!v->source)
                                return log_oom();
                }
                if (v->idmap && (v->kind != VOLUME_HOST || !a->private_users))
                        return log_usage("%s: volume '%s': idmap=true is for a host volume of a pod with --private-users.",
                                         verb, v->name);
        }
        return 0;
}

static int build_mounts(const char *verb, const PodManifest *m, const PodMount *mounts, size_t n, PodApp *app) {
        for (size_t i = 0; i < n; i++) {
                PodMount *t;

                t = reallocarray(app->mounts, app->n_mounts + 1, sizeof(PodMount));
                if (!t)
                        return log_oom();
                app->mounts = t;
                if (pod_mount_copy(&mounts[i], &app->mounts[app->n_mounts]) < 0)
                        return log_oom();
                app->n_mounts++;        /* the manifest frees it from here on */
                if (!pod_manifest_find_volume(m, mounts[i].volume))
                        return log_usage("%s: a mount at %s names volume '%s', which no --volume defines.", verb,
                                         mounts[i].target, mounts[i].volume);
                if (streq(mounts[i].target, "/"))
                        return log_usage("%s: mount target '%s' is not an absolute path inside the app's rootfs.", verb,
                                         mounts[i].target);
        }
        return 0;
}

/* appc's rule, as rkt had it: a pod volume reaches every mount point of the same name the image declares
 * ("NAME:PATH[:ro]", ACI mountPoints), without a --mount; a --mount at that path wins. A mount point no
 * volume matches gets an empty one of its name (pod_manifest_add_implicit_volumes()) with the image's data
 * copied up into it, as docker does for VOLUMEs, where the stage1 has volumes at all. */
static int mount_points_by_name(const PodArgs *pa, const PodManifest *m, char *const *points, PodApp *app) {
        STRV_FOREACH(p, (char **) points) {
                _cleanup_strv_free_ char **parts = NULL;
                PodMount *t;
                bool taken = false;

                if (strv_split(*p, ":", &parts) < 0)
                        return log_oom();
                bool implicit;

                /* OCI's VOLUMEs have no name: nothing to match. */
                if (strv_length(parts) < 2 || !name_is_valid(parts[0]) || !target_is_safe(parts[1]))
                        continue;
                implicit = !pod_manifest_find_volume(m, parts[0]);
                if (implicit && !pa->stage1_volumes)
                        continue;
                for (size_t i = 0; i < app->n_mounts; i++)
                        taken = taken || streq(app->mounts[i].target, parts[1]);
                if (taken)
                        continue;
                t = reallocarray(app->mounts, app->n_mounts + 1, sizeof(PodMount));
                if (!t)
                        return log_oom();
                app->mounts = t;
                t[app->n_mounts] = (PodMount) {
                        .volume = strdup(parts[0]),
                        .target = strdup(parts[1]),
                        .read_only = strv_length(parts) > 2 && streq(parts[2], "ro"),
                        .copy_up = implicit,
                };
                if (!t[app->n_mounts].volume || !t[app->n_mounts].target) {
                        pod_mount_done(&t[app->n_mounts]);
                        return log_oom();
                }
                app->n_mounts++;
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

int pod_build_app(const char *verb, RocketContext *ctx, Store *s, const PodArgs *pa, const AppArgs *aa,
                  PodManifest *m, PodApp *app, char ***image_ports) {
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_(image_config_freep) ImageConfig *cfg = NULL;
        const AppArgs *d = &pa->defaults;
        const char *exec = aa->exec ?: d->exec;
        char *const *args = aa->have_args ? aa->args : d->have_args ? d->args : NULL;
        bool have_args = aa->have_args || d->have_args;
        int r;

        ImageFetchArgs fa = {
                .policy = pa->pull_policy,
                .insecure = pa->insecure,
                .quiet = pa->quiet,
        };
        r = rocket_image_get(ctx, s, aa->image, &fa, NULL, &app->image_id);
        if (r < 0)
                return r;
        r = store_image_load(s, app->image_id, &rec);
        if (r >= 0)
                r = image_config_load(s, rec, &cfg);
        if (r < 0)
                return log_error_errno(r, "Failed to read image %s: %m", app->image_id);
        (void) store_image_touch(s, app->image_id);
        STRV_FOREACH(port, cfg->ports)
                if (strv_extend(image_ports, *port) < 0)
                        return log_oom();

        /* The app is named after the reference as the user gave it; for an ID, after the image's first name. */
        {
                const char *ref = aa->image;

                if (!store_ref_names(s, aa->image, app->image_id) && strv_length(rec->names) > 0) {
                        strv_sort(rec->names);
                        ref = rec->names[0];
                }
                app->name = aa->name ? strdup(aa->name) : app_name_from(ref);
                app->image_name = strdup(ref);
        }
        if (rec->signer && !(app->image_signer = strdup(rec->signer)))
                return log_oom();
        if (asprintf(&app->layers_dir, "%s/store/layers", ctx->dir) < 0)
                app->layers_dir = NULL;
        if (!app->name || !app->image_name || !app->layers_dir)
                return log_oom();
        /* Apps are APP.service in the pod, next to the stage1's own units. */
        if (startswith(app->name, "rocket-") || startswith(app->name, "systemd-"))
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "App name '%s' is reserved (rocket-*, systemd-*); choose one with --name.", app->name);
        {
                char *abs = realpath(app->layers_dir, NULL);

                if (!abs)
                        return log_error_errno(errno, "Failed to find the store's layers: %m");
                free(app->layers_dir);
                app->layers_dir = abs;
        }
        {
                _cleanup_free_ char *detail = NULL;

                /* An image fetched without root has verified blobs only: extract them now. */
                r = store_image_ensure_layers(s, rec, &detail);
                if (r == -STORE_ERR_DIGEST_MISMATCH)
                        return log_error_errno(r, "Image %s: blob %s no longer matches its digest; run 'rocket image verify'.",
                                               app->image_id, strempty(detail));
                if (r < 0)
                        return log_error_errno(r, "Failed to extract the layers of image %s%s%s%s: %m", app->image_id,
                                               detail ? " (entry '" : "", strempty(detail), detail ? "')" : "");
        }
        for (size_t i = 0; i < rec->n_layers; i++) {
                _cleanup_free_ char *path = NULL;
                const char *base;

                r = store_layer_path(image_layer_tree(&rec->layers[i]), &path);
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

        /* Environment, lowest first (rkt's order): rocket's own with --inherit-env, the image's, --set-env-file,
         * --set-env, --environment. */
        if (pa->inherit_env)
                for (char **e = environ; e && *e; e++)
                        if (strchr(*e, '=') && strv_set_kv(&app->env, *e) < 0)
                                return log_oom();
        STRV_FOREACH(e, cfg->env)
                if (strv_set_kv(&app->env, *e) < 0)
                        return log_oom();
        STRV_FOREACH(e, pa->env_file)
                if (strv_set_kv(&app->env, *e) < 0)
                        return log_oom();
        STRV_FOREACH(e, d->env)
                if (strv_set_kv(&app->env, *e) < 0)
                        return log_oom();
        STRV_FOREACH(e, aa->env)
                if (strv_set_kv(&app->env, *e) < 0)
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

        if ((aa->ready_path ?: d->ready_path) && !(app->ready_path = strdup(aa->ready_path ?: d->ready_path)))
                return log_oom();
        if (strv_copy(cfg->pre_start, &app->pre_start) < 0 || strv_copy(cfg->post_stop, &app->post_stop) < 0)
                return log_oom();
        /* The image's annotations, for status and the metadata service; one no pod annotation could be is
         * left out. */
        STRV_FOREACH(kv, cfg->annotations)
                if (pod_annotation_is_valid(*kv) && strv_set_kv(&app->annotations, *kv) < 0)
                        return log_oom();
        STRV_FOREACH(n, aa->sockets ?: d->sockets)
                if (strv_extend(&app->sockets, *n) < 0)
                        return log_oom();

        /* Its I/O: -t a terminal, -i streams (the caller's, once attached), unless --stdin/… say otherwise. */
        for (int i = 0; i < 3; i++)
                app->io[i] = aa->io_given[i] ? aa->io[i] : d->io_given[i] ? d->io[i] :
                             pa->tty ? APP_IO_TTY : pa->interactive ? APP_IO_STREAM :
                             i == 0 ? APP_IO_NULL : APP_IO_LOG;
        app->interactive = pa->interactive || pa->tty;
        app->readonly_rootfs = aa->readonly_rootfs_given ? aa->readonly_rootfs : d->readonly_rootfs;
        /* Checked when given: numbers, in range. */
        if (aa->oom_score_adj ?: d->oom_score_adj) {
                app->oom_score_adj = atoi(aa->oom_score_adj ?: d->oom_score_adj);
                app->oom_score_adj_set = true;
        }
        if (aa->supplementary_gids ?: d->supplementary_gids) {
                _cleanup_strv_free_ char **l = NULL;

                if (strv_split(aa->supplementary_gids ?: d->supplementary_gids, ",", &l) < 0)
                        return log_oom();
                app->supplementary_gids = calloc(strv_length(l) + 1, sizeof(gid_t));
                if (!app->supplementary_gids)
                        return log_oom();
                STRV_FOREACH(g, l)
                        app->supplementary_gids[app->n_supplementary_gids++] = (gid_t) strtoul(*g, NULL, 10);
        }
        if (!pod_app_io_is_valid(app->io))
                return log_usage("%s: app %s: a terminal is stdin's and stdout's both (--stdin=tty goes with "
                                 "--stdout=tty), and stdin is null, tty or stream.", verb, app->name);

        r = isolation_apply(aa->image, &aa->iso, &d->iso, cfg->isolators, pa->insecure, app);
        if (r < 0)
                return r;
        /* Where no device policy keeps an app to the standard pseudo devices, a device node it makes would
         * reach the host's device: no CAP_MKNOD unless asked for by name. */
        if (!pa->stage1_device_policy && !strv_contains(aa->iso.caps_retain ?: d->iso.caps_retain, "CAP_MKNOD"))
                for (size_t i = 0; app->caps && app->caps[i]; i++)
                        if (streq(app->caps[i], "CAP_MKNOD")) {
                                free(app->caps[i]);
                                memmove(app->caps + i, app->caps + i + 1,
                                        (strv_length(app->caps + i + 1) + 1) * sizeof(char *));
                                break;
                        }

        r = build_mounts(verb, m, d->mounts, d->n_mounts, app);
        if (r >= 0)
                r = build_mounts(verb, m, aa->mounts, aa->n_mounts, app);
        if (r >= 0)
                r = mount_points_by_name(pa, m, cfg->volumes, app);
        return r;
}

int pod_build_manifest(const char *verb, RocketContext *ctx, Store *s, PodArgs *pa, const char *uuid,
                       const char *stage1, bool with_networks, PodManifest **ret) {
        _cleanup_(pod_manifest_freep) PodManifest *m = calloc(1, sizeof(PodManifest));
        _cleanup_strv_free_ char **image_ports = NULL;
        int r;

        if (!m)
                return log_oom();
        r = build_volumes(verb, pa, m);
        if (r < 0)
                return r;
        m->apps = calloc(pa->n_apps ?: 1, sizeof(PodApp));
        if (!m->apps)
                return log_oom();
        for (size_t i = 0; i < pa->n_apps; i++) {
                r = pod_build_app(verb, ctx, s, pa, &pa->apps[i], m, &m->apps[i], &image_ports);
                m->n_apps++;
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(m->apps[j].name, m->apps[i].name))
                                return log_error_errno(SYNTHETIC_ERRNO(EEXIST),
                                                       "Two apps are named '%s'; name one with --name after its image.",
                                                       m->apps[i].name);
        }
        for (size_t i = 0; i < m->n_apps; i++)
                if (pod_manifest_add_implicit_volumes(m, &m->apps[i]) < 0)
                        return log_oom();
        if ((pa->interactive || pa->tty) && pa->n_apps != 1)
                return log_usage("%s: -i/--interactive and -t/--tty are for a pod of one app.", verb);
        m->uuid = strdup(uuid);
        if (pa->name)
                m->name = strdup(pa->name);
        else if (asprintf(&m->name, "%.50s-%.8s", pa->n_apps > 0 ? m->apps[0].name : "sandbox", uuid) < 0)
                m->name = NULL;
        m->hostname = strdup(pa->hostname ?: m->name);
        m->memory_max = pa->pod_iso.memory;
        m->pids_max = pa->pids_max ?: POD_PIDS_MAX_DEFAULT;
        m->cpu_quota_milli = pa->pod_iso.cpu_milli;
        m->cpu_weight = pa->pod_iso.cpu_shares ? MIN(MAX(pa->pod_iso.cpu_shares * 100 / 1024, 1u), 10000u) : 0;
        m->stage1 = strdup(stage1);
        if (!m->uuid || !m->name || !m->hostname || !m->stage1)
                return log_oom();
        r = net_args_build(&pa->net, with_networks, image_ports, &m->net);
        if (r < 0)
                return r;
        m->created_usec = now_realtime_usec();
        m->sandbox = pa->sandbox;
        m->ipc_parent = pa->ipc_parent;
        m->no_overlay = pa->no_overlay;
        m->mds_register = pa->mds_register;
        if (m->mds_register && !m->net.host && m->net.n_networks == 0)
                return log_usage("%s: --mds-register needs a network the pod reaches the host on (not --net=none).", verb);
        if (strv_copy(pa->annotations, &m->annotations) < 0 ||
            strv_copy(pa->user_annotations, &m->user_annotations) < 0 ||
            strv_copy(pa->user_labels, &m->user_labels) < 0)
                return log_oom();
        *ret = TAKE_PTR(m);
        return 0;
}

int pod_check_stage1_features(const char *stage1, char *const *features, const PodNeeds *n) {
        const char *option = NULL, *feature = NULL;

        if (n->private_users && !strv_contains(features, "private-users"))
                option = "--private-users", feature = "private-users";
        else if (n->volumes && !strv_contains(features, "volumes"))
                option = "--volume/--mount", feature = "volumes";
        else if (n->limits && !strv_contains(features, "resource-limits"))
                option = "--memory/--cpu/--cpu-shares/--pids-limit", feature = "resource-limits";
        else if (n->multiple_apps && !strv_contains(features, "multiple-apps"))
                option = "more than one app", feature = "multiple-apps";
        else if (n->sockets && !strv_contains(features, "socket-activation"))
                option = "passed sockets", feature = "socket-activation";
        else if (n->network && !strv_contains(features, "network"))
                option = "a network of the pod's own (--net other than host)", feature = "network";
        else if (n->readonly_rootfs && !strv_contains(features, "readonly-rootfs"))
                option = "--readonly-rootfs", feature = "readonly-rootfs";
        else if (n->app_io && !strv_contains(features, "app-io"))
                option = "--stdin/--stdout/--stderr, -i or -t (apps' I/O kept by the stage1)", feature = "app-io";
        else if (n->mutable_pods && !strv_contains(features, "mutable-pods"))
                option = "a sandbox pod whose apps come and go (rocket app …)", feature = "mutable-pods";
        else if (n->mds_register && !strv_contains(features, "metadata-service"))
                option = "--mds-register", feature = "metadata-service";
        else if (n->no_overlay && !strv_contains(features, "no-overlay"))
                option = "--no-overlay", feature = "no-overlay";
        else if (n->event_handlers && !strv_contains(features, "event-handlers"))
                option = "an image's pre-start or post-stop event handler", feature = "event-handlers";
        if (option)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "The stage1 at %s cannot honour %s (its stage1.json lists no '%s').", stage1,
                                       option, feature);
        return 0;
}

static bool iso_limits(const IsolationArgs *i) {
        return i->memory || i->cpu_milli || i->cpu_shares;
}

PodNeeds pod_needs_of_args(const PodArgs *pa, size_t n_sockets) {
        PodNeeds n = {
                .private_users = pa->private_users,
                .volumes = pa->n_volumes > 0 || pa->defaults.n_mounts > 0,
                .limits = iso_limits(&pa->pod_iso) || iso_limits(&pa->defaults.iso) || pa->pids_max,
                .multiple_apps = pa->n_apps > 1,
                .sockets = n_sockets > 0 || pa->defaults.sockets,
                .network = pa->net.nets && !streq(pa->net.nets[0], "host"),
                .mutable_pods = pa->sandbox,
                .app_io = pa->interactive || pa->tty || pa->defaults.io_given[0] || pa->defaults.io_given[1] ||
                          pa->defaults.io_given[2],
                .readonly_rootfs = pa->defaults.readonly_rootfs,
                .no_overlay = pa->no_overlay,
                .mds_register = pa->mds_register,
        };

        for (size_t i = 0; i < pa->n_apps; i++) {
                n.app_io = n.app_io || pa->apps[i].io_given[0] || pa->apps[i].io_given[1] || pa->apps[i].io_given[2];
                n.readonly_rootfs = n.readonly_rootfs || pa->apps[i].readonly_rootfs;
                n.volumes = n.volumes || pa->apps[i].n_mounts > 0;
                n.limits = n.limits || iso_limits(&pa->apps[i].iso);
                n.sockets = n.sockets || pa->apps[i].sockets;
        }
        return n;
}

PodNeeds pod_needs_of_manifest(const PodArgs *pa, const PodManifest *m, size_t n_sockets) {
        PodNeeds n = pod_needs_of_args(pa, n_sockets);

        n.volumes = n.volumes || m->n_volumes > 0;
        n.limits = n.limits || m->memory_max || m->cpu_quota_milli || m->cpu_weight;
        for (size_t i = 0; i < m->n_apps; i++) {
                const PodApp *a = &m->apps[i];

                n.limits = n.limits || a->memory_max || a->cpu_quota_milli || a->cpu_weight;
                n.volumes = n.volumes || a->n_mounts > 0;
                n.sockets = n.sockets || a->sockets;
                n.event_handlers = n.event_handlers || a->pre_start || a->post_stop;
        }
        n.multiple_apps = m->n_apps > 1;
        n.network = !m->net.host;
        return n;
}

