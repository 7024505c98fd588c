/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pod-manifest.h"
#include "rocket.h"
#include "run-args.h"
#include "store.h"

/* One app of the pod from aa (and pa's defaults for all apps): its image got as pa's pull policy says
 * (logging), its command, environment, user, confinement and mounts of m's volumes. The image's declared
 * ports are added to *image_ports. Logs. */
int pod_build_app(const char *verb, RocketContext *ctx, Store *s, const PodArgs *pa, const AppArgs *aa,
                  PodManifest *m, PodApp *app, char ***image_ports);
/* The whole manifest; with_networks: the stage1 gives pods networks of their own. Logs. */
int pod_build_manifest(const char *verb, RocketContext *ctx, Store *s, PodArgs *pa, const char *uuid,
                       const char *stage1, bool with_networks, PodManifest **ret);

/* What the pod asks for that its stage1 cannot honour is refused, in one line, rather than ignored: a
 * stage1 lists what it can do beyond running one app in stage1.json's "features" (rocket-stage1(7)). */
typedef struct PodNeeds {
        bool private_users, volumes, limits, multiple_apps, sockets, network, mutable_pods, app_io, readonly_rootfs,
             event_handlers, no_overlay, mds_register;
} PodNeeds;

int pod_check_stage1_features(const char *stage1, char *const *features, const PodNeeds *n);
/* What the user asked for, before any image is looked at. */
PodNeeds pod_needs_of_args(const PodArgs *pa, size_t n_sockets);
/* And what the manifest has, the images' own isolators included. */
PodNeeds pod_needs_of_manifest(const PodArgs *pa, const PodManifest *m, size_t n_sockets);
