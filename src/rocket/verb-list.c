/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket list. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "output.h"
#include "pod-json.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "verb-all.h"

static void help(void) {
        printf("Usage: rocket list [OPTIONS...]\n\nList pods.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --format=FMT        table, json or json-pretty\n"
                       "     --no-legend         Omit the header line\n"
                       "     --full              Show full UUIDs and image IDs\n");
}

static int parse_option(int option, const char *arg, void *userdata) {
        int r = output_args_parse(userdata, "list", option, arg);

        return r < 0 ? r : 0;
}

int verb_list(int argc, char *argv[], RocketContext *ctx) {
        static const char *const header[] = { "UUID", "NAME", "APPS", "IMAGES", "STATE", "NETWORKS", "CREATED",
                                              "STARTED" };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                OUTPUT_OPTION_FORMAT,
                OUTPUT_OPTION_NO_LEGEND,
                OUTPUT_OPTION_FULL,
                {}
        };
        OutputArgs a = OUTPUT_ARGS_INIT;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_object_putp) json_object *arr = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        Pod **l = NULL;
        size_t n = 0;
        int r;

        r = verb_parse_options("list", argc, argv, options, help, parse_option, &a);
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
                _cleanup_free_ char *apps = NULL, *images = NULL, *networks = NULL;
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
                if (p->state == POD_RUNNING) {
                        PodNetInfo *nets = NULL;
                        size_t k = 0;

                        if (pod_networks_read(p, &nets, &k) < 0)
                                goto oom;
                        networks = pod_networks_format(nets, k);
                        pod_networks_free(nets, k);
                }
                snprintf(uuid, sizeof uuid, "%s", p->uuid);
                if (!a.full)
                        uuid[8] = 0;
                if (table_add_row(t, (const char *[]) {
                                uuid, p->manifest->name, apps, images, pod_state_to_string(p->state), networks,
                                format_timestamp(created, sizeof created, p->created_usec),
                                p->started_usec ? format_timestamp(started, sizeof started, p->started_usec) : NULL }) < 0)
                        goto oom;
        }
        pod_array_free(l, n);
        if (a.format == OUTPUT_TABLE)
                table_print(t, a.legend);
        else
                output_print_json(arr, a.format);
        return 0;
oom:
        pod_array_free(l, n);
        return log_oom();
}
