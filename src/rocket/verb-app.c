/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket app: the apps of a running sandbox pod (rocket app sandbox, in verb-run.c) come and go. Each verb
 * takes the pod's app lock (the pod directory's "app-lock"), so that concurrent ones are serialised; the
 * manifest says which apps the pod has, and the stage1's app entrypoints make the running pod match it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "output.h"
#include "pod-build.h"
#include "pod-json.h"
#include "rocket-pod.h"
#include "rocket-store.h"
#include "run-args.h"
#include "stage1-abi.h"
#include "string-util.h"
#include "verb-all.h"

#define APP_LOCK "app-lock"

enum {
        ARG_APP = 0x200,
        ARG_APP_UUID_FILE,
        ARG_TIMEOUT,
};

typedef struct AppVerbArgs {
        const char *verb;
        const char *app;
        const char *uuid_file;
        uint64_t timeout_sec;   /* app stop --timeout; UINT64_MAX: the unit's own */
        bool interactive, tty;  /* app exec -i, -t */
        OutputArgs out;
        PodArgs pod;            /* app add: the app's options (pod.defaults before IMAGE, pod.apps[0]) */
} AppVerbArgs;

static void app_verb_args_done(AppVerbArgs *a) {
        pod_args_done(&a->pod);
}

static void help(void) {
        printf("Usage: rocket app sandbox [OPTIONS...]\n"
               "       rocket app add [OPTIONS...] POD IMAGE [APP OPTIONS...] [-- ARGS...]\n"
               "       rocket app start|stop|rm POD --app=APP\n"
               "       rocket app list POD\n"
               "       rocket app status POD --app=APP\n"
               "       rocket app exec [-i] [-t] POD --app=APP CMD [ARGS...]\n"
               "\n"
               "The apps of a sandbox pod, which runs with none until apps are added to it.\n"
               "\n"
               "Commands:\n"
               "  sandbox      Run a pod with no apps, until 'rocket stop' (see 'rocket app sandbox --help')\n"
               "  add          Add an app from IMAGE to the pod, created but not started\n"
               "  start        Start an app of the pod\n"
               "  stop         Stop an app (SIGTERM, then SIGKILL after --timeout); its exit is recorded\n"
               "  rm           Remove an app, stopping it first; the pod runs on\n"
               "  list         List the pod's apps and their states\n"
               "  status       Show one app: state (created, running, exited), PID, exit, times, image\n"
               "  exec         Run CMD in an app, with the app's confinement, and pass its exit status back\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --app=APP           The app to act on\n"
               "     --uuid-file=FILE    The pod whose UUID FILE holds (instead of POD)\n"
               "     --timeout=SECONDS   stop, rm: SIGKILL after SECONDS (default 10; 0: at once)\n"
               "     --format=FORMAT     list, status: table (default), json, json-pretty\n"
               "     --no-legend         list: no header\n"
               "  -i --interactive       exec: pass our stdin to CMD (else it reads /dev/null)\n"
               "  -t --tty               exec: give CMD a terminal, relayed to ours (stdin must be one)\n"
               "     --set-env=K=V       add: an environment variable (the app's own options win)\n"
               "     --pull-policy=new|never|update  add: as for 'rocket run'\n"
               "     --insecure-options=…  add: as for 'rocket run'\n"
               "\n"
               "add takes every app option of 'rocket run' (see 'rocket run --help'), before POD or\n"
               "after IMAGE.\n"
               "\n"
               "Sandbox options:\n");
        help_sandbox_options();
}

static int parse_option(int option, const char *arg, void *userdata) {
        AppVerbArgs *a = userdata;
        int r;

        switch (option) {
        case ARG_APP:
                if (!name_is_valid(arg))
                        return log_usage("app %s: invalid app name '%s'.", a->verb, arg);
                a->app = arg;
                return 0;
        case ARG_APP_UUID_FILE:
                a->uuid_file = arg;
                return 0;
        case ARG_TIMEOUT: {
                char *end;
                unsigned long long v;

                errno = 0;
                v = strtoull(arg, &end, 10);
                if (isempty(arg) || *end || errno || v > 86400 || arg[0] == '-')
                        return log_usage("app %s: invalid --timeout '%s' (seconds, at most 86400).", a->verb, arg);
                a->timeout_sec = v;
                return 0;
        }
        case 'i':
                a->interactive = true;
                return 0;
        case 't':
                a->tty = true;
                return 0;
        case ARG_PULL_POLICY:
        case ARG_INSECURE:
        case ARG_SET_ENV:       /* the app's, below its --environment, as rocket run's for all apps */
                return run_pod_option(strjoina("app ", a->verb), &a->pod, option, arg);
        default:
                r = output_args_parse(&a->out, a->verb, option, arg);
                if (r != 0)
                        return r < 0 ? r : 0;
                /* add: an app option given before POD. */
                return run_app_option(strjoina("app ", a->verb), &a->pod.defaults, option, arg);
        }
}

/* Options before POD, then (unless --uuid-file named the pod) POD, then options after it; *ret_rest: the
 * index of the first argument after those (a command, an IMAGE). */
static int parse_args(AppVerbArgs *a, const struct option *options, const char *shortopts, int argc, char *argv[],
                      RocketContext *ctx, int *ret_pods_fd, Pod **ret_pod, int *ret_rest) {
        int r, consumed, pod_at;

        r = verb_parse_options_full(strjoina("app ", a->verb), shortopts, argc, argv, options, help, parse_option, a);
        if (r <= 0)
                return r;
        pod_at = optind;
        r = rocket_pod_find_arg(ctx, strjoina("app ", a->verb), a->uuid_file, argc, argv, ret_pods_fd, ret_pod,
                                &consumed);
        if (r < 0)
                return r;
        *ret_rest = pod_at + consumed;
        if (consumed > 0 && pod_at + 1 < argc) {
                /* argv[pod_at] stands in for the program's name. */
                r = verb_parse_options_full(strjoina("app ", a->verb), shortopts, argc - pod_at, argv + pod_at, options,
                                            help, parse_option, a);
                if (r <= 0)
                        return r;
                *ret_rest = pod_at + optind;
        }
        return 1;
}

/* The pod must be a sandbox; need_running: a running one, of a stage1 that can change it. */
static int check_pod(const Pod *p, bool need_running) {
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        if (!p->manifest->sandbox)
                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                       "Pod %s is not a sandbox: its apps are fixed (start one with 'rocket app sandbox').",
                                       p->uuid);
        return need_running ? rocket_pod_check_running(p, "mutable-pods", "cannot change a running pod") : 0;
}

/* The pod's app lock, waited for; then the manifest as it is now (another verb may have changed it). */
static int lock_pod(const Pod *p, int *ret_lock, PodManifest **ret_m) {
        _cleanup_close_ int fd = openat(p->dir_fd, APP_LOCK, O_RDWR|O_CREAT|O_NOFOLLOW|O_CLOEXEC, 0600);
        int r;

        if (fd < 0 || flock(fd, LOCK_EX) < 0)
                return log_error_errno(errno, "Failed to lock pod %s: %m", p->uuid);
        r = pod_manifest_load_at(p->dir_fd, STAGE1_POD_MANIFEST, ret_m);
        if (r < 0)
                return log_error_errno(r, "Failed to load the manifest of pod %s: %m", p->uuid);
        *ret_lock = TAKE_FD(fd);
        return 0;
}

static int save_manifest(const Pod *p, const PodManifest *m) {
        int r = pod_manifest_save_at(p->dir_fd, STAGE1_POD_MANIFEST, m);

        if (r >= 0)
                r = pod_manifest_save_summary_at(p->dir_fd, "summary", m);
        if (r < 0)
                return log_error_errno(r, "Failed to update the manifest of pod %s: %m", p->uuid);
        return 0;
}

/* The stage1's entrypoint: its own error said what went wrong. */
static int call_stage1(int pods_fd, const Pod *p, const char *entrypoint, char *const *args) {
        int r = rocket_stage1_call(pods_fd, p, entrypoint, args);

        if (r < 0)
                return r;
        return r == 0 ? 0 : -EIO;
}

static int need_app(const AppVerbArgs *a, const Pod *p, const PodManifest *m) {
        if (!a->app)
                return log_usage("app %s: which app? Give --app=APP.", a->verb);
        if (!pod_manifest_find_app(m, a->app))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", p->uuid, a->app);
        return 0;
}

#define COMMON_OPTIONS                                                                  \
        { "help", no_argument, NULL, 'h' },                                             \
        { "app", required_argument, NULL, ARG_APP },                                    \
        { "uuid-file", required_argument, NULL, ARG_APP_UUID_FILE }

static int app_add(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "uuid-file", required_argument, NULL, ARG_APP_UUID_FILE },
                { "pull-policy", required_argument, NULL, ARG_PULL_POLICY },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "set-env", required_argument, NULL, ARG_SET_ENV },
                APP_OPTIONS,
                {}
        };
        _cleanup_(app_verb_args_done) AppVerbArgs a = { .verb = "add", .out = OUTPUT_ARGS_INIT,
                                                        .pod.defaults.iso.no_new_privs = -1,
                                                        .pod.pod_iso.no_new_privs = -1 };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_strv_free_ char **features = NULL, **ports = NULL;
        _cleanup_close_ int pods_fd = -EBADF, lock = -EBADF;
        PodApp app = {};
        char *args[2] = {};
        int r, rest;

        r = parse_args(&a, options, "+:h", argc, argv, ctx, &pods_fd, &p, &rest);
        if (r <= 0)
                return r;
        if (rest >= argc)
                return log_usage("app add: no IMAGE given.");
        r = run_parse_apps("app add", argc, argv, rest, &a.pod);
        if (r < 0)
                return r;
        if (a.pod.n_apps != 1)
                return log_usage("app add: give one IMAGE (add several apps one by one).");
        /* --name before POD names the app too. */
        if (a.pod.defaults.name && !a.pod.apps[0].name)
                a.pod.apps[0].name = TAKE_PTR(a.pod.defaults.name);
        a.pod.insecure |= ctx->insecure;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "app add: needs root.");
        r = check_pod(p, true);
        if (r < 0)
                return r;
        r = rocket_stage1_features(p->manifest->stage1, &features);
        if (r < 0)
                return r;
        a.pod.stage1_device_policy = strv_contains(features, "device-policy");
        a.pod.stage1_volumes = strv_contains(features, "volumes");

        /* The image is got before the lock is taken (a pull may take a while); the store stays locked
         * against image gc until the manifest names it. */
        r = rocket_store_open(ctx, STORE_CREATE, &s);
        if (r < 0)
                return r;
        r = pod_build_app("app add", ctx, s, &a.pod, &a.pod.apps[0], p->manifest, &app, &ports);
        if (r < 0) {
                pod_app_done(&app);
                return r;
        }
        {
                PodNeeds needs = { .volumes = app.n_mounts > 0, .app_io = pod_app_has_io(&app),
                                   .readonly_rootfs = app.readonly_rootfs,
                                   .limits = app.memory_max || app.cpu_quota_milli || app.cpu_weight,
                                   .sockets = app.sockets != NULL,
                                   .event_handlers = app.pre_start || app.post_stop };

                r = pod_check_stage1_features(p->manifest->stage1, features, &needs);
                if (r >= 0 && app.sockets)
                        r = log_usage("app add: sockets are passed to a pod when it starts (rocket run), not to an app added later.");
                if (r < 0) {
                        pod_app_done(&app);
                        return r;
                }
        }
        r = lock_pod(p, &lock, &m);
        if (r < 0) {
                pod_app_done(&app);
                return r;
        }
        if (pod_manifest_find_app(m, app.name)) {
                r = log_error_errno(SYNTHETIC_ERRNO(EEXIST), "Pod %s has an app named '%s' already; choose another with --name.",
                                    p->uuid, app.name);
                pod_app_done(&app);
                return r;
        }
        args[0] = strdup(app.name);
        if (!args[0] || pod_manifest_add_implicit_volumes(m, &app) < 0 || pod_manifest_add_app(m, &app) < 0) {
                pod_app_done(&app);
                free(args[0]);
                return log_oom();
        }
        /* What an earlier app of that name left is not this one's. */
        r = rm_rf_at(p->dir_fd, strjoina("apps/", args[0]));
        if (r >= 0 && mkdirat(p->dir_fd, strjoina("apps/", args[0]), 0755) < 0)
                r = -errno;
        if (r < 0) {
                log_error_errno(r, "Failed to create the directory of app %s: %m", args[0]);
                goto finish;
        }
        r = save_manifest(p, m);
        if (r < 0)
                goto finish;
        s = store_free(s);
        r = call_stage1(pods_fd, p, STAGE1_ENTRYPOINT_APP_ADD, args);
        if (r < 0) {
                /* The pod is as it was: the app is gone from its manifest again. */
                (void) pod_manifest_remove_app(m, args[0]);
                (void) save_manifest(p, m);
                (void) rm_rf_at(p->dir_fd, strjoina("apps/", args[0]));
        }
finish:
        free(args[0]);
        return r;
}

/* start, stop, rm: under the lock, the stage1's entrypoint for the app. */
static int app_change(int argc, char *argv[], RocketContext *ctx, const char *verb) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                {}
        };
        _cleanup_(app_verb_args_done) AppVerbArgs a = { .verb = verb, .out = OUTPUT_ARGS_INIT, .timeout_sec = UINT64_MAX };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(pod_manifest_freep) PodManifest *m = NULL;
        _cleanup_close_ int pods_fd = -EBADF, lock = -EBADF;
        char timeout[64], *args[3] = {};
        int r, rest;

        r = parse_args(&a, options, "+:h", argc, argv, ctx, &pods_fd, &p, &rest);
        if (r <= 0)
                return r;
        if (rest < argc)
                return log_usage("app %s: unexpected argument '%s'.", verb, argv[rest]);
        if (a.timeout_sec != UINT64_MAX && streq(verb, "start"))
                return log_usage("app start: --timeout is for stop and rm.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "app %s: needs root.", verb);
        r = check_pod(p, true);
        if (r < 0)
                return r;
        r = lock_pod(p, &lock, &m);
        if (r < 0)
                return r;
        r = need_app(&a, p, m);
        if (r < 0)
                return r;
        args[0] = (char *) a.app;
        if (a.timeout_sec != UINT64_MAX) {
                snprintf(timeout, sizeof timeout, "--timeout=%llu", (unsigned long long) a.timeout_sec);
                args[1] = timeout;
        }
        if (streq(verb, "start"))
                return call_stage1(pods_fd, p, STAGE1_ENTRYPOINT_APP_START, args);
        if (streq(verb, "stop"))
                return call_stage1(pods_fd, p, STAGE1_ENTRYPOINT_APP_STOP, args);
        r = call_stage1(pods_fd, p, STAGE1_ENTRYPOINT_APP_RM, args);
        if (r < 0)
                return r;
        r = pod_manifest_remove_app(m, a.app);
        if (r >= 0)
                r = save_manifest(p, m);
        if (r >= 0 && rm_rf_at(p->dir_fd, strjoina("apps/", a.app)) < 0)
                log_warning("Could not remove the directory of app %s; 'rocket gc' removes it with the pod.", a.app);
        return r;
}

static int app_start(int argc, char *argv[], RocketContext *ctx) {
        return app_change(argc, argv, ctx, "start");
}

static int app_stop(int argc, char *argv[], RocketContext *ctx) {
        return app_change(argc, argv, ctx, "stop");
}

static int app_rm(int argc, char *argv[], RocketContext *ctx) {
        return app_change(argc, argv, ctx, "rm");
}

static int app_table_row(Table *t, const Pod *p, size_t i) {
        const PodAppStatus *st = &p->apps[i];
        const PodApp *pa = &p->manifest->apps[i];
        _cleanup_free_ char *exit = NULL;
        char id[20], started[64], finished[64];

        snprintf(id, sizeof id, "%.12s", startswith(pa->image_id, "sha256:") ?: pa->image_id);
        if (st->exited && asprintf(&exit, "%i", pod_app_exit_status(st)) < 0)
                return -ENOMEM;
        return table_add_row(t, (const char *const[]) {
                        st->name, pod_app_state(p, st), pa->image_name ?: id, id, exit,
                        st->started ? format_timestamp(started, sizeof started, st->started_usec) : NULL,
                        st->exited ? format_timestamp(finished, sizeof finished, st->when_usec) : NULL });
}

/* list, status: what the manifest and the apps' records say, without the lock (a reader). */
static int app_show(int argc, char *argv[], RocketContext *ctx, bool one) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                OUTPUT_OPTION_FORMAT,
                OUTPUT_OPTION_NO_LEGEND,
                {}
        };
        static const char *const header[] = { "APP", "STATE", "IMAGE", "ID", "EXIT", "STARTED", "FINISHED" };
        _cleanup_(app_verb_args_done) AppVerbArgs a = { .verb = one ? "status" : "list", .out = OUTPUT_ARGS_INIT };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_object_putp) json_object *arr = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        int r, rest;

        r = parse_args(&a, options, "+:h", argc, argv, ctx, &pods_fd, &p, &rest);
        if (r <= 0)
                return r;
        if (rest < argc)
                return log_usage("app %s: unexpected argument '%s'.", a.verb, argv[rest]);
        r = check_pod(p, false);
        if (r < 0)
                return r;
        if (one) {
                r = need_app(&a, p, p->manifest);
                if (r < 0)
                        return r;
        }
        t = table_new(header, ELEMENTSOF(header));
        arr = json_object_new_array();
        if (!t || !arr)
                return log_oom();
        for (size_t i = 0; i < p->n_apps; i++) {
                json_object *o = NULL;

                if (one && !streq(p->apps[i].name, a.app))
                        continue;
                if (a.out.format == OUTPUT_TABLE) {
                        if (app_table_row(t, p, i) < 0)
                                return log_oom();
                        continue;
                }
                if (pod_app_to_json(p, i, &o) < 0)
                        return log_oom();
                if (one) {
                        output_print_json(o, a.out.format);
                        json_object_put(o);
                        return 0;
                }
                if (json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        return log_oom();
                }
        }
        if (a.out.format == OUTPUT_TABLE)
                table_print(t, a.out.legend);
        else
                output_print_json(arr, a.out.format);
        return 0;
}

static int app_list(int argc, char *argv[], RocketContext *ctx) {
        return app_show(argc, argv, ctx, false);
}

static int app_status(int argc, char *argv[], RocketContext *ctx) {
        return app_show(argc, argv, ctx, true);
}

/* The enter entrypoint, as rocket enter runs it, into the named app. */
static int app_exec_cmd(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                COMMON_OPTIONS,
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                {}
        };
        _cleanup_(app_verb_args_done) AppVerbArgs a = { .verb = "exec", .out = OUTPUT_ARGS_INIT };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        int r, rest;

        r = parse_args(&a, options, "+:hit", argc, argv, ctx, &pods_fd, &p, &rest);
        if (r <= 0)
                return r;
        if (rest >= argc)
                return log_usage("app exec: no command given.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "app exec: needs root.");
        if (a.tty && !isatty(STDIN_FILENO))
                return log_usage("app exec: --tty needs a terminal on stdin.");
        r = check_pod(p, true);
        if (r < 0)
                return r;
        r = need_app(&a, p, p->manifest);
        if (r < 0)
                return r;
        /* Without -i the command reads nothing of ours. */
        if (!a.interactive) {
                int fd = open("/dev/null", O_RDONLY|O_CLOEXEC);

                if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                        return log_error_errno(errno, "Failed to open /dev/null: %m");
                safe_close(fd);
        }
        if (strv_extend(&args, strjoina("--app=", a.app)) < 0 || strv_extend(&args, "--") < 0)
                return log_oom();
        for (int i = rest; i < argc; i++)
                if (strv_extend(&args, argv[i]) < 0)
                        return log_oom();
        return rocket_stage1_exec(pods_fd, p, p->dir_fd, STAGE1_ENTRYPOINT_ENTER, args, NULL, 0);
}

static int app_help(int argc _unused_, char *argv[] _unused_, RocketContext *ctx _unused_) {
        help();
        return 0;
}

static const Verb app_verbs[] = {
        { "sandbox", verb_app_sandbox, NULL },
        { "add", app_add, NULL },
        { "start", app_start, NULL },
        { "stop", app_stop, NULL },
        { "rm", app_rm, NULL },
        { "list", app_list, NULL },
        { "status", app_status, NULL },
        { "exec", app_exec_cmd, NULL },
        { "help", app_help, NULL },
        { "--help", app_help, NULL },
        { "-h", app_help, NULL },
        {}
};

int verb_app(int argc, char *argv[], RocketContext *ctx) {
        return verbs_dispatch(app_verbs, "app command", argc - 1, argv + 1, ctx);
}
