/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What a pull shows on stderr: on a terminal one live line per layer (bytes of total, rate) and a total line;
 * otherwise (a unit, a pipe) one line per layer when it is complete. */

#include "fetch.h"

typedef struct PullProgress PullProgress;

PullProgress *pull_progress_new(const char *name);
PullProgress *pull_progress_free(PullProgress *p);
DEFINE_POINTER_CLEANUP(PullProgress, pull_progress_free);

/* A FetchProgressFunc. */
void pull_progress_update(void *userdata, const FetchLayerProgress *layers, size_t n, bool final);
