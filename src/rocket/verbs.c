/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include "log.h"
#include "verbs.h"

const Verb *verbs_find(const Verb *table, const char *name) {
        for (const Verb *v = table; v->name; v++)
                if (streq(v->name, name))
                        return v;
        return NULL;
}

int verbs_dispatch(const Verb *table, const char *what, int argc, char *argv[], RocketContext *ctx) {
        const Verb *v;

        if (argc < 1 || isempty(argv[0]))
                return log_usage("Missing %s; see '--help'.", what);

        v = verbs_find(table, argv[0]);
        if (!v)
                return log_usage("Unknown %s '%s'; see '--help'.", what, argv[0]);

        return v->run(argc, argv, ctx);
}

int getopt_error(const char *verb, int c, char *argv[]) {
        const char *prefix = verb ?: "", *sep = verb ? ": " : "";

        if (c == ':')
                return log_usage("%s%sOption '%s' needs an argument.", prefix, sep, argv[optind - 1]);
        if (optopt > 0 && optopt < 0x80)
                return log_usage("%s%sUnknown option '-%c'; see '--help'.", prefix, sep, optopt);
        return log_usage("%s%sUnknown option '%s'; see '--help'.", prefix, sep, argv[optind - 1]);
}

int verb_parse_options_full(const char *verb, const char *shortopts, int argc, char *argv[],
                            const struct option *options, void (*help)(void), VerbOptionHandler handle,
                            void *userdata) {
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, shortopts, options, NULL)) >= 0) {
                if (c == 'h') {
                        help();
                        return 0;
                }
                if (c == '?' || c == ':' || !handle)
                        return getopt_error(verb, c, argv);
                r = handle(c, optarg, userdata);
                if (r < 0)
                        return r;
        }
        return 1;
}

int verb_parse_options(const char *verb, int argc, char *argv[], const struct option *options, void (*help)(void),
                       VerbOptionHandler handle, void *userdata) {
        return verb_parse_options_full(verb, "+:h", argc, argv, options, help, handle, userdata);
}
