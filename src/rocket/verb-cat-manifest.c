/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket cat-manifest. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-util.h"
#include "log.h"
#include "output.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-all.h"

enum { ARG_PRETTY = 0x100, ARG_UUID_FILE };

typedef struct CatArgs {
        bool pretty;
        const char *uuid_file;
} CatArgs;

static void help(void) {
        printf("Usage: rocket cat-manifest [OPTIONS...] POD\n\nPrint a pod's manifest.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --pretty-print      Indent the JSON\n"
                       "     --uuid-file=FILE    The pod whose UUID FILE holds (as --uuid-file-save wrote it)\n");
}

static int parse_option(int option, const char *arg, void *userdata) {
        CatArgs *a = userdata;

        if (option == ARG_UUID_FILE)
                a->uuid_file = arg;
        else
                a->pretty = true;
        return 0;
}

int verb_cat_manifest(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "pretty-print", no_argument, NULL, ARG_PRETTY },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {}
        };
        CatArgs a = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        int r;

        r = verb_parse_options("cat-manifest", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (argc - optind > (a.uuid_file ? 0 : 1))
                return log_usage("cat-manifest: give exactly one POD (or --uuid-file=).");
        r = rocket_pod_find_arg(ctx, "cat-manifest", a.uuid_file, argc, argv, &pods_fd, &p, NULL);
        if (r < 0)
                return r;
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        r = pod_manifest_to_json(p->manifest, &o);
        if (r < 0)
                return log_oom();
        output_print_json(o, a.pretty ? OUTPUT_JSON_PRETTY : OUTPUT_JSON);
        return 0;
}
