/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "isolation.h"
#include "log.h"
#include "rocket.h"
#include "verb-all.h"

static int verb_help_cmd(int argc, char *argv[], RocketContext *ctx);

static const Verb verbs[] = {
        { "run", verb_run, "Run a pod from images, in the foreground" },
        { "prepare", verb_prepare, "Prepare a pod and print its UUID" },
        { "run-prepared", verb_run_prepared, "Run a prepared pod" },
        { "app", verb_app, "Apps of a sandbox pod: sandbox, add, start, stop, rm, list, status, exec" },
        { "list", verb_list, "List pods" },
        { "status", verb_status, "Show a pod's state and its apps' exit statuses" },
        { "enter", verb_enter, "Run a command inside a running pod" },
        { "attach", verb_attach, "Attach to a running app's terminal or streams" },
        { "logs", verb_logs, "Show the output of a pod's apps" },
        { "stop", verb_stop, "Stop running pods" },
        { "rm", verb_rm, "Remove pods that are not running" },
        { "gc", verb_gc, "Remove exited and expired pods" },
        { "cat-manifest", verb_cat_manifest, "Print a pod's manifest" },
        { "export", verb_export, "Write an app of an exited pod as an ACI" },
        { "fetch", verb_fetch, "Pull or import images into the store and print their IDs" },
        { "login", verb_login, "Keep credentials for a registry" },
        { "logout", verb_logout, "Remove the credentials for a registry" },
        { "trust", verb_trust, "Trust keys to sign images; list and remove them" },
        { "image", verb_image, "Manage images: list, rm, cat-manifest, inspect, export, render, gc, verify" },
        { "version", verb_version, "Print version, features and default stage1" },
        { "completion", verb_completion, "Print the bash or zsh completion script" },
        { "config", verb_config, "Print the configuration in effect, as JSON" },
        { "metadata-service", verb_metadata_service, "Serve appc's metadata to pods' apps" },
        { "help", verb_help_cmd, "Show this help" },
        {}
};

static void help(void) {
        printf("Usage: rocket [OPTIONS...] COMMAND [ARGS...]\n"
               "\n"
               "A daemonless, pod-native container engine for systemd hosts.\n"
               "\n"
               "Commands:\n");
        for (const Verb *v = verbs; v->name; v++)
                if (v->summary)
                        printf("  %-16s %s\n", v->name, v->summary);
        printf("\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --version           Print the version\n"
               "     --dir=PATH          Data directory (default: $ROCKET_DIR, paths.d's, or %s)\n"
               "     --debug             Print debug messages\n"
               "     --log-target=TARGET Where messages go: auto, console, journal\n"
               "     --insecure-options=OPTION,...  Switch secure defaults off for the command\n"
               "                         (rkt's values: image, tls, http, pubkey, seccomp, ...)\n"
               "\n"
               "See the rocket(1) man page for details.\n",
               ROCKET_DEFAULT_DIR);
}

static int verb_help_cmd(int argc _unused_, char *argv[] _unused_, RocketContext *ctx _unused_) {
        help();
        return 0;
}

enum {
        ARG_VERSION = 0x100,
        ARG_DIR,
        ARG_DEBUG,
        ARG_LOG_TARGET,
        ARG_INSECURE,
};

/* Returns 1 to go on with a verb, 0 when done (--help, --version), < 0 on error. */
static int parse_argv(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "dir", required_argument, NULL, ARG_DIR },
                { "debug", no_argument, NULL, ARG_DEBUG },
                { "log-target", required_argument, NULL, ARG_LOG_TARGET },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                {}
        };
        const char *e;
        int c;

        e = getenv("ROCKET_DIR");
        if (!isempty(e)) {
                ctx->dir = strdup(e);
                if (!ctx->dir)
                        return log_oom();
        }

        /* '+': stop at the verb, whose options are its own. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("rocket %s\n", ROCKET_VERSION);
                        return 0;
                case ARG_DIR:
                        if (isempty(optarg) || optarg[0] != '/')
                                return log_usage("--dir= needs an absolute path, got '%s'.", optarg);
                        free(ctx->dir);
                        ctx->dir = strdup(optarg);
                        if (!ctx->dir)
                                return log_oom();
                        break;
                case ARG_DEBUG:
                        ctx->debug = true;
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_INSECURE: {
                        InsecureOption o;
                        int r = isolation_parse_insecure("--insecure-options", optarg, &o);
                        if (r < 0)
                                return r;
                        ctx->insecure |= o;
                        break;
                }
                case ARG_LOG_TARGET: {
                        LogTarget t = log_target_from_string(optarg);
                        if (t < 0)
                                return log_usage("Unknown log target '%s'.", optarg);
                        log_set_target(t);
                        break;
                }
                default:
                        return getopt_error(NULL, c, argv);
                }

        return 1;
}

/* The vendor's and the administrator's configuration; the data directory from it unless given. */
static int load_config(RocketContext *ctx) {
        static const char *const dirs[] = { ROCKET_VENDOR_CONFIG_DIR, ROCKET_LOCAL_CONFIG_DIR, NULL };
        int r;

        r = rocket_config_load(dirs, &ctx->config);
        if (r < 0)
                return r;
        if (!ctx->dir) {
                ctx->dir = strdup(ctx->config.data ?: ROCKET_DEFAULT_DIR);
                if (!ctx->dir)
                        return log_oom();
        }
        return 0;
}

int main(int argc, char *argv[]) {
        RocketContext ctx = {};
        int r;

        log_setup("rocket");

        r = parse_argv(argc, argv, &ctx);
        if (r > 0) {
                r = load_config(&ctx);
                if (r >= 0)
                        r = verbs_dispatch(verbs, "command", argc - optind, argv + optind, &ctx);
        }

        free(ctx.dir);
        rocket_config_done(&ctx.config);

        if (r == -ERRNO_USAGE)
                return EXIT_USAGE;
        if (r == -ERRNO_BAD_DEFINITION)
                return EXIT_BAD_DEFINITION;
        return r < 0 ? EXIT_STAGE_ERROR : r;
}
