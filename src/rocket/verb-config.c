/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket config: the configuration in effect, as rkt config printed it. */
#include <getopt.h>
#include <stdio.h>

#include "json-util.h"
#include "log.h"
#include "rocket.h"
#include "verb-all.h"

static void help(void) {
        printf("Usage: rocket config\n"
               "\n"
               "Print the configuration in effect as JSON: the paths and stage1 settings of paths.d and\n"
               "stage1.d, and the registries of auth.d's dockerAuth files (users, never passwords).\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n");
}

int verb_config(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(json_object_putp) json_object *o = NULL;
        int r;

        r = verb_parse_options("config", argc, argv, options, help, NULL, NULL);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage("config: unexpected argument '%s'.", argv[optind]);
        r = rocket_config_to_json(&ctx->config, &o);
        if (r < 0)
                return log_oom();
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        return 0;
}
