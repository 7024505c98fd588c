/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "isolation.h"
#include "json-util.h"
#include "log.h"
#include "seccomp-util.h"
#include "string-util.h"

/* rkt's default bounding set minus CAP_SYS_CHROOT (apps are confined to their rootfs by chroot(2), which a
 * second chroot(2) could undo) and CAP_NET_RAW (raw and packet sockets see the traffic of the network
 * the pod is on; ping works through ICMP sockets), as podman dropped it. */
static const char *const default_caps[] = {
        "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_KILL", "CAP_MKNOD",
        "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETFCAP", NULL,
};

/* What Docker's and rkt's default profiles block, by name; a name this architecture lacks is left out
 * when the filter is built. New user namespaces and personality()'s other values are refused by the
 * executor's restrictions filter (seccomp-util.h), so unshare/setns/clone/personality themselves stay
 * allowed. */
static const char *const group_docker_default[] = {
        "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module",
        "finit_module", "get_kernel_syms", "get_mempolicy", "init_module", "ioperm", "iopl", "kcmp",
        "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mbind", "mount", "move_pages",
        "name_to_handle_at", "nfsservctl", "open_by_handle_at", "perf_event_open", "personality", "pivot_root",
        "process_vm_readv", "process_vm_writev", "ptrace", "query_module", "quotactl", "reboot", "request_key",
        "set_mempolicy", "setns", "settimeofday", "stime", "swapon", "swapoff", "sysfs", "_sysctl", "umount",
        "umount2", "unshare", "uselib", "userfaultfd", "ustat", "vm86", "vm86old", "fsopen", "fsconfig",
        "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "clock_adjtime64", "clock_settime64",
        "io_uring_setup", "io_uring_enter", "io_uring_register", NULL,
};
static const char *const group_default_extra_allowed[] = { "setns", "unshare", "personality", "get_mempolicy",
                                                            "set_mempolicy", "mbind", "move_pages", NULL };

static char *mfree(char *p) {
        free(p);
        return NULL;
}

static bool in_list(const char *const *l, const char *s) {
        for (; *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

void isolation_args_done(IsolationArgs *a) {
        strv_free(a->caps_retain);
        strv_free(a->caps_remove);
        free(a->seccomp);
}

int isolation_parse_caps(const char *where, const char *s, char ***ret) {
        _cleanup_strv_free_ char **parts = NULL, **out = NULL;

        if (strv_split(s, ",", &parts) < 0)
                return log_oom();
        if (!parts)
                return log_usage("%s: empty capability list.", where);
        STRV_FOREACH(p, parts) {
                _cleanup_free_ char *name = NULL;
                cap_value_t v;
                char *c;

                if (asprintf(&name, "%s%s", startswith(*p, "CAP_") || startswith(*p, "cap_") ? "" : "CAP_", *p) < 0)
                        return log_oom();
                for (c = name; *c; c++)
                        *c = (char) toupper((unsigned char) *c);
                if (cap_from_name(name, &v) < 0)
                        return log_usage("%s: unknown capability '%s'.", where, *p);
                if (!strv_contains(out, name) && strv_extend(&out, name) < 0)
                        return log_oom();
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* Checks a spec and, with ret_*, splits it. */
static int seccomp_split(const char *where, const char *s, char **ret_mode, char **ret_errno, char ***ret_names) {
        _cleanup_strv_free_ char **parts = NULL, **names = NULL;
        const char *mode = NULL, *err = NULL;

        if (strv_split(s, ",", &parts) < 0)
                return log_oom();
        STRV_FOREACH(p, parts) {
                if (startswith(*p, "mode=")) {
                        mode = *p + 5;
                        if (!streq(mode, "retain") && !streq(mode, "remove"))
                                return log_usage("%s: seccomp mode must be retain or remove, not '%s'.", where, mode);
                } else if (startswith(*p, "errno=")) {
                        err = *p + 6;
                        if (errno_from_name(err) < 0)
                                return log_usage("%s: unknown errno name '%s'.", where, err);
                } else if ((*p)[0] == '@') {
                        if (!syscall_group_members(*p) && !streq(*p, "@rocket-default") &&
                            !streq(*p, "@docker-default") && !streq(*p, "@app"))
                                return log_usage("%s: unknown syscall group '%s'.", where, *p);
                        if (strv_extend(&names, *p) < 0)
                                return log_oom();
                } else {
                        if (seccomp_syscall_resolve_name(*p) == __NR_SCMP_ERROR)
                                return log_usage("%s: unknown system call '%s'.", where, *p);
                        if (strv_extend(&names, *p) < 0)
                                return log_oom();
                }
        }
        if (!mode)
                return log_usage("%s: the seccomp spec '%s' needs mode=retain or mode=remove.", where, s);
        if (!names)
                return log_usage("%s: the seccomp spec '%s' names no system call.", where, s);
        if (ret_mode && !(*ret_mode = strdup(mode)))
                return log_oom();
        if (ret_errno && err && !(*ret_errno = strdup(err)))
                return log_oom();
        if (ret_names)
                *ret_names = TAKE_PTR(names);
        return 0;
}

int isolation_parse_seccomp(const char *where, const char *s) {
        return seccomp_split(where, s, NULL, NULL, NULL);
}

int isolation_parse_memory(const char *where, const char *s, uint64_t *ret) {
        _cleanup_free_ char *t = strdup(s);
        size_t n;

        if (!t)
                return log_oom();
        /* Kubernetes' binary suffixes: 16Mi = 16M here. */
        n = strlen(t);
        if (n > 2 && t[n - 1] == 'i')
                t[n - 1] = 0;
        if (parse_size(t, ret) < 0 || *ret < 4096)
                return log_usage("%s: invalid memory size '%s' (e.g. 256M, 1G).", where, s);
        return 0;
}

int isolation_parse_cpu(const char *where, const char *s, uint64_t *ret_milli) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || v <= 0)
                return log_usage("%s: invalid CPU amount '%s' (e.g. 500m, 2).", where, s);
        if (streq(end, "m"))
                *ret_milli = (uint64_t) v;
        else if (*end == 0)
                *ret_milli = (uint64_t) (v * 1000);
        else
                return log_usage("%s: invalid CPU amount '%s' (e.g. 500m, 2).", where, s);
        if (*ret_milli == 0)
                return log_usage("%s: CPU amount '%s' is too small.", where, s);
        return 0;
}

static const struct {
        const char *name;
        InsecureOption value;
} insecure_table[] = {
        { "none", 0 },
        { "http", INSECURE_HTTP },
        { "image", INSECURE_IMAGE },
        { "tls", INSECURE_TLS },
        { "pubkey", INSECURE_PUBKEY },
        { "capabilities", INSECURE_CAPABILITIES },
        { "paths", INSECURE_PATHS },
        { "seccomp", INSECURE_SECCOMP },
        { "all-fetch", INSECURE_ALL_FETCH },
        { "all-run", INSECURE_ALL_RUN },
        { "all", INSECURE_ALL_FETCH | INSECURE_ALL_RUN },
};

int isolation_parse_insecure(const char *where, const char *s, InsecureOption *ret) {
        _cleanup_strv_free_ char **parts = NULL;
        InsecureOption o = 0;

        if (strv_split(s, ",", &parts) < 0)
                return log_oom();
        STRV_FOREACH(p, parts) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(insecure_table); i++)
                        if (streq(*p, insecure_table[i].name))
                                break;
                if (i >= ELEMENTSOF(insecure_table))
                        return log_usage("%s: unknown insecure option '%s' (none, http, image, tls, pubkey, capabilities, "
                                         "paths, seccomp, all-fetch, all-run, all).", where, *p);
                o |= insecure_table[i].value;
        }
        *ret = o;
        return 0;
}

int isolation_insecure_to_string(InsecureOption o, char **ret) {
        _cleanup_strv_free_ char **names = NULL;

        /* The single values only, in the table's order. */
        for (size_t i = 1; i < ELEMENTSOF(insecure_table); i++)
                if (__builtin_popcount((unsigned) insecure_table[i].value) == 1 && (o & insecure_table[i].value) &&
                    strv_extend(&names, insecure_table[i].name) < 0)
                        return -ENOMEM;
        if (!names)
                return (*ret = strdup("none")) ? 0 : -ENOMEM;
        return strv_join(names, ",", ret);
}

/* "@rocket-default" and friends into names the executor understands (seccomp-util.h). */
static int expand(char **names, char ***ret) {
        _cleanup_strv_free_ char **out = NULL;

        STRV_FOREACH(n, names) {
                if (streq(*n, "@rocket-default") || streq(*n, "@docker-default")) {
                        bool ours = streq(*n, "@rocket-default");

                        for (const char *const *g = group_docker_default; *g; g++) {
                                if (ours && in_list(group_default_extra_allowed, *g))
                                        continue;
                                if (seccomp_syscall_resolve_name(*g) == __NR_SCMP_ERROR)
                                        continue;
                                if (!strv_contains(out, *g) && strv_extend(&out, *g) < 0)
                                        return -ENOMEM;
                        }
                } else if (streq(*n, "@app")) {
                        if (strv_extend(&out, "@system-service") < 0)
                                return -ENOMEM;
                } else if (!strv_contains(out, *n) && strv_extend(&out, *n) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* An ACI isolator "NAME=JSON" (appc spec: {"set": [...]} for sets, {"limit": "256M"} for resources). */
static int image_isolator(const char *where, const char *iso, IsolationArgs *a, char **seccomp_spec) {
        _cleanup_(json_object_putp) json_object *v = NULL;
        const char *eq = strchr(iso, '='), *name, *lim;
        json_object *set = NULL;
        _cleanup_free_ char *key = NULL;
        int r;

        if (!eq)
                return 0;
        key = strndup(iso, (size_t) (eq - iso));
        if (!key)
                return log_oom();
        name = key;
        if (json_parse_strict(eq + 1, strlen(eq + 1), &v) < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: the image's isolator %s is not valid JSON.", where,
                                       name);
        (void) json_get_array(v, "set", &set);
        if (streq(name, "os/linux/capabilities-retain-set") || streq(name, "os/linux/capabilities-remove-set") ||
            streq(name, "os/linux/seccomp-retain-set") || streq(name, "os/linux/seccomp-remove-set")) {
                _cleanup_strv_free_ char **items = NULL;
                _cleanup_free_ char *joined = NULL;

                if (json_get_strv(v, "set", &items) < 0 || !items)
                        return log_error_errno(SYNTHETIC_ERRNO(EBADMSG), "%s: the image's isolator %s has no set.", where,
                                               name);
                if (strv_join(items, ",", &joined) < 0)
                        return log_oom();
                if (strstr(name, "capabilities"))
                        return isolation_parse_caps(where, joined, strstr(name, "retain") ? &a->caps_retain : &a->caps_remove);
                free(*seccomp_spec);
                if (asprintf(seccomp_spec, "mode=%s,%s", strstr(name, "retain") ? "retain" : "remove", joined) < 0)
                        return log_oom();
                return isolation_parse_seccomp(where, *seccomp_spec);
        }
        if (streq(name, "os/linux/no-new-privileges")) {
                a->no_new_privs = json_object_get_boolean(v);
                return 0;
        }
        if (streq(name, "resource/memory") && json_get_string(v, "limit", &lim) >= 0)
                return isolation_parse_memory(where, lim, &a->memory);
        if (streq(name, "resource/cpu") && json_get_string(v, "limit", &lim) >= 0)
                return isolation_parse_cpu(where, lim, &a->cpu_milli);
        r = 0;
        log_debug("%s: ignoring the image's isolator %s.", where, name);
        return r;
}

int isolation_apply(const char *where, const IsolationArgs *app, const IsolationArgs *pod, char *const *image_isolators,
                    InsecureOption insecure, PodApp *ret) {
        IsolationArgs img = { .no_new_privs = -1 };
        _cleanup_free_ char *img_seccomp = NULL;
        char *const *retain, *const *remove;
        const char *spec;
        int r = 0, nnp;

        STRV_FOREACH(i, (char **) image_isolators) {
                r = image_isolator(where, *i, &img, &img_seccomp);
                if (r < 0)
                        goto finish;
        }

        /* An image may only narrow what it gets: its retain set is intersected with the defaults, its seccomp
         * remove set adds to the default filter, its retain set is ignored, and it can only turn
         * no_new_privs on. The command line decides freely. */
        if (img.caps_retain) {
                for (size_t i = 0; img.caps_retain[i]; )
                        if (!in_list(default_caps, img.caps_retain[i])) {
                                free(img.caps_retain[i]);
                                memmove(img.caps_retain + i, img.caps_retain + i + 1,
                                        (strv_length(img.caps_retain + i + 1) + 1) * sizeof(char *));
                        } else
                                i++;
        }
        if (img_seccomp && startswith(img_seccomp, "mode=retain")) {
                log_debug("%s: ignoring the image's seccomp retain set; the default filter applies.", where);
                img_seccomp = mfree(img_seccomp);
        } else if (img_seccomp) {
                char *t = NULL;

                if (asprintf(&t, "%s,@rocket-default,@clock,@module,@reboot,@swap,@raw-io,@cpu-emulation,@obsolete",
                             img_seccomp) < 0)
                        goto oom;
                free(img_seccomp);
                img_seccomp = t;
        }
        if (img.no_new_privs == 0)
                img.no_new_privs = -1;

        /* Capabilities: a retain set replaces the default; a remove set takes from it. */
        retain = app->caps_retain ?: pod->caps_retain ?: img.caps_retain;
        remove = app->caps_remove ?: pod->caps_remove ?: img.caps_remove;
        if (insecure & INSECURE_CAPABILITIES && !retain && !remove)
                ret->caps_all = true;
        else {
                if (retain) {
                        STRV_FOREACH(c, (char **) retain)
                                if (strv_extend(&ret->caps, *c) < 0)
                                        goto oom;
                } else
                        for (const char *const *c = default_caps; *c; c++)
                                if (strv_extend(&ret->caps, *c) < 0)
                                        goto oom;
                STRV_FOREACH(c, (char **) remove)
                        for (size_t i = 0; ret->caps && ret->caps[i]; i++)
                                if (streq(ret->caps[i], *c)) {
                                        free(ret->caps[i]);
                                        memmove(ret->caps + i, ret->caps + i + 1,
                                                (strv_length(ret->caps + i + 1) + 1) * sizeof(char *));
                                        break;
                                }
                if (!ret->caps && !(ret->caps = calloc(1, sizeof(char *))))
                        goto oom;
        }

        /* Seccomp: an explicit spec replaces the default filter. */
        spec = app->seccomp ?: pod->seccomp ?: img_seccomp;
        if (spec) {
                _cleanup_strv_free_ char **raw = NULL;

                r = seccomp_split(where, spec, &ret->seccomp_mode, &ret->seccomp_errno, &raw);
                if (r < 0)
                        goto finish;
                r = expand(raw, &ret->seccomp_syscalls);
                if (r < 0)
                        goto oom;
                /* The image's addition to the default filter keeps the rest of the default. */
                ret->no_user_namespaces = spec == img_seccomp;
        } else if (!(insecure & INSECURE_SECCOMP)) {
                char *def[] = { (char *) "@rocket-default", (char *) "@clock", (char *) "@module", (char *) "@reboot",
                                (char *) "@swap", (char *) "@raw-io", (char *) "@cpu-emulation", (char *) "@obsolete",
                                NULL };

                ret->no_user_namespaces = true;
                ret->seccomp_mode = strdup("remove");
                if (!ret->seccomp_mode || expand(def, &ret->seccomp_syscalls) < 0)
                        goto oom;
        }

        nnp = app->no_new_privs >= 0 ? app->no_new_privs : pod->no_new_privs >= 0 ? pod->no_new_privs : img.no_new_privs;
        ret->no_new_privs = nnp != 0;
        ret->mask_paths = !(insecure & INSECURE_PATHS);
        ret->memory_max = app->memory ?: img.memory;
        ret->cpu_quota_milli = app->cpu_milli ?: img.cpu_milli;
        ret->cpu_weight = app->cpu_shares ? MIN(MAX(app->cpu_shares * 100 / 1024, 1u), 10000u) : 0;
        r = 0;
        goto finish;
oom:
        r = log_oom();
finish:
        isolation_args_done(&img);
        return r;
}
