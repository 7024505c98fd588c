/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>

#include "log.h"
#include "rocket-store.h"
#include "string-util.h"
#include "verb-all.h"

static void help(void) {
        printf("Usage: rocket fetch [OPTIONS...] IMAGE...\n"
               "\n"
               "Import images into the store and print their IDs.\n"
               "\n"
               "IMAGE is oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
               "an appc ACI file (./x.aci, /path/x.aci, file:///path/x.aci), or a name or ID\n"
               "already in the store.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --name=NAME         Also name the image NAME (one IMAGE only)\n");
}

static int parse_option(int option _unused_, const char *arg, void *userdata) {
        char ***names = userdata;    /* --name, the only option */

        if (!image_name_is_valid(arg))
                return log_usage("fetch: invalid image name '%s'.", arg);
        if (strv_extend(names, arg) < 0)
                return log_oom();
        return 0;
}

int verb_fetch(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, 'n' },
                {}
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int r, ret = 0;

        r = verb_parse_options("fetch", argc, argv, options, help, parse_option, &names);
        if (r <= 0)
                return r;
        if (optind >= argc)
                return log_usage("fetch: no IMAGE given.");
        if (names && argc - optind > 1)
                return log_usage("fetch: --name= needs exactly one IMAGE.");

        r = rocket_store_open(ctx, STORE_CREATE, &s);
        if (r < 0)
                return r;

        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *id = NULL;

                r = rocket_image_get(ctx, s, argv[i], names, &id);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                /* A name for an image already in the store too. */
                STRV_FOREACH(n, names) {
                        r = store_ref_set(s, *n, id);
                        if (r < 0)
                                return log_error_errno(r, "Failed to name image %s '%s': %m", id, *n);
                }
                printf("%s\n", id);
        }
        return ret;
}
