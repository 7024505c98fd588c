/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"
#include "rocket-config.h"

/* What the global options decide, handed to every verb. Owned by main(). */
typedef struct RocketContext RocketContext;

struct RocketContext {
        char *dir;              /* --dir= / $ROCKET_DIR / paths.d's data, default ROCKET_DEFAULT_DIR */
        RocketConfig config;    /* paths.d and stage1.d (rocket-config.h) */
        bool debug;
        unsigned insecure;      /* InsecureOption bits of the global --insecure-options (rkt's form) */
};

/* Prints the usage of a verb: "Usage: rocket VERB SYNOPSIS", the summary, then the option lines. */
void verb_help(const char *verb);
