/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket status. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni.h"
#include "log.h"
#include "output.h"
#include "pod-json.h"
#include "pod-userns.h"
#include "rocket-pod.h"
#include "string-util.h"
#include "stage1-abi.h"
#include "verb-all.h"
#include "time-util.h"

enum { ARG_WAIT = 0x100, ARG_WAIT_READY, ARG_CHECK_NETWORKS, ARG_UUID_FILE };

static void help(void) {
        printf("Usage: rocket status [OPTIONS...] POD\n\nShow a pod's state, PID, machine name, timestamps and "
                       "its apps' exit statuses.\n\nOptions:\n"
                       "  -h --help              Show this help\n"
                       "     --format=FMT        text (key=value lines), json or json-pretty\n"
                       "     --wait[=DURATION]   Wait until the pod has exited (at most DURATION)\n"
                       "     --wait-ready[=DURATION]  Wait until every app of the pod has started (at\n"
                       "                         most DURATION, default 90s)\n"
                       "     --check-networks    Ask each of the pod's CNI networks whether it is still as\n"
                       "                         set up (CNI CHECK); exit 1 if one is not\n"
                       "     --uuid-file=FILE    The pod whose UUID FILE holds (as --uuid-file-save wrote it)\n");
}

typedef struct StatusArgs {
        OutputArgs out;
        bool wait;
        uint64_t wait_usec;
        bool wait_ready;
        uint64_t wait_ready_usec;
        bool check_networks;
        const char *uuid_file;
} StatusArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        StatusArgs *a = userdata;
        int r;

        if (option == ARG_CHECK_NETWORKS) {
                a->check_networks = true;
                return 0;
        }
        if (option == ARG_UUID_FILE) {
                a->uuid_file = arg;
                return 0;
        }
        if (option == ARG_WAIT_READY) {
                a->wait_ready = true;
                if (arg && parse_duration(arg, &a->wait_ready_usec) < 0)
                        return log_usage("status: invalid duration '%s'.", arg);
                return 0;
        }
        if (option == ARG_WAIT) {
                a->wait = true;
                a->wait_usec = 0;
                if (arg && parse_duration(arg, &a->wait_usec) < 0)
                        return log_usage("status: invalid duration '%s'.", arg);
                return 0;
        }
        r = output_args_parse(&a->out, "status", option, arg);
        return r < 0 ? r : 0;
}

/* Waits, then reads the pod again (its state and files change under us). */
static int pod_reload_after(int pods_fd, const char *uuid, useconds_t usec, Pod **p) {
        int r;

        usleep(usec);
        *p = pod_free(*p);
        r = pod_resolve(pods_fd, uuid, p);
        if (r < 0)
                return log_error_errno(r, "Pod %s went away.", uuid);
        return 0;
}

/* --check-networks: CNI CHECK of each network of a running pod, with the result its stage1 cached. */
static int check_networks(const Pod *p) {
        _cleanup_(json_object_putp) json_object *ports = NULL;
        _cleanup_free_ char *netns = NULL;
        const PodNet *n = &p->manifest->net;
        int ret = 0;

        if (p->state != POD_RUNNING || n->host || n->n_networks == 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Pod %s is not running on networks of its own.",
                                       p->uuid);
        if (asprintf(&netns, POD_NETNS_PREFIX "%s", p->uuid) < 0 || cni_port_mappings(n, &ports) < 0)
                return log_oom();
        for (size_t i = 0; i < n->n_networks; i++) {
                const PodNetwork *w = &n->networks[i];
                _cleanup_(json_object_putp) json_object *result = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL, *err = NULL;
                CniRuntime rt;
                int r;

                if (asprintf(&path, STAGE1_POD_NET "/%s.json", w->name) < 0)
                        return log_oom();
                r = pod_read_written_file(p->dir_fd, path, 1024 * 1024, &text);
                if (r >= 0)
                        r = json_parse_strict(text, strlen(text), &result);
                if (r < 0) {
                        printf("network-%s=not set up\n", w->name);
                        if (ret >= 0)
                                ret = log_error_errno(SYNTHETIC_ERRNO(ENOENT), "Network '%s' of pod %s is not set up.",
                                                      w->name, p->uuid);
                        continue;
                }
                cni_runtime_init(&rt, p->uuid, n, w, netns, ports);
                r = cni_check(w->config, &rt, result, &err);
                printf("network-%s=%s%s\n", w->name, r < 0 ? "failed: " : "ok", r < 0 ? strna(err) : "");
                if (r < 0 && ret >= 0)
                        ret = log_error_errno(r, "Network '%s' of pod %s: CHECK failed: %s.", w->name, p->uuid,
                                              err ?: strerror(-r));
        }
        return ret;
}

int verb_status(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                OUTPUT_OPTION_FORMAT,
                { "wait", optional_argument, NULL, ARG_WAIT },
                { "wait-ready", optional_argument, NULL, ARG_WAIT_READY },
                { "check-networks", no_argument, NULL, ARG_CHECK_NETWORKS },
                { "uuid-file", required_argument, NULL, ARG_UUID_FILE },
                {}
        };
        StatusArgs a = { .out = OUTPUT_ARGS_INIT, .wait_usec = 90 * USEC_PER_SEC, .wait_ready_usec = 90 * USEC_PER_SEC };
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        char ts[64];
        int r;

        r = verb_parse_options("status", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                return r;
        if (argc - optind > (a.uuid_file ? 0 : 1))
                return log_usage("status: give exactly one POD (or --uuid-file=).");
        r = rocket_pod_find_arg(ctx, "status", a.uuid_file, argc, argv, &pods_fd, &p, NULL);
        if (r < 0)
                return r;
        if (a.wait && a.wait_ready)
                return log_usage("status: --wait and --wait-ready exclude each other.");
        if (a.wait_ready) {
                _cleanup_free_ char *uuid = strdup(p->uuid);
                uint64_t deadline = a.wait_ready_usec ? now_realtime_usec() + a.wait_ready_usec : 0;

                if (!uuid)
                        return log_oom();
                /* Running, and its stage1 said every app has started (STAGE1_POD_READY). */
                while (!(p->state == POD_RUNNING && faccessat(p->dir_fd, STAGE1_POD_READY, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)) {
                        if (p->state > POD_RUNNING)
                                return log_error_errno(SYNTHETIC_ERRNO(ESRCH), "Pod %s is %s: it did not become ready.",
                                                       uuid, pod_state_to_string(p->state));
                        if (deadline && now_realtime_usec() > deadline)
                                return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT), "Pod %s is not ready in time.", uuid);
                        r = pod_reload_after(pods_fd, uuid, 50 * 1000, &p);
                        if (r < 0)
                                return r;
                }
        }
        if (a.wait && p->state <= POD_RUNNING) {
                _cleanup_free_ char *uuid = strdup(p->uuid);
                uint64_t deadline = a.wait_usec ? now_realtime_usec() + a.wait_usec : 0, now;

                if (!uuid)
                        return log_oom();
                /* A prepared pod may start meanwhile: wait for it to run first, within the same limit. */
                while (p->state < POD_RUNNING) {
                        if (deadline && now_realtime_usec() > deadline)
                                return log_error_errno(SYNTHETIC_ERRNO(ETIMEDOUT), "Pod %s has not started.", uuid);
                        r = pod_reload_after(pods_fd, uuid, 100 * 1000, &p);
                        if (r < 0)
                                return r;
                }
                now = now_realtime_usec();
                r = pod_wait_unlocked(p, !deadline ? 0 : deadline > now ? deadline - now : 1);
                if (r < 0)
                        return log_error_errno(r, "Pod %s is still running.", uuid);
                p = pod_free(p);
                r = pod_resolve(pods_fd, uuid, &p);
                if (r < 0)
                        return log_error_errno(r, "Pod %s went away.", uuid);
        }
        if (!p->manifest)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "Pod %s has no readable manifest.", p->uuid);
        if (a.check_networks)
                return check_networks(p);

        if (a.out.format != OUTPUT_TABLE) {
                r = pod_to_json(p, &o);
                if (r < 0)
                        return log_oom();
                output_print_json(o, a.out.format);
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
        /* rkt's form: one line each, by kind. */
        STRV_FOREACH(e, p->manifest->annotations)
                printf("annotation-%s\n", *e);
        STRV_FOREACH(e, p->manifest->user_annotations)
                printf("user-annotation-%s\n", *e);
        STRV_FOREACH(e, p->manifest->user_labels)
                printf("user-label-%s\n", *e);
        {
                PodLimit limits[8];
                size_t n = pod_limits_read(p, limits);

                for (size_t i = 0; i < n; i++)
                        printf("limit-%s=%" PRIu64 "%s\n", limits[i].name, limits[i].value,
                               limits[i].enforced ? "" : " (not enforced)");
        }
        {
                PodNetInfo *nets = NULL;
                size_t n = 0;

                if (pod_networks_read(p, &nets, &n) < 0)
                        return log_oom();
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *addrs = NULL;

                        if (strv_join(nets[i].addresses, " ", &addrs) < 0) {
                                pod_networks_free(nets, n);
                                return log_oom();
                        }
                        printf("network-%s=%s%s%s\n", nets[i].name, strempty(nets[i].ifname),
                               isempty(addrs) ? "" : " ", addrs);
                }
                pod_networks_free(nets, n);
        }
        for (size_t i = 0; i < p->n_apps; i++) {
                const PodAppStatus *s = &p->apps[i];

                if (!s->exited)
                        printf("app-%s=%s\n", s->name, p->state == POD_RUNNING ? pod_app_state(p, s) : "-");
                else if (streq(s->how, "exited"))
                        printf("app-%s=%i\n", s->name, s->status);
                else
                        printf("app-%s=%i (%s SIG%s)\n", s->name, pod_app_exit_status(s), s->how,
                               sigabbrev_np(s->status) ?: "?");
        }
        return 0;
}
