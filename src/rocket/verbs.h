/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <getopt.h>

#include "macro.h"

typedef struct RocketContext RocketContext;

typedef int (*VerbFunction)(int argc, char *argv[], RocketContext *ctx);

typedef struct Verb {
        const char *name;
        VerbFunction run;
        const char *summary;    /* one line for --help; NULL hides the verb from it */
} Verb;

/* Finds argv[0] in the NULL-name-terminated table and runs it. An unknown or missing verb is a usage error. */
int verbs_dispatch(const Verb *table, const char *what, int argc, char *argv[], RocketContext *ctx);
const Verb *verbs_find(const Verb *table, const char *name);

/* Turns getopt_long()'s '?' or ':' (optstring must start with ':' after any '+') into one usage line. */
int getopt_error(const char *verb, int c, char *argv[]);

/* A verb's own option, with its argument (NULL for none): 0, or an error it logged. */
typedef int (*VerbOptionHandler)(int option, const char *arg, void *userdata);
/* The options of a verb up to its first argument, from its own table: -h/--help prints help() and returns
 * 0, every other option goes to handle(), anything else is a usage error. 1: go on, optind at the first
 * argument. */
int verb_parse_options(const char *verb, int argc, char *argv[], const struct option *options, void (*help)(void),
                       VerbOptionHandler handle, void *userdata);
/* The same with getopt's short options of the verb's own: shortopts must start with ":h" (after a '+' when
 * options stop at the first argument; without it they may also follow the arguments). */
int verb_parse_options_full(const char *verb, const char *shortopts, int argc, char *argv[],
                            const struct option *options, void (*help)(void), VerbOptionHandler handle,
                            void *userdata);
