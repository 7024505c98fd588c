/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "verbs.h"

/* Every verb's entry point: verb-NAME.c each (verb-run.c has run, prepare, run-prepared and app sandbox). */
int verb_version(int argc, char *argv[], RocketContext *ctx);
int verb_completion(int argc, char *argv[], RocketContext *ctx);
int verb_config(int argc, char *argv[], RocketContext *ctx);
int verb_export(int argc, char *argv[], RocketContext *ctx);
int verb_metadata_service(int argc, char *argv[], RocketContext *ctx);
int verb_fetch(int argc, char *argv[], RocketContext *ctx);
int verb_login(int argc, char *argv[], RocketContext *ctx);
int verb_logout(int argc, char *argv[], RocketContext *ctx);
int verb_trust(int argc, char *argv[], RocketContext *ctx);
int verb_image(int argc, char *argv[], RocketContext *ctx);
int verb_run(int argc, char *argv[], RocketContext *ctx);
int verb_prepare(int argc, char *argv[], RocketContext *ctx);
int verb_run_prepared(int argc, char *argv[], RocketContext *ctx);
int verb_app(int argc, char *argv[], RocketContext *ctx);
int verb_app_sandbox(int argc, char *argv[], RocketContext *ctx);
/* The options of rocket app sandbox, for its --help and rocket app's. */
void help_sandbox_options(void);
int verb_list(int argc, char *argv[], RocketContext *ctx);
int verb_status(int argc, char *argv[], RocketContext *ctx);
int verb_cat_manifest(int argc, char *argv[], RocketContext *ctx);
int verb_enter(int argc, char *argv[], RocketContext *ctx);
int verb_attach(int argc, char *argv[], RocketContext *ctx);
int verb_stop(int argc, char *argv[], RocketContext *ctx);
int verb_rm(int argc, char *argv[], RocketContext *ctx);
int verb_gc(int argc, char *argv[], RocketContext *ctx);
int verb_logs(int argc, char *argv[], RocketContext *ctx);
