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
               "Pull or import images into the store and print their IDs.\n"
               "\n"
               "IMAGE is docker://[HOST[:PORT]/]REPO[:TAG|@sha256:DIGEST] (a registry),\n"
               "oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG],\n"
               "an appc ACI file (./x.aci, /path/x.aci, file:///path/x.aci), an ACI's URL\n"
               "(https://HOST/PATH/x.aci, and its .asc if there is one), or a name or ID in\n"
               "the store. An appc name the store lacks whose first component is a domain\n"
               "(example.com/app[:VERSION]) is found by appc meta discovery.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --name=NAME         Also name the image NAME (one IMAGE only)\n"
               "     --pull-policy=POLICY  never, new (use the store's copy) or update\n"
               "                         (ask the registry; the default)\n"
               "     --platform=OS/ARCH[/VARIANT]  The image to pick from a multi-platform index\n"
               "     --arch=ARCH         The same, for this OS\n"
               "     --insecure-options=image,tls,http,...  Skip signature or TLS verification,\n"
               "                         allow plain HTTP\n"
               "     --signature=FILE    Check a local ACI against this detached signature\n"
               "  -q --quiet             Print no progress\n");
}

enum {
        ARG_NAME = 0x100,
        ARG_PULL_POLICY,
        ARG_PLATFORM,
        ARG_ARCH,
        ARG_INSECURE,
        ARG_SIGNATURE,
};

typedef struct FetchArgs {
        char **names;
        ImageFetchArgs fa;
} FetchArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        FetchArgs *a = userdata;

        switch (option) {
        case ARG_NAME:
                if (!image_name_is_valid(arg))
                        return log_usage("fetch: invalid image name '%s'.", arg);
                if (strv_extend(&a->names, arg) < 0)
                        return log_oom();
                return 0;
        case ARG_PULL_POLICY:
                return image_fetch_parse_policy("fetch", arg, &a->fa.policy);
        case ARG_PLATFORM:
                return image_fetch_parse_platform("fetch", arg, &a->fa);
        case ARG_ARCH:
                if (!name_is_valid(arg))
                        return log_usage("fetch: invalid architecture '%s'.", arg);
                free(a->fa.arch);
                a->fa.arch = strdup(arg);
                return a->fa.arch ? 0 : log_oom();
        case ARG_INSECURE:
                return isolation_parse_insecure("fetch", arg, &a->fa.insecure);
        case ARG_SIGNATURE:
                free(a->fa.signature);
                a->fa.signature = strdup(arg);
                return a->fa.signature ? 0 : log_oom();
        case 'q':
                a->fa.quiet = true;
                return 0;
        default:
                return -EINVAL;
        }
}

int verb_fetch(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "name", required_argument, NULL, ARG_NAME },
                { "pull-policy", required_argument, NULL, ARG_PULL_POLICY },
                { "platform", required_argument, NULL, ARG_PLATFORM },
                { "arch", required_argument, NULL, ARG_ARCH },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "signature", required_argument, NULL, ARG_SIGNATURE },
                { "quiet", no_argument, NULL, 'q' },
                {}
        };
        _cleanup_(store_freep) Store *s = NULL;
        FetchArgs a = { .fa.policy = PULL_UPDATE };
        int r, ret = 0;

        r = verb_parse_options_full("fetch", "+:hq", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                goto finish;
        r = 0;
        if (optind >= argc) {
                r = log_usage("fetch: no IMAGE given.");
                goto finish;
        }
        if (a.fa.signature && argc - optind > 1) {
                r = log_usage("fetch: --signature= needs exactly one IMAGE.");
                goto finish;
        }
        if (a.names && argc - optind > 1) {
                r = log_usage("fetch: --name= needs exactly one IMAGE.");
                goto finish;
        }

        a.fa.insecure |= ctx->insecure;
        r = rocket_store_open(ctx, STORE_CREATE, &s);
        if (r < 0)
                goto finish;

        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *id = NULL;

                r = rocket_image_get(ctx, s, argv[i], &a.fa, a.names, &id);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                /* A name for an image already in the store too. */
                STRV_FOREACH(n, a.names) {
                        r = store_ref_set(s, *n, id);
                        if (r < 0) {
                                ret = log_error_errno(r, "Failed to name image %s '%s': %m", id, *n);
                                goto finish;
                        }
                }
                printf("%s\n", id);
        }
        r = ret;
finish:
        strv_free(a.names);
        image_fetch_args_done(&a.fa);
        return r;
}
