/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket list, status, cat-manifest, enter, stop, rm, gc. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "fs-util.h"
#include "log.h"
#include "output.h"
#include "pod-userns.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-list.h"

enum {
        ARG_FORMAT = 0x100,
        ARG_NO_LEGEND,
        ARG_FULL,
        ARG_WAIT,
        ARG_FORCE,
        ARG_APP,
        ARG_ENTER_USER,
        ARG_ENTER_GROUP,
        ARG_GRACE,
        ARG_EXPIRE,
        ARG_PRETTY,
        ARG_TIMEOUT,
};

typedef struct PodVerbArgs {
        OutputFormat format;
        bool legend;
        bool full;
        bool force;
        bool pretty;
        bool wait;
        uint64_t wait_usec;     /* 0: forever */
        uint64_t grace_usec;
        uint64_t expire_usec;
        char *app;
        char *user;
        char *group;
} PodVerbArgs;

static uint64_t now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void help(const char *verb) {
        if (streq(verb, "list"))
                printf("Usage: rocket list [OPTIONS...]\n\nList pods.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --format=FMT        table, json or json-pretty\n"
                       "     --no-legend         Omit the header line\n"
                       "     --full              Show full UUIDs and image IDs\n");
        else if (streq(verb, "status"))
                printf("Usage: rocket status [OPTIONS...] POD\n\nShow a pod's state, PID, machine name, timestamps and "
                       "its apps' exit statuses.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --format=FMT        text (key=value lines), json or json-pretty\n"
                       "     --wait[=DURATION]   Wait until the pod has exited (at most DURATION)\n");
        else if (streq(verb, "cat-manifest"))
                printf("Usage: rocket cat-manifest [OPTIONS...] POD\n\nPrint a pod's manifest.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --pretty-print      Indent the JSON\n");
        else if (streq(verb, "enter"))
                printf("Usage: rocket enter [OPTIONS...] POD [CMD [ARGS...]]\n\nRun CMD (default /bin/sh) in a running "
                       "pod's namespaces and an app's rootfs.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --app=APP           The app whose rootfs to enter (needed with several apps)\n"
                       "     --user=USER         Run as USER of the app's image instead of the app's user\n"
                       "     --group=GROUP       Run with GROUP of the app's image\n");
        else if (streq(verb, "stop"))
                printf("Usage: rocket stop [OPTIONS...] POD...\n\nStop running pods gracefully (the apps get SIGTERM), "
                       "and wait until they have exited.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --force             Kill the pods at once\n"
                       "     --timeout=DURATION  Wait at most DURATION (default 90s), then kill\n");
        else if (streq(verb, "rm"))
                printf("Usage: rocket rm [OPTIONS...] POD...\n\nRemove pods that are not running.\n\nOptions:\n"
                       "  -h --help              Show this help\n");
        else
                printf("Usage: rocket gc [OPTIONS...]\n\nRemove exited pods after a grace period, and prepared pods "
                       "never run.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --grace-period=DURATION     Keep exited pods this long (default 30min)\n"
                       "     --expire-prepared=DURATION  Keep prepared pods this long (default 24h)\n");
}

static int parse(const char *verb, int argc, char *argv[], const char *allowed, PodVerbArgs *a) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "full", no_argument, NULL, ARG_FULL },
                { "wait", optional_argument, NULL, ARG_WAIT },
                { "force", no_argument, NULL, ARG_FORCE },
                { "app", required_argument, NULL, ARG_APP },
                { "user", required_argument, NULL, ARG_ENTER_USER },
                { "group", required_argument, NULL, ARG_ENTER_GROUP },
                { "grace-period", required_argument, NULL, ARG_GRACE },
                { "expire-prepared", required_argument, NULL, ARG_EXPIRE },
                { "pretty-print", no_argument, NULL, ARG_PRETTY },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                {}
        };
        int c;

        *a = (PodVerbArgs) {
                .format = OUTPUT_TABLE,
                .legend = true,
                .grace_usec = 30 * 60 * 1000000ULL,
                .expire_usec = 24 * 3600 * 1000000ULL,
                .wait_usec = 90 * 1000000ULL,
        };
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:h", options, NULL)) >= 0) {
                const struct option *o = NULL;

                for (const struct option *x = options; x->name; x++)
                        if (x->val == c)
                                o = x;
                if (c != 'h' && o && !word_in_list(allowed, o->name))
                        return getopt_error(verb, '?', argv);
                switch (c) {
                case 'h':
                        help(verb);
                        return 0;
                case ARG_FORMAT:
                        if (streq(optarg, "text"))
                                a->format = OUTPUT_TABLE;
                        else if ((a->format = output_format_from_string(optarg)) < 0)
                                return log_usage("%s: unknown format '%s'.", verb, optarg);
                        break;
                case ARG_NO_LEGEND:
                        a->legend = false;
                        break;
                case ARG_FULL:
                        a->full = true;
                        break;
                case ARG_WAIT:
                        a->wait = true;
                        a->wait_usec = 0;
                        if (optarg && parse_duration(optarg, &a->wait_usec) < 0)
                                return log_usage("%s: invalid duration '%s'.", verb, optarg);
                        break;
                case ARG_TIMEOUT:
                        if (parse_duration(optarg, &a->wait_usec) < 0)
                                return log_usage("%s: invalid duration '%s'.", verb, optarg);
                        break;
                case ARG_FORCE:
                        a->force = true;
                        break;
                case ARG_ENTER_USER:
                case ARG_ENTER_GROUP:
                        if (isempty(optarg) || strlen(optarg) > 256 || strpbrk(optarg, "\n"))
                                return log_usage("%s: invalid %s '%s'.", verb, o->name, optarg);
                        free(c == ARG_ENTER_USER ? a->user : a->group);
                        *(c == ARG_ENTER_USER ? &a->user : &a->group) = strdup(optarg);
                        if (!(c == ARG_ENTER_USER ? a->user : a->group))
                                return log_oom();
                        break;
                case ARG_APP:
                        if (!name_is_valid(optarg))
                                return log_usage("%s: invalid app name '%s'.", verb, optarg);
                        free(a->app);
                        a->app = strdup(optarg);
                        if (!a->app)
                                return log_oom();
                        break;
                case ARG_GRACE:
                        if (parse_duration(optarg, &a->grace_usec) < 0)
                                return log_usage("%s: invalid duration '%s'.", verb, optarg);
                        break;
                case ARG_EXPIRE:
                        if (parse_duration(optarg, &a->expire_usec) < 0)
                                return log_usage("%s: invalid duration '%s'.", verb, optarg);
                        break;
                case ARG_PRETTY:
                        a->pretty = true;
                        break;
                default:
                        return getopt_error(verb, c, argv);
                }
        }
        return 1;
}

static void args_done(PodVerbArgs *a) {
        free(a->app);
        free(a->user);
        free(a->group);
}

/* The pod's own limits and whether they are in force, as its stage1 recorded them ("limits": lines of
 * NAME=VALUE enforced|not-enforced). A file of the pod's directory: read as the untrusted text it is. */
typedef struct PodLimit {
        char name[16];
        uint64_t value;
        bool enforced;
} PodLimit;

static size_t pod_limits_read(const Pod *p, PodLimit ret[static 8]) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        if (read_full_file_at(p->dir_fd, "limits", 4096, &text, NULL) < 0)
                return 0;
        for (char *l = text, *nl; l && *l && n < 8; l = nl) {
                char name[16], how[16];
                uint64_t v;

                nl = strchr(l, '\n');
                if (nl)
                        *nl++ = 0;
                if (sscanf(l, "%15[a-z]=%" SCNu64 " %15s", name, &v, how) != 3 ||
                    !(streq(how, "enforced") || streq(how, "not-enforced")))
                        continue;
                snprintf(ret[n].name, sizeof ret[n].name, "%s", name);
                ret[n].value = v;
                ret[n].enforced = streq(how, "enforced");
                n++;
        }
        return n;
}

static int pod_to_json(const Pod *p, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *apps = json_object_new_array();
        int r = 0;

        if (!o || !apps)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_apps && r >= 0; i++) {
                const PodAppStatus *a = &p->apps[i];
                const PodApp *pa = &p->manifest->apps[i];
                json_object *ao = json_object_new_object();

                if (!ao || json_object_array_add(apps, ao) < 0) {
                        json_object_put(ao);
                        return -ENOMEM;
                }
                r = json_add_string(ao, "name", a->name);
                if (r >= 0)
                        r = json_add_string(ao, "image", pa->image_id);
                if (r >= 0 && pa->image_name)
                        r = json_add_string(ao, "imageName", pa->image_name);
                if (r >= 0 && a->exited) {
                        /* As systemd names them: how it ended, and the exit code when it exited itself. */
                        r = json_add_string(ao, "exitReason", a->how);
                        if (r >= 0 && streq(a->how, "exited"))
                                r = json_add_int64(ao, "exitCode", a->status);
                        if (r >= 0)
                                r = json_add_int64(ao, "exitStatus", streq(a->how, "exited") ? a->status
                                                                                               : 128 + a->status);
                        if (r >= 0 && !streq(a->how, "exited"))
                                r = json_add_string(ao, "signal", sigabbrev_np(a->status) ?: "?");
                        if (r >= 0)
                                r = json_add_int64(ao, "exitTime", (int64_t) a->when_usec);
                }
        }
        if (r >= 0)
                r = json_add_string(o, "uuid", p->uuid);
        if (r >= 0 && p->manifest)
                r = json_add_string(o, "name", p->manifest->name);
        if (r >= 0)
                r = json_add_string(o, "state", pod_state_to_string(p->state));
        if (r >= 0 && p->manifest)
                r = json_add_string(o, "machine", p->manifest->name);
        if (r >= 0 && p->pid > 0 && p->state == POD_RUNNING)
                r = json_add_int64(o, "pid", p->pid);
        if (r >= 0 && p->manifest && p->manifest->userns_base)
                r = json_add_int64(o, "privateUsers", p->manifest->userns_base);
        if (r >= 0)
                r = json_add_int64(o, "created", (int64_t) p->created_usec);
        if (r >= 0 && p->started_usec)
                r = json_add_int64(o, "started", (int64_t) p->started_usec);
        if (r >= 0 && p->finished_usec && p->state >= POD_EXITED)
                r = json_add_int64(o, "finished", (int64_t) p->finished_usec);
        if (r >= 0) {
                PodLimit limits[8];
                size_t n = pod_limits_read(p, limits);
                json_object *lo = n > 0 ? json_object_new_object() : NULL;

                if (n > 0 && !lo)
                        r = -ENOMEM;
                for (size_t i = 0; i < n && r >= 0; i++) {
                        json_object *one = json_object_new_object();

                        if (!one || json_add_int64(one, "value", (int64_t) limits[i].value) < 0 ||
                            json_add(one, "enforced", json_object_new_boolean(limits[i].enforced)) < 0) {
                                json_object_put(one);
                                r = -ENOMEM;
                        } else
                                r = json_add(lo, limits[i].name, one);  /* takes one, also on failure */
                }
                if (r >= 0 && lo)
                        r = json_add(o, "limits", lo);
                else
                        json_object_put(lo);
        }
        if (r >= 0)
                r = json_add(o, "apps", TAKE_PTR(apps));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

static void print_json(json_object *o, OutputFormat f) {
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE |
                                                      (f == OUTPUT_JSON_PRETTY ? JSON_C_TO_STRING_PRETTY
                                                                               : JSON_C_TO_STRING_PLAIN)));
}

int verb_list(int argc, char *argv[], RocketContext *ctx) {
        static const char *const header[] = { "UUID", "NAME", "APPS", "IMAGES", "STATE", "CREATED", "STARTED" };
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_object_putp) json_object *arr = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        Pod **l = NULL;
        size_t n = 0;
        int r;

        r = parse("list", argc, argv, "format no-legend full", &a);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage("list: takes no arguments.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0)
                return r;
        if (pods_fd >= 0) {
                r = pod_list_summaries(pods_fd, &l, &n);
                if (r < 0)
                        return log_error_errno(r, "Failed to list pods: %m");
        }
        t = table_new(header, ELEMENTSOF(header));
        arr = json_object_new_array();
        if (!t || !arr)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                Pod *p = l[i];
                _cleanup_free_ char *apps = NULL, *images = NULL;
                char uuid[37], created[64], started[64];
                json_object *o = NULL;

                if (!p->manifest)
                        continue;       /* an embryo without a manifest yet, or a broken directory */
                if (a.format != OUTPUT_TABLE && (pod_to_json(p, &o) < 0 || json_object_array_add(arr, o) < 0)) {
                        json_object_put(o);
                        goto oom;
                }
                for (size_t k = 0; k < p->manifest->n_apps; k++) {
                        const PodApp *pa = &p->manifest->apps[k];
                        char *x = NULL, *y = NULL;

                        if (asprintf(&x, "%s%s%s", strempty(apps), apps ? "," : "", pa->name) < 0 ||
                            asprintf(&y, "%s%s%s", strempty(images), images ? "," : "",
                                     a.full ? pa->image_id : (pa->image_name ?: pa->image_id)) < 0) {
                                free(x);
                                goto oom;
                        }
                        free(apps);
                        free(images);
                        apps = x;
                        images = y;
                }
                snprintf(uuid, sizeof uuid, "%s", p->uuid);
                if (!a.full)
                        uuid[8] = 0;
                if (table_add_row(t, (const char *[]) {
                                uuid, p->manifest->name, apps, images, pod_state_to_string(p->state),
                                format_timestamp(created, sizeof created, p->created_usec),
                                p->started_usec ? format_timestamp(started, sizeof started, p->started_usec) : NULL }) < 0)
                        goto oom;
        }
        pod_array_free(l, n);
        if (a.format == OUTPUT_TABLE)
                table_print(t, a.legend);
        else
                print_json(arr, a.format);
        return 0;
oom:
        pod_array_free(l, n);
        return log_oom();
}

static int resolve_one(RocketContext *ctx, const char *verb, int argc, char *argv[], int *pods_fd, Pod **ret) {
        if (argc - optind < 1)
                return log_usage("%s: no POD given.", verb);
        return rocket_pod_find(ctx, argv[optind], pods_fd, ret);
}

/* Waits until nobody holds the pod's lock, polling (the holders' shared locks never block a shared one). */
static int wait_exited(const Pod *p, uint64_t timeout_usec) {
        uint64_t deadline = timeout_usec ? now_usec() + timeout_usec : 0;

        while (pod_is_locked(p->dir_fd)) {
                if (deadline && now_usec() > deadline)
                        return -ETIMEDOUT;
                usleep(50 * 1000);
        }
        return 0;
}

int verb_status(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        char ts[64];
        int r;

        r = parse("status", argc, argv, "format wait", &a);
        if (r <= 0)
                return r;
        r = resolve_one(ctx, "status", argc, argv, &pods_fd, &p);
        if (r < 0)
                return r;
        if (argc - optind > 1)
                return log_usage("status: give exactly one POD.");
        if (a.wait && p->state <= POD_RUNNING) {
                _cleanup_free_ char *uuid = strdup(p->uuid);

                if (!uuid)
                        return log_oom();
                /* A prepared pod may start meanwhile: wait for it to run first. */
                while (p->state < POD_RUNNING) {
                        usleep(100 * 1000);
                        p = pod_free(p);
                        r = pod_resolve(pods_fd, uuid, &p);
                        if (r < 0)
                                return log_error_errno(r, "Pod %s went away.", uuid);
                }
                r = wait_exited(p, a.wait_usec);
                if (r < 0)
                        return log_error_errno(r, "Pod %s is still running.", uuid);
                p = pod_free(p);
                r = pod_resolve(pods_fd, uuid, &p);
                if (r < 0)
                        return log_error_errno(r, "Pod %s went away.", uuid);
        }
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);

        if (a.format != OUTPUT_TABLE) {
                r = pod_to_json(p, &o);
                if (r < 0)
                        return log_oom();
                print_json(o, a.format);
                return 0;
        }
        printf("uuid=%s\nname=%s\nstate=%s\nmachine=%s\n", p->uuid, p->manifest->name, pod_state_to_string(p->state),
               p->manifest->name);
        printf("created=%s\n", format_timestamp(ts, sizeof ts, p->created_usec));
        if (p->started_usec)
                printf("started=%s\n", format_timestamp(ts, sizeof ts, p->started_usec));
        if (p->state == POD_RUNNING && p->pid > 0)
                printf("pid=%i\n", (int) p->pid);
        if (p->manifest->userns_base)
                printf("private-users=%u:%u\n", p->manifest->userns_base, POD_USERNS_SIZE);
        if (p->state >= POD_EXITED && p->finished_usec)
                printf("exited=%s\n", format_timestamp(ts, sizeof ts, p->finished_usec));
        {
                PodLimit limits[8];
                size_t n = pod_limits_read(p, limits);

                for (size_t i = 0; i < n; i++)
                        printf("limit-%s=%" PRIu64 "%s\n", limits[i].name, limits[i].value,
                               limits[i].enforced ? "" : " (not enforced)");
        }
        for (size_t i = 0; i < p->n_apps; i++) {
                const PodAppStatus *s = &p->apps[i];

                if (!s->exited)
                        printf("app-%s=%s\n", s->name, p->state == POD_RUNNING ? "running" : "-");
                else if (streq(s->how, "exited"))
                        printf("app-%s=%i\n", s->name, s->status);
                else
                        printf("app-%s=%i (%s SIG%s)\n", s->name, 128 + s->status, s->how, sigabbrev_np(s->status) ?: "?");
        }
        return 0;
}

int verb_cat_manifest(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        int r;

        r = parse("cat-manifest", argc, argv, "pretty-print", &a);
        if (r <= 0)
                return r;
        r = resolve_one(ctx, "cat-manifest", argc, argv, &pods_fd, &p);
        if (r < 0)
                return r;
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        r = pod_manifest_to_json(p->manifest, &o);
        if (r < 0)
                return log_oom();
        print_json(o, a.pretty ? OUTPUT_JSON_PRETTY : OUTPUT_JSON);
        return 0;
}

int verb_enter(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_strv_free_ char **args = NULL;
        _cleanup_free_ char *app_opt = NULL;
        int r;

        r = parse("enter", argc, argv, "app user group", &a);
        if (r <= 0)
                return r;
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "enter: needs root.");
        r = resolve_one(ctx, "enter", argc, argv, &pods_fd, &p);
        if (r < 0)
                return r;
        if (p->state != POD_RUNNING)
                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is %s, not running.", p->uuid,
                                       pod_state_to_string(p->state));
        if (!a.app && p->manifest->n_apps > 1) {
                _cleanup_free_ char *names = NULL;
                char **l = NULL;

                for (size_t i = 0; i < p->manifest->n_apps; i++)
                        if (strv_extend(&l, p->manifest->apps[i].name) < 0)
                                return log_oom();
                r = strv_join(l, ", ", &names);
                strv_free(l);
                if (r < 0)
                        return log_oom();
                return log_usage("enter: pod %s has several apps (%s); pick one with --app.", p->uuid, names);
        }
        if (a.app && !pod_manifest_find_app(p->manifest, a.app))
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Pod %s has no app '%s'.", p->uuid, a.app);
        if (asprintf(&app_opt, "--app=%s", a.app ?: p->manifest->apps[0].name) < 0 || strv_extend(&args, app_opt) < 0 ||
            (a.user && strv_extend(&args, strjoina("--user=", a.user)) < 0) ||
            (a.group && strv_extend(&args, strjoina("--group=", a.group)) < 0) ||
            strv_extend(&args, "--") < 0)
                return log_oom();
        for (int i = optind + 1; i < argc; i++)
                if (strv_extend(&args, argv[i]) < 0)
                        return log_oom();
        return rocket_stage1_exec(pods_fd, p, p->dir_fd, "enter", args, NULL, 0);
}

int verb_stop(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_close_ int pods_fd = -EBADF;
        int r, ret = 0;

        r = parse("stop", argc, argv, "force timeout", &a);
        if (r <= 0)
                return r;
        if (optind >= argc)
                return log_usage("stop: no POD given.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "stop: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0)
                return r;
        /* Signal every pod first, then wait for them: N pods stop in the time of the slowest. */
        {
                char *force[] = { (char *) "--force", NULL }, *none[] = { NULL };
                Pod **stopping = calloc((size_t) (argc - optind), sizeof(Pod *));
                size_t n = 0;

                if (!stopping)
                        return log_oom();
                for (int i = optind; i < argc; i++) {
                        Pod *p = NULL;

                        r = rocket_pod_resolve(pods_fd, argv[i], &p);
                        if (r < 0) {
                                ret = r;
                                continue;
                        }
                        if (p->state != POD_RUNNING) {
                                ret = log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is %s, not running.", p->uuid,
                                                      pod_state_to_string(p->state));
                                pod_free(p);
                                continue;
                        }
                        r = rocket_stage1_call(pods_fd, p, "stop", a.force ? force : none);
                        if (r != 0) {
                                ret = r < 0 ? r : log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to stop pod %s.", p->uuid);
                                pod_free(p);
                                continue;
                        }
                        stopping[n++] = p;
                }
                for (size_t i = 0; i < n; i++) {
                        Pod *p = stopping[i];

                        r = wait_exited(p, a.wait_usec);
                        if (r == -ETIMEDOUT && !a.force) {
                                log_warning("Pod %s did not stop within the timeout; killing it.", p->uuid);
                                (void) rocket_stage1_call(pods_fd, p, "stop", force);
                                r = wait_exited(p, 10 * 1000000ULL);
                        }
                        if (r < 0)
                                ret = log_error_errno(r, "Pod %s did not stop.", p->uuid);
                        else
                                printf("%s\n", p->uuid);
                }
                pod_array_free(stopping, n);
        }
        return ret;
}

/* Removes a pod that nobody runs: the stage1's gc entrypoint, then the directory. */
static int remove_pod(int pods_fd, Pod *p) {
        char *none[] = { NULL };
        int r;

        r = pod_lock_exclusive(p->dir_fd);
        if (r < 0)
                return log_error_errno(r, "Pod %s is in use.", p->uuid);
        if (p->manifest && IN_SET(p->state, POD_EXITED, POD_EXITED_GARBAGE)) {
                r = rocket_stage1_call(pods_fd, p, "gc", none);
                if (r != 0)
                        log_warning("The stage1's gc of pod %s failed; removing the pod anyway.", p->uuid);
        }
        r = pod_remove(pods_fd, p);
        if (r < 0)
                return log_error_errno(r, "Failed to remove pod %s: %m", p->uuid);
        pod_userns_release(ROCKET_USERNS_REGISTRY, pods_fd, p);
        return 0;
}

int verb_rm(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_close_ int pods_fd = -EBADF;
        int r, ret = 0;

        r = parse("rm", argc, argv, "", &a);
        if (r <= 0)
                return r;
        if (optind >= argc)
                return log_usage("rm: no POD given.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "rm: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                _cleanup_(pod_freep) Pod *p = NULL;

                r = rocket_pod_resolve(pods_fd, argv[i], &p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                if (IN_SET(p->state, POD_RUNNING, POD_PREPARING)) {
                        ret = log_error_errno(SYNTHETIC_ERRNO(EBUSY), "Pod %s is %s; stop it first.", p->uuid,
                                              pod_state_to_string(p->state));
                        continue;
                }
                r = remove_pod(pods_fd, p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                printf("%s\n", p->uuid);
        }
        return ret;
}

static uint64_t mark_time(const Pod *p) {
        _cleanup_free_ char *text = NULL;

        if (read_full_file_at(p->dir_fd, "gc-marked", 64, &text, NULL) < 0)
                return 0;
        return strtoull(text, NULL, 10);
}

int verb_gc(int argc, char *argv[], RocketContext *ctx) {
        _cleanup_(args_done) PodVerbArgs a = {};
        _cleanup_close_ int pods_fd = -EBADF;
        Pod **l = NULL;
        size_t n = 0, removed = 0;
        uint64_t now = now_usec();
        int r, ret = 0;

        r = parse("gc", argc, argv, "grace-period expire-prepared", &a);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage("gc: takes no arguments.");
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "gc: needs root.");
        r = rocket_pods_open_existing(ctx, &pods_fd);
        if (r < 0 || pods_fd < 0)
                return r;
        r = pod_list(pods_fd, &l, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to list pods: %m");

        for (size_t i = 0; i < n; i++) {
                Pod *p = l[i];
                char stamp[32];

                /* Mark: exited pods go to exited-garbage (when), expired prepared pods and abandoned embryos to
                 * garbage. */
                switch (p->state) {
                case POD_EXITED:
                        snprintf(stamp, sizeof stamp, "%llu\n", (unsigned long long) now);
                        if (pod_lock_exclusive(p->dir_fd) < 0)
                                continue;
                        (void) write_file_volatile_at(p->dir_fd, "gc-marked", stamp, strlen(stamp), 0644);
                        r = pod_transition(pods_fd, p, POD_EXITED_GARBAGE);
                        if (r < 0 && r != -ENOENT)
                                ret = log_error_errno(r, "Failed to mark pod %s: %m", p->uuid);
                        break;
                case POD_PREPARED:
                        if (p->created_usec + a.expire_usec > now || pod_lock_exclusive(p->dir_fd) < 0)
                                continue;
                        r = pod_transition(pods_fd, p, POD_GARBAGE);
                        if (r < 0 && r != -ENOENT)
                                ret = log_error_errno(r, "Failed to mark pod %s: %m", p->uuid);
                        break;
                case POD_EMBRYO:
                        /* Unlocked for a while: its rocket died while creating it (a fresh one may not
                         * have taken its lock yet). */
                        if (p->created_usec + 60 * 1000000ULL < now && pod_lock_exclusive(p->dir_fd) >= 0)
                                (void) pod_transition(pods_fd, p, POD_GARBAGE);
                        break;
                default:
                        break;
                }
        }
        /* Sweep. */
        for (size_t i = 0; i < n; i++) {
                Pod *p = l[i];

                if (p->state == POD_EXITED_GARBAGE) {
                        uint64_t marked = mark_time(p);

                        if (marked + a.grace_usec > now)
                                continue;
                } else if (p->state != POD_GARBAGE)
                        continue;
                r = remove_pod(pods_fd, p);
                if (r < 0) {
                        ret = r;
                        continue;
                }
                removed++;
                log_info("Removed pod %s.", p->uuid);
        }
        /* Hidden leftovers of removals that were interrupted. */
        {
                _cleanup_(closedirp) DIR *d = NULL;

                if (opendir_at(pods_fd, "garbage", &d) >= 0)
                        for (struct dirent *de; (de = readdir(d)); )
                                if (startswith(de->d_name, ".deleting-"))
                                        (void) rm_rf_at(dirfd(d), de->d_name);
        }
        pod_array_free(l, n);
        return ret;
}
