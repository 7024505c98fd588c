/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* .pod files (rocket.pod(5)): INI, a [Pod] section and one [App NAME] section per app, mapping one to one
 * onto `rocket run` options. */

#include "run-args.h"

/* NAME → the first of /etc/rocket/pods/NAME.pod, /run/rocket/pods/NAME.pod, /usr/lib/rocket/pods/NAME.pod
 * (and ROCKET_POD_PATH, colon-separated, before them); a path (with a '/') is taken as it is. */
int pod_file_find(const char *name_or_path, char **ret_path);
/* The pod name a .pod file gives when it has no Name=: NAME for "NAME" or ".../NAME.pod". */
const char *pod_file_default_name(const char *name_or_path);
/* Parses path into p. Errors are "FILE:LINE: what is wrong", logged, -ERRNO_USAGE. */
int pod_file_load(const char *path, const char *default_name, PodArgs *p);
/* rocket run --pod-manifest=FILE: a JSON pod manifest (rocket-stage1(7)), its images resolved again. */
int pod_manifest_file_load(const char *path, PodArgs *p);
