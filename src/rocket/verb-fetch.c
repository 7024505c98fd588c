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

int verb_fetch(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, 'n' },
                {}
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **names = NULL;
        int c, r, ret = 0;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'n':
                        if (!image_name_is_valid(optarg))
                                return log_usage("fetch: invalid image name '%s'.", optarg);
                        if (strv_extend(&names, optarg) < 0)
                                return log_oom();
                        break;
                default:
                        return getopt_error("fetch", c, argv);
                }
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
