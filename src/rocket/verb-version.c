/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>

#include "config.h"
#include "isolation.h"
#include "log.h"
#include "rocket.h"
#include "rocket-pod.h"
#include "verb-all.h"

/* What was compiled in, systemd-style: +FEATURE or -FEATURE. Every library here is required by the build,
 * so they are all '+'; optional ones would flip. */
static const char features[] =
        "+SDBUS +JOURNAL +SECCOMP +CAPS +ARCHIVE +OPENSSL +JSON-C +INIH +CURL"
#if HAVE_ZSTD
        " +ZSTD"
#else
        " -ZSTD"
#endif
        ;

static void help(void) {
        printf("Usage: rocket version\n\nPrint the version, compiled-in features and the default stage1.\n");
}

int verb_version(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_free_ char *insecure = NULL, *stage1 = NULL;
        char id[DIGEST_STRING_MAX];
        int r;

        r = verb_parse_options("version", argc, argv, options, help, NULL, NULL);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage("version: unexpected argument '%s'.", argv[optind]);

        printf("rocket %s\n", ROCKET_VERSION);
        printf("Features: %s\n", features);
        /* As a pod would get them: $ROCKET_STAGE1_PATH, the configuration, ours. */
        r = rocket_stage1_dir(ctx, &(Stage1Choice) {}, &stage1);
        if (r < 0)
                return r;
        printf("Default stage1: %s\n", stage1);
        if (rocket_stage1_id(stage1, id) >= 0)
                printf("Default stage1 ID: %s\n", id);
        printf("Data directory: %s\n", ctx->dir);
        r = isolation_insecure_to_string(ctx->insecure, &insecure);
        if (r < 0)
                return log_oom();
        /* What the global --insecure-options (rkt's form) switches off for the verbs given after it. */
        printf("Insecure options: %s\n", insecure);
        return 0;
}
