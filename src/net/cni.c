/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "time-util.h"

/* What a plugin may print: results and errors are small. */
#define CNI_OUTPUT_MAX (1024U * 1024U)

int cni_plugin_find(char *const *path, const char *type, char **ret) {
        if (!cni_plugin_type_is_valid(type))
                return -EINVAL;
        STRV_FOREACH(d, (char **) path) {
                _cleanup_free_ char *p = NULL;
                struct stat st;

                if (asprintf(&p, "%s/%s", *d, type) < 0)
                        return -ENOMEM;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
        }
        return -ENOENT;
}

/* "plugin ptp: failed to allocate for range 0: no IP addresses available" from a CNI error object, or
 * what the plugin printed, or how it ended. */
static int plugin_error(const char *type, int status, const char *out, char **ret_error) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        const char *msg = NULL, *details = NULL;
        int r;

        if (!isempty(out) && json_parse_strict(out, strlen(out), &o) >= 0) {
                (void) json_get_string(o, "msg", &msg);
                (void) json_get_string(o, "details", &details);
        }
        if (msg)
                r = asprintf(ret_error, "plugin %s: %s%s%s", type, msg, isempty(details) ? "" : ": ", strempty(details));
        else if (WIFEXITED(status))
                r = asprintf(ret_error, "plugin %s exited with status %i%s%.200s", type, WEXITSTATUS(status),
                             isempty(out) ? "" : ": ", strempty(out));
        else
                r = asprintf(ret_error, "plugin %s was killed by SIG%s", type,
                             WIFSIGNALED(status) ? sigabbrev_np(WTERMSIG(status)) ?: "?" : "?");
        if (r < 0)
                *ret_error = NULL;
        return -EIO;
}

/* Runs one plugin with config on its stdin; its stdout into *ret_out (ADD's result). Its stderr is ours. */
static int plugin_run(const char *command, const CniRuntime *rt, const char *type, const char *config,
                      char **ret_out, char **ret_error) {
        _cleanup_free_ char *exe = NULL, *cni_path = NULL, *out = NULL;
        _cleanup_close_ int in_r = -EBADF, in_w = -EBADF, out_r = -EBADF, out_w = -EBADF;
        uint64_t deadline = now_monotonic_usec() + (rt->timeout_usec ?: CNI_TIMEOUT_USEC_DEFAULT);
        size_t len = strlen(config), done = 0, n_out = 0;
        struct sigaction old_pipe;
        int fds[2], status = 0, r;
        pid_t pid;

        r = cni_plugin_find(rt->path, type, &exe);
        if (r < 0) {
                _cleanup_free_ char *dirs = NULL;

                (void) strv_join(rt->path, ":", &dirs);
                if (asprintf(ret_error, "plugin %s: not found in %s", type, strna(dirs)) < 0)
                        *ret_error = NULL;
                return -ENOENT;
        }
        if (strv_join(rt->path, ":", &cni_path) < 0)
                return -ENOMEM;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        in_r = fds[0], in_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        out_r = fds[0], out_w = fds[1];

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                char *argv[] = { exe, NULL };
                char *envp[9];
                size_t n = 0;

                if (dup2(in_r, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0)
                        _exit(127);
                /* Plugins run iptables and friends: a clean environment with a PATH of the system's. */
                if (asprintf(&envp[n++], "CNI_COMMAND=%s", command) < 0 ||
                    asprintf(&envp[n++], "CNI_CONTAINERID=%s", rt->container_id) < 0 ||
                    asprintf(&envp[n++], "CNI_NETNS=%s", strempty(rt->netns)) < 0 ||
                    asprintf(&envp[n++], "CNI_IFNAME=%s", rt->ifname) < 0 ||
                    /* As rkt: plugins that do not know an argument (IP= is host-local's) ignore it. */
                    asprintf(&envp[n++], "CNI_ARGS=%s%s", rt->args ? "IgnoreUnknown=1;" : "", strempty(rt->args)) < 0 ||
                    asprintf(&envp[n++], "CNI_PATH=%s", cni_path) < 0)
                        _exit(127);
                envp[n++] = (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
                envp[n++] = (char *) "LANG=C.UTF-8";
                envp[n] = NULL;
                {
                        sigset_t none;

                        /* Not the signals our caller blocks or ignores (a stage1 blocks its supervisor's). */
                        sigemptyset(&none);
                        (void) sigprocmask(SIG_SETMASK, &none, NULL);
                        (void) signal(SIGPIPE, SIG_DFL);
                }
                execve(exe, argv, envp);
                _exit(127);
        }
        in_r = safe_close(in_r);
        out_w = safe_close(out_w);
        (void) fcntl(in_w, F_SETFL, O_NONBLOCK);
        /* A plugin that exits without reading all of its stdin: EPIPE here, not SIGPIPE. */
        (void) sigaction(SIGPIPE, &(struct sigaction) { .sa_handler = SIG_IGN }, &old_pipe);

        out = malloc(CNI_OUTPUT_MAX + 1);
        if (!out) {
                r = -ENOMEM;
                goto kill;
        }
        for (;;) {
                struct pollfd pf[2] = { { .fd = out_r, .events = POLLIN }, { .fd = in_w, .events = POLLOUT } };
                uint64_t now = now_monotonic_usec();
                ssize_t k;

                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        if (asprintf(ret_error, "plugin %s did not finish within %" PRIu64 " s", type,
                                     (rt->timeout_usec ?: CNI_TIMEOUT_USEC_DEFAULT) / USEC_PER_SEC) < 0)
                                *ret_error = NULL;
                        goto kill;
                }
                if (poll(pf, in_w >= 0 ? 2 : 1, (int) ((deadline - now + 999) / 1000)) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        goto kill;
                }
                if (in_w >= 0 && (pf[1].revents & (POLLOUT|POLLERR|POLLHUP))) {
                        k = write(in_w, config + done, len - done);
                        if (k < 0 && errno != EAGAIN)
                                in_w = safe_close(in_w);        /* it does not read all of it: its business */
                        else if (k > 0)
                                done += (size_t) k;
                        if (done == len)
                                in_w = safe_close(in_w);
                }
                if (pf[0].revents & (POLLIN|POLLHUP|POLLERR)) {
                        k = read(out_r, out + n_out, CNI_OUTPUT_MAX - n_out);
                        if (k < 0 && errno != EINTR && errno != EAGAIN) {
                                r = -errno;
                                goto kill;
                        }
                        if (k == 0)
                                break;
                        if (k > 0)
                                n_out += (size_t) k;
                        if (n_out == CNI_OUTPUT_MAX) {
                                r = -EFBIG;
                                if (asprintf(ret_error, "plugin %s printed more than %u bytes", type,
                                             CNI_OUTPUT_MAX) < 0)
                                        *ret_error = NULL;
                                goto kill;
                        }
                }
        }
        (void) sigaction(SIGPIPE, &old_pipe, NULL);
        out[n_out] = 0;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return plugin_error(type, status, out, ret_error);
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return 0;

kill:
        (void) sigaction(SIGPIPE, &old_pipe, NULL);
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return r;
}

/* The configuration one plugin of the list gets: its own object with the list's name and cniVersion, the
 * capabilities' runtimeConfig it asks for, and prevResult. */
static int plugin_config(json_object *conflist, json_object *plugin, const CniRuntime *rt, json_object *prev,
                         char **ret) {
        _cleanup_(json_object_putp) json_object *c = json_object_new_object();
        json_object *caps;
        const char *name, *version;
        bool ports = false;

        if (!c)
                return -ENOMEM;
        if (json_get_string(conflist, "name", &name) < 0 || json_get_string(conflist, "cniVersion", &version) < 0)
                return -EBADMSG;
        json_object_object_foreach(plugin, k, v) {
                if (streq(k, "runtimeConfig") || streq(k, "prevResult") || streq(k, "name") || streq(k, "cniVersion"))
                        continue;
                if (json_add(c, k, json_object_get(v)) < 0)
                        return -ENOMEM;
        }
        if (json_add_string(c, "name", name) < 0 || json_add_string(c, "cniVersion", version) < 0)
                return -ENOMEM;
        if (json_get_object(plugin, "capabilities", &caps) >= 0)
                (void) json_get_bool(caps, "portMappings", &ports);
        if (ports && rt->port_mappings) {
                json_object *rc = json_object_new_object();

                if (json_add(c, "runtimeConfig", rc) < 0 ||
                    json_add(rc, "portMappings", json_object_get(rt->port_mappings)) < 0)
                        return -ENOMEM;
        }
        if (prev && json_add(c, "prevResult", json_object_get(prev)) < 0)
                return -ENOMEM;
        *ret = strdup(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
        return *ret ? 0 : -ENOMEM;
}

/* portmap has nothing to do for a pod without ports (it returns prevResult untouched), so it is not run:
 * a pod start saves its exec, and its DEL is skipped alike. */
static bool plugin_skipped(json_object *plugin, const CniRuntime *rt) {
        const char *type = NULL;

        (void) json_get_string(plugin, "type", &type);
        return !rt->port_mappings && streq_ptr(type, "portmap");
}

static int conflist_plugins(json_object *conflist, json_object **ret) {
        json_object *plugins;
        int r;

        r = json_get_array(conflist, "plugins", &plugins);
        if (r < 0)
                return r;
        *ret = plugins;
        return (int) json_object_array_length(plugins);
}

/* One plugin of the list, for command, given prev as prevResult; 0 without running it when skipped. */
static int plugin_exec(json_object *conflist, json_object *plugin, const CniRuntime *rt, const char *command,
                       json_object *prev, char **ret_out, char **ret_error) {
        _cleanup_free_ char *config = NULL;
        const char *type = NULL;
        int r;

        if (plugin_skipped(plugin, rt))
                return 0;
        if (json_get_string(plugin, "type", &type) < 0)
                return -EBADMSG;
        r = plugin_config(conflist, plugin, rt, prev, &config);
        if (r < 0)
                return r;
        return plugin_run(command, rt, type, config, ret_out, ret_error);
}

static int run_del(json_object *conflist, const CniRuntime *rt, json_object *result, size_t n, char **ret_error) {
        json_object *plugins;
        int r, ret = 0;

        r = conflist_plugins(conflist, &plugins);
        if (r < 0)
                return r;
        n = MIN(n, (size_t) r);
        while (n-- > 0) {
                _cleanup_free_ char *err = NULL;

                r = plugin_exec(conflist, json_object_array_get_idx(plugins, n), rt, "DEL", result, NULL, &err);
                if (r < 0 && ret >= 0) {
                        ret = r;
                        if (ret_error)
                                *ret_error = TAKE_PTR(err);
                }
        }
        return ret;
}

int cni_del(json_object *conflist, const CniRuntime *rt, json_object *result, char **ret_error) {
        if (ret_error)
                *ret_error = NULL;
        return run_del(conflist, rt, result, SIZE_MAX, ret_error);
}

int cni_add(json_object *conflist, const CniRuntime *rt, json_object **ret_result, char **ret_error) {
        _cleanup_(json_object_putp) json_object *prev = NULL;
        json_object *plugins;
        size_t n;
        int r;

        *ret_error = NULL;
        r = conflist_plugins(conflist, &plugins);
        if (r < 0)
                return r;
        n = (size_t) r;
        for (size_t i = 0; i < n; i++) {
                json_object *plugin = json_object_array_get_idx(plugins, i), *next = NULL;
                _cleanup_free_ char *out = NULL;
                const char *type = NULL;

                if (plugin_skipped(plugin, rt))
                        continue;
                (void) json_get_string(plugin, "type", &type);
                r = plugin_exec(conflist, plugin, rt, "ADD", prev, &out, ret_error);
                if (r >= 0 && json_parse_strict(out, strlen(out), &next) < 0) {
                        r = -EBADMSG;
                        if (asprintf(ret_error, "plugin %s printed a result that is not JSON", type) < 0)
                                *ret_error = NULL;
                }
                if (r >= 0 && !json_object_is_type(next, json_type_object)) {
                        json_object_put(next);
                        r = -EBADMSG;
                        if (asprintf(ret_error, "plugin %s printed a result that is not a JSON object", type) < 0)
                                *ret_error = NULL;
                }
                if (r < 0) {
                        /* What was added is taken back: i plugins, the failed one too (the spec's advice). */
                        (void) run_del(conflist, rt, prev, i + 1, NULL);
                        return r;
                }
                json_object_put(prev);
                prev = next;
        }
        if (!prev) {
                /* Every plugin skipped: an empty result of the list's version. */
                const char *version = NULL;

                (void) json_get_string(conflist, "cniVersion", &version);
                prev = json_object_new_object();
                if (!prev || json_add_string(prev, "cniVersion", strempty(version)) < 0)
                        return -ENOMEM;
        }
        *ret_result = TAKE_PTR(prev);
        return 0;
}

int cni_check(json_object *conflist, const CniRuntime *rt, json_object *result, char **ret_error) {
        json_object *plugins;
        const char *version = NULL;
        bool disabled = false;
        int r;

        *ret_error = NULL;
        (void) json_get_bool(conflist, "disableCheck", &disabled);
        if (disabled)
                return 0;
        (void) json_get_string(conflist, "cniVersion", &version);
        if (!version || startswith(version, "0.1.") || startswith(version, "0.2.") || startswith(version, "0.3.") ||
            streq(version, "0.1") || streq(version, "0.2") || streq(version, "0.3")) {
                if (asprintf(ret_error, "CHECK needs cniVersion 0.4.0 or later (this list has %s)", strna(version)) < 0)
                        *ret_error = NULL;
                return -EOPNOTSUPP;
        }
        r = conflist_plugins(conflist, &plugins);
        if (r < 0)
                return r;
        for (size_t i = 0; i < (size_t) r; i++) {
                int q = plugin_exec(conflist, json_object_array_get_idx(plugins, i), rt, "CHECK", result, NULL,
                                    ret_error);

                if (q < 0)
                        return q;
        }
        return 0;
}

void cni_runtime_init(CniRuntime *rt, const char *uuid, const PodNet *n, const PodNetwork *w, const char *netns,
                      json_object *port_mappings) {
        *rt = (CniRuntime) {
                .container_id = uuid,
                .netns = netns,
                .ifname = w->ifname,
                .args = w->args,
                .path = n->cni_path,
                .port_mappings = port_mappings,
        };
}

int cni_port_mappings(const PodNet *n, json_object **ret) {
        _cleanup_(json_object_putp) json_object *a = NULL;

        *ret = NULL;
        if (n->n_ports == 0)
                return 0;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_ports; i++) {
                const PodPort *p = &n->ports[i];
                json_object *o = json_object_new_object();

                if (!o || json_object_array_add(a, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                if (json_add_int64(o, "hostPort", p->host_port) < 0 || json_add_int64(o, "containerPort", p->pod_port) < 0 ||
                    json_add_string(o, "protocol", p->protocol) < 0 ||
                    (p->host_ip && json_add_string(o, "hostIP", p->host_ip) < 0))
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

int cni_result_summary(json_object *result, char **ret_ifname, char ***ret_addresses, char ***ret_host_ifnames) {
        _cleanup_strv_free_ char **addresses = NULL, **host = NULL;
        _cleanup_free_ char *ifname = NULL;
        json_object *ifaces = NULL, *ips = NULL;
        int in_pod = -1;

        (void) json_get_array(result, "interfaces", &ifaces);
        for (size_t i = 0; ifaces && i < json_object_array_length(ifaces); i++) {
                json_object *ifc = json_object_array_get_idx(ifaces, i);
                const char *name = NULL, *sandbox = NULL;

                if (json_get_string(ifc, "name", &name) < 0)
                        continue;
                (void) json_get_string(ifc, "sandbox", &sandbox);
                if (isempty(sandbox)) {
                        if (strv_extend(&host, name) < 0)
                                return -ENOMEM;
                } else if (!ifname) {
                        ifname = strdup(name);
                        if (!ifname)
                                return -ENOMEM;
                        in_pod = (int) i;
                }
        }
        (void) json_get_array(result, "ips", &ips);
        for (size_t i = 0; ips && i < json_object_array_length(ips); i++) {
                json_object *ip = json_object_array_get_idx(ips, i);
                const char *address = NULL;
                int64_t idx = -1;

                if (json_get_string(ip, "address", &address) < 0)
                        continue;
                /* An address of a host-side interface is not the pod's. */
                if (json_get_int64(ip, "interface", &idx) >= 0 && in_pod >= 0 && idx != in_pod &&
                    idx < (int64_t) (ifaces ? json_object_array_length(ifaces) : 0)) {
                        const char *sandbox = NULL;

                        (void) json_get_string(json_object_array_get_idx(ifaces, (size_t) idx), "sandbox", &sandbox);
                        if (isempty(sandbox))
                                continue;
                }
                if (strv_extend(&addresses, address) < 0)
                        return -ENOMEM;
        }
        if (ret_ifname)
                *ret_ifname = TAKE_PTR(ifname);
        if (ret_addresses)
                *ret_addresses = TAKE_PTR(addresses);
        if (ret_host_ifnames)
                *ret_host_ifnames = TAKE_PTR(host);
        return 0;
}
