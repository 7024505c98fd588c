/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "verbs.h"

/* Every verb's entry point; one file each. */
int verb_version(int argc, char *argv[], RocketContext *ctx);
int verb_fetch(int argc, char *argv[], RocketContext *ctx);
int verb_image(int argc, char *argv[], RocketContext *ctx);
