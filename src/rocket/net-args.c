/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "log.h"
#include "net-args.h"
#include "net-config.h"
#include "run-args.h"
#include "string-util.h"

void net_args_done(NetArgs *n) {
        strv_free(n->nets);
        for (size_t i = 0; i < n->n_ports; i++)
                pod_port_done(&n->ports[i]);
        free(n->ports);
        strv_free(n->dns);
        strv_free(n->dns_search);
        strv_free(n->dns_options);
        free(n->dns_domain);
        strv_free(n->hosts_entries);
        *n = (NetArgs) {};
}

static bool is_special_net(const char *s) {
        return streq(s, "host") || streq(s, "none") || streq(s, "all");
}

/* A number 1…65535, all of s. */
static int parse_port(const char *s, uint16_t *ret) {
        unsigned long v;
        char *end;

        if (isempty(s) || strspn(s, "0123456789") != strlen(s) || strlen(s) > 5)
                return -EINVAL;
        v = strtoul(s, &end, 10);
        if (v < 1 || v > 65535)
                return -ERANGE;
        *ret = (uint16_t) v;
        return 0;
}

int port_spec_parse(const char *where, const char *spec, PodPort *ret) {
        _cleanup_strv_free_ char **parts = NULL;
        _cleanup_free_ char *copy = strdup(spec), *ip = NULL;
        PodPort p = {};
        char *s = copy, *proto;
        size_t n;

        if (!copy)
                return log_oom();
        /* A bracketed IPv6 address first or after NAME: taken out before splitting on ':'. */
        {
                char *open = strchr(s, '['), *close = open ? strchr(open, ']') : NULL;

                if (open && (!close || (open != s && open[-1] != ':') || (close[1] != ':')))
                        return log_usage("%s: invalid port '%s'.", where, spec);
                if (open) {
                        ip = strndup(open + 1, (size_t) (close - open - 1));
                        if (!ip)
                                return log_oom();
                        memmove(open + 1, close, strlen(close) + 1);    /* "[]" stays as the placeholder */
                }
        }
        proto = strchr(s, '/');
        if (proto)
                *proto++ = 0;
        if (strv_split(s, ":", &parts) < 0)
                return log_oom();
        n = strv_length(parts);
        /* Empty parts ("::") are not dropped by strv_split: check the count of ':' too. */
        {
                size_t colons = 0;

                for (const char *c = s; *c; c++)
                        colons += *c == ':';
                if (colons + 1 != n)
                        return log_usage("%s: invalid port '%s'.", where, spec);
        }
        if (n < 2 || n > 3)
                return log_usage("%s: invalid port '%s' (NAME:[HOSTIP:]HOSTPORT or [HOSTIP:]HOSTPORT:PODPORT[/tcp|/udp]).",
                                 where, spec);
        if (strspn(parts[0], "0123456789") == strlen(parts[0]) || streq(parts[0], "[]") ||
            (n == 3 && ip_address_is_valid(parts[0]))) {
                /* [HOSTIP:]HOSTPORT:PODPORT[/PROTO] */
                const char *hip = n == 3 ? (streq(parts[0], "[]") ? ip : parts[0]) : NULL;

                if (parse_port(parts[n - 2], &p.host_port) < 0)
                        return log_usage("%s: invalid host port in '%s'.", where, spec);
                if (parse_port(parts[n - 1], &p.pod_port) < 0)
                        return log_usage("%s: invalid pod port in '%s'.", where, spec);
                if (proto && !streq(proto, "tcp") && !streq(proto, "udp"))
                        return log_usage("%s: invalid protocol '%s' in '%s' (tcp or udp).", where, proto, spec);
                if (hip && !ip_address_is_valid(hip))
                        return log_usage("%s: invalid host address '%s' in '%s'.", where, hip, spec);
                p.protocol = strdup(proto ?: "tcp");
                p.host_ip = hip ? strdup(hip) : NULL;
                if (!p.protocol || (hip && !p.host_ip))
                        return log_oom();
        } else {
                /* NAME:[HOSTIP:]HOSTPORT: the image's port of that name, protocol and all. */
                const char *hip = n == 3 ? (streq(parts[1], "[]") ? ip : parts[1]) : NULL;

                if (proto)
                        return log_usage("%s: port '%s': a named port has the protocol the image gives it.", where, spec);
                if (!name_is_valid(parts[0]))
                        return log_usage("%s: invalid port name in '%s'.", where, spec);
                if (parse_port(parts[n - 1], &p.host_port) < 0)
                        return log_usage("%s: invalid host port in '%s'.", where, spec);
                if (hip && !ip_address_is_valid(hip))
                        return log_usage("%s: invalid host address '%s' in '%s'.", where, hip, spec);
                p.name = strdup(parts[0]);
                p.host_ip = hip ? strdup(hip) : NULL;
                if (!p.name || (hip && !p.host_ip))
                        return log_oom();
        }
        *ret = p;
        return 0;
}

/* "a,b c" → each word, for options that take lists. */
static int split_list(const char *arg, char ***ret) {
        return strv_split(arg, ", \t", ret) < 0 ? log_oom() : 0;
}

static int add_nets(const char *where, NetArgs *n, const char *arg) {
        _cleanup_strv_free_ char **l = NULL;

        if (isempty(arg))
                arg = "default";
        if (strv_split(arg, ",", &l) < 0)
                return log_oom();
        if (!l || !l[0])
                return log_usage("%s: --net names no network.", where);
        STRV_FOREACH(e, l) {
                _cleanup_free_ char *name = strndup(*e, strcspn(*e, ":"));
                const char *args = strchr(*e, ':');

                if (!name)
                        return log_oom();
                if (!net_name_is_valid(name))
                        return log_usage("%s: invalid network name '%s'.", where, name);
                if (args && (is_special_net(name) || isempty(args + 1) || strchr(args + 1, '\n')))
                        return log_usage("%s: invalid network arguments in '%s' (NAME:K=V;K2=V2).", where, *e);
                STRV_FOREACH(o, n->nets)
                        if (strneq(*o, name, strlen(name)) && IN_SET((*o)[strlen(name)], 0, ':'))
                                return log_usage("%s: network '%s' is given twice.", where, name);
                if (strv_extend(&n->nets, *e) < 0)
                        return log_oom();
        }
        /* host, none and all stand alone. */
        if (strv_length(n->nets) > 1)
                STRV_FOREACH(o, n->nets)
                        if (is_special_net(*o))
                                return log_usage("%s: --net=%s cannot be combined with other networks.", where, *o);
        return 0;
}

int net_args_option(const char *where, NetArgs *n, int option, const char *arg) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        switch (option) {
        case ARG_NET:
                return add_nets(where, n, arg);
        case ARG_PORT: {
                PodPort p = {}, *t;

                r = port_spec_parse(where, arg, &p);
                if (r < 0)
                        return r;
                t = reallocarray(n->ports, n->n_ports + 1, sizeof(PodPort));
                if (!t) {
                        pod_port_done(&p);
                        return log_oom();
                }
                n->ports = t;
                n->ports[n->n_ports++] = p;
                return 0;
        }
        case ARG_DNS:
                r = split_list(arg, &l);
                if (r < 0)
                        return r;
                STRV_FOREACH(s, l) {
                        bool special = streq(*s, "host") || streq(*s, "none");

                        if (!special && !ip_address_is_valid(*s))
                                return log_usage("%s: invalid DNS server '%s' (an IP address, host or none).", where, *s);
                        if ((special && (strv_length(l) > 1 || n->dns)) ||
                            (n->dns && (streq(n->dns[0], "host") || streq(n->dns[0], "none"))))
                                return log_usage("%s: --dns=host and --dns=none stand alone.", where);
                        if (strv_extend(&n->dns, *s) < 0)
                                return log_oom();
                }
                return 0;
        case ARG_DNS_SEARCH:
        case ARG_DNS_OPT: {
                char ***dst = option == ARG_DNS_SEARCH ? &n->dns_search : &n->dns_options;

                r = split_list(arg, &l);
                if (r < 0)
                        return r;
                STRV_FOREACH(s, l) {
                        if (strlen(*s) > 253 || (option == ARG_DNS_SEARCH && !host_name_is_valid(*s)) ||
                            (*s)[strcspn(*s, "#;")] != 0)
                                return log_usage("%s: invalid %s '%s'.", where,
                                                 option == ARG_DNS_SEARCH ? "search domain" : "resolver option", *s);
                        if (strv_extend(dst, *s) < 0)
                                return log_oom();
                }
                return 0;
        }
        case ARG_DNS_DOMAIN:
                if (!host_name_is_valid(arg))
                        return log_usage("%s: invalid DNS domain '%s'.", where, arg);
                free(n->dns_domain);
                n->dns_domain = strdup(arg);
                return n->dns_domain ? 0 : log_oom();
        case ARG_HOSTS_ENTRY:
                r = split_list(arg, &l);
                if (r < 0)
                        return r;
                STRV_FOREACH(s, l) {
                        _cleanup_free_ char *ip = strndup(*s, strcspn(*s, "="));
                        const char *eq = strchr(*s, '=');

                        if (!ip)
                                return log_oom();
                        if (streq(*s, "host")) {
                                if (strv_length(l) > 1 || n->hosts_entries)
                                        return log_usage("%s: --hosts-entry=host stands alone.", where);
                        } else if (!eq || !ip_address_is_valid(ip) || !host_name_is_valid(eq + 1))
                                return log_usage("%s: invalid hosts entry '%s' (IP=NAME, or host).", where, *s);
                        else if (strv_contains(n->hosts_entries, "host"))
                                return log_usage("%s: --hosts-entry=host stands alone.", where);
                        if (strv_extend(&n->hosts_entries, *s) < 0)
                                return log_oom();
                }
                return 0;
        default:
                return -EINVAL;
        }
}

/* The image's port called name: "80-tcp" (OCI) or "NAME=80/tcp" (ACI). */
static int image_port_find(char *const *image_ports, const char *name, uint16_t *ret_port, const char **ret_proto) {
        STRV_FOREACH(p, (char **) image_ports) {
                const char *eq = strchr(*p, '='), *spec, *slash;
                size_t len = eq ? (size_t) (eq - *p) : strlen(*p);
                char num[8];

                if (strlen(name) != len || !strneq(*p, name, len))
                        continue;
                spec = eq ? eq + 1 : *p;
                len = strcspn(spec, eq ? "/" : "-");
                if (len == 0 || len >= sizeof num)
                        return -EBADMSG;
                memcpy(num, spec, len);
                num[len] = 0;
                if (parse_port(num, ret_port) < 0)
                        return -EBADMSG;
                slash = spec + len;
                *ret_proto = *slash ? slash + 1 : "tcp";
                return 0;
        }
        return -ENOENT;
}

static int build_ports(const NetArgs *a, char *const *image_ports, PodNet *n) {
        n->ports = calloc(a->n_ports ?: 1, sizeof(PodPort));
        if (!n->ports)
                return log_oom();
        for (size_t i = 0; i < a->n_ports; i++) {
                const PodPort *s = &a->ports[i];
                PodPort *d = &n->ports[n->n_ports++];
                const char *proto = s->protocol;

                d->pod_port = s->pod_port;
                d->host_port = s->host_port;
                if (s->name) {
                        _cleanup_free_ char *known = NULL;

                        if (image_port_find(image_ports, s->name, &d->pod_port, &proto) < 0) {
                                (void) strv_join(image_ports, ", ", &known);
                                return log_error_errno(SYNTHETIC_ERRNO(ENOENT),
                                                       "--port=%s:…: no image of the pod declares a port of that name (%s%s).",
                                                       s->name, isempty(known) ? "they declare none" : "they declare: ",
                                                       strempty(known));
                        }
                        if (!streq(proto, "tcp") && !streq(proto, "udp"))
                                return log_error_errno(SYNTHETIC_ERRNO(EOPNOTSUPP),
                                                       "--port=%s:…: the image's port is %s, which rocket cannot forward.",
                                                       s->name, proto);
                        d->name = strdup(s->name);
                        if (!d->name)
                                return log_oom();
                }
                d->protocol = strdup(proto);
                d->host_ip = s->host_ip ? strdup(s->host_ip) : NULL;
                if (!d->protocol || (s->host_ip && !d->host_ip))
                        return log_oom();
                for (size_t j = 0; j + 1 < n->n_ports; j++) {
                        const PodPort *o = &n->ports[j];

                        if (o->host_port == d->host_port && streq(o->protocol, d->protocol) &&
                            (!o->host_ip || !d->host_ip || streq(o->host_ip, d->host_ip)))
                                return log_error_errno(SYNTHETIC_ERRNO(EADDRINUSE),
                                                       "--port: host port %u/%s is given twice.", d->host_port, d->protocol);
                }
        }
        return 0;
}

static bool conflist_maps_ports(json_object *c) {
        json_object *plugins;

        if (json_get_array(c, "plugins", &plugins) < 0)
                return false;
        for (size_t i = 0; i < json_object_array_length(plugins); i++) {
                json_object *caps;
                bool ports = false;

                if (json_get_object(json_object_array_get_idx(plugins, i), "capabilities", &caps) >= 0 &&
                    json_get_bool(caps, "portMappings", &ports) >= 0 && ports)
                        return true;
        }
        return false;
}

int net_args_build(const NetArgs *a, bool with_networks, char *const *image_ports, PodNet *ret) {
        _cleanup_(pod_net_done) PodNet n = {};
        static char *const net_default[] = { (char *) "default", NULL };
        static char *const net_host[] = { (char *) "host", NULL };
        static char *const no_nets[] = { NULL };
        _cleanup_strv_free_ char **names = NULL;
        char *const *nets = a->nets;
        bool ports_mapped = false;
        int r;

        /* (A stage1 without networks was refused a --net other than host before: check_stage1_features().) */
        if (!nets)
                nets = with_networks ? net_default : net_host;
        n.host = streq(nets[0], "host");
        if ((strv_copy(a->dns, &n.dns) < 0) || strv_copy(a->dns_search, &n.dns_search) < 0 ||
            strv_copy(a->dns_options, &n.dns_options) < 0 || strv_copy(a->hosts_entries, &n.hosts_entries) < 0 ||
            (a->dns_domain && !(n.dns_domain = strdup(a->dns_domain))))
                return log_oom();
        if (n.host) {
                if (a->n_ports > 0)
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                               "--port: a pod on the host's network has the host's ports already; "
                                               "give it a network of its own (--net).");
                *ret = n;
                n = (PodNet) {};
                return 0;
        }
        if (streq(nets[0], "all")) {
                r = net_config_names(NULL, &names);
                if (r < 0)
                        return r;
                if (!names)
                        return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "--net=all: there is no network configuration.");
                nets = names;
        } else if (streq(nets[0], "none"))
                nets = no_nets;

        r = net_cni_path(&n.cni_path);
        if (r < 0)
                return r;
        n.networks = calloc(strv_length(nets) ?: 1, sizeof(PodNetwork));
        if (!n.networks)
                return log_oom();
        STRV_FOREACH(e, (char **) nets) {
                PodNetwork *w = &n.networks[n.n_networks];
                const char *args = strchr(*e, ':');

                w->name = strndup(*e, strcspn(*e, ":"));
                if (!w->name || (args && !(w->args = strdup(args + 1))) ||
                    asprintf(&w->ifname, "eth%zu", n.n_networks) < 0)
                        return log_oom();
                n.n_networks++;
                r = net_config_find(NULL, w->name, &w->config);
                if (r < 0)
                        return r;
                r = net_config_check_plugins(w->config, n.cni_path);
                if (r < 0)
                        return r;
                ports_mapped = ports_mapped || conflist_maps_ports(w->config);
        }
        if (a->n_ports > 0 && !ports_mapped)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "--port: none of the pod's networks maps ports (a plugin with the portMappings "
                                       "capability, such as portmap).");
        r = build_ports(a, image_ports, &n);
        if (r < 0)
                return r;
        *ret = n;
        n = (PodNet) {};
        return 0;
}
