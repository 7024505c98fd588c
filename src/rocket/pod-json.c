/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A pod as rocket list and rocket status show it in JSON, and the limits its stage1 recorded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni.h"
#include "fs-util.h"
#include "json-util.h"
#include "pod-json.h"
#include "stage1-abi.h"
#include "string-util.h"

/* The pod's own limits and whether they are in force, as its stage1 recorded them ("limits": lines of
 * NAME=VALUE enforced|not-enforced). A file of the pod's directory: read as the untrusted text it is. */
size_t pod_limits_read(const Pod *p, PodLimit ret[static 8]) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;

        if (pod_read_written_file(p->dir_fd, STAGE1_POD_LIMITS, 4096, &text) < 0)
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

void pod_networks_free(PodNetInfo *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].name);
                free(l[i].ifname);
                strv_free(l[i].addresses);
        }
        free(l);
}

static int filter_result(const struct dirent *de) {
        return de->d_name[0] != '.' && endswith(de->d_name, ".json");
}

int pod_networks_read(const Pod *p, PodNetInfo **ret, size_t *ret_n) {
        _cleanup_close_ int net_fd = openat(p->dir_fd, STAGE1_POD_NET, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        struct dirent **names = NULL;
        PodNetInfo *l = NULL;
        size_t n = 0;
        int k, r = 0;

        *ret = NULL;
        *ret_n = 0;
        if (net_fd < 0)
                return 0;
        k = scandirat(net_fd, ".", &names, filter_result, alphasort);
        if (k < 0)
                return 0;
        l = calloc((size_t) k + 1, sizeof(PodNetInfo));
        if (!l)
                r = -ENOMEM;
        for (int i = 0; i < k; i++) {
                _cleanup_(json_object_putp) json_object *result = NULL;
                _cleanup_free_ char *text = NULL;
                char *name;

                if (r >= 0 && pod_read_written_file(net_fd, names[i]->d_name, 1024 * 1024, &text) >= 0 &&
                    json_parse_strict(text, strlen(text), &result) >= 0) {
                        name = strndup(names[i]->d_name, strlen(names[i]->d_name) - strlen(".json"));
                        if (!name || cni_result_summary(result, &l[n].ifname, &l[n].addresses, NULL) < 0) {
                                free(name);
                                free(l[n].ifname);
                                l[n].ifname = NULL;
                                r = -ENOMEM;
                        } else
                                l[n++].name = name;
                }
                free(names[i]);
        }
        free(names);
        if (r < 0) {
                pod_networks_free(l, n);
                return r;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

char *pod_networks_format(const PodNetInfo *l, size_t n) {
        char *s = NULL;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *addrs = NULL;
                char *t;

                if (strv_join(l[i].addresses, "|", &addrs) < 0 ||
                    asprintf(&t, "%s%s%s:%s", strempty(s), s ? "," : "", l[i].name, addrs) < 0) {
                        free(s);
                        return NULL;
                }
                free(s);
                s = t;
        }
        return s;
}

static int networks_to_json(const Pod *p, json_object **ret) {
        _cleanup_(json_object_putp) json_object *a = json_object_new_array();
        PodNetInfo *l = NULL;
        size_t n = 0;
        int r;

        if (!a)
                return -ENOMEM;
        r = pod_networks_read(p, &l, &n);
        for (size_t i = 0; i < n && r >= 0; i++) {
                json_object *o = json_object_new_object(), *addrs = json_object_new_array();

                if (!o || !addrs || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        json_object_put(addrs);
                        r = -ENOMEM;
                        break;
                }
                STRV_FOREACH(x, l[i].addresses)
                        if (json_object_array_add(addrs, json_object_new_string(*x)) < 0)
                                r = -ENOMEM;
                if (r >= 0)
                        r = json_add_string(o, "name", l[i].name);
                if (r >= 0 && l[i].ifname)
                        r = json_add_string(o, "interface", l[i].ifname);
                if (r >= 0)
                        r = json_add(o, "addresses", addrs);
                else
                        json_object_put(addrs);
        }
        pod_networks_free(l, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

int pod_app_to_json(const Pod *p, size_t i, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        const PodAppStatus *a = &p->apps[i];
        const PodApp *pa = &p->manifest->apps[i];
        int r;

        if (!o)
                return -ENOMEM;
        r = json_add_string(o, "name", a->name);
        if (r >= 0)
                r = json_add_string(o, "state", pod_app_state(p, a));
        if (r >= 0)
                r = json_add_string(o, "image", pa->image_id);
        if (r >= 0 && pa->image_name)
                r = json_add_string(o, "imageName", pa->image_name);
        if (r >= 0)
                r = pod_annotations_to_json(o, "annotations", pa->annotations);
        /* A sandbox's app: when it last started, and its PID (in the pod) while it runs. */
        if (r >= 0 && a->started) {
                r = json_add_int64(o, "started", (int64_t) a->started_usec);
                if (r >= 0 && a->pod_pid > 0 && streq(pod_app_state(p, a), "running"))
                        r = json_add_int64(o, "pid", a->pod_pid);
        }
        if (r >= 0 && a->exited) {
                /* As systemd names them: how it ended, and the exit code when it exited itself. */
                r = json_add_string(o, "exitReason", a->how);
                if (r >= 0 && streq(a->how, "exited"))
                        r = json_add_int64(o, "exitCode", a->status);
                if (r >= 0)
                        r = json_add_int64(o, "exitStatus", pod_app_exit_status(a));
                if (r >= 0 && !streq(a->how, "exited"))
                        r = json_add_string(o, "signal", sigabbrev_np(a->status) ?: "?");
                if (r >= 0)
                        r = json_add_int64(o, "exitTime", (int64_t) a->when_usec);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int pod_to_json(const Pod *p, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *apps = json_object_new_array();
        int r = 0;

        if (!o || !apps)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_apps && r >= 0; i++) {
                json_object *ao = NULL;

                r = pod_app_to_json(p, i, &ao);
                if (r >= 0 && json_object_array_add(apps, ao) < 0) {
                        json_object_put(ao);
                        r = -ENOMEM;
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
        if (r >= 0 && p->manifest)
                r = pod_annotations_to_json(o, "annotations", p->manifest->annotations);
        if (r >= 0 && p->manifest)
                r = pod_annotations_to_json(o, "userAnnotations", p->manifest->user_annotations);
        if (r >= 0 && p->manifest)
                r = pod_annotations_to_json(o, "userLabels", p->manifest->user_labels);
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
        if (r >= 0) {
                json_object *nets = NULL;

                r = networks_to_json(p, &nets);
                if (r >= 0)
                        r = json_add(o, "networks", nets);
        }
        if (r >= 0)
                r = json_add(o, "apps", TAKE_PTR(apps));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}
