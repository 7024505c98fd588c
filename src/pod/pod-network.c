/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod-network.h"
#include "string-util.h"

/* Letters, digits and the characters in extra only. */
static bool chars_are(const char *s, const char *extra) {
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                      strchr(extra, *c)))
                        return false;
        return true;
}

bool net_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 64 && !strchr("_.-", s[0]) && chars_are(s, "_.-");
}

bool ifname_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *c = s; *c; c++)
                if (*c <= ' ' || *c >= 127 || strchr("/:", *c))
                        return false;
        return true;
}

bool ip_address_is_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

bool host_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n <= 253 && s[0] != '-' && s[0] != '.' && chars_are(s, "-._");
}

bool cni_plugin_type_is_valid(const char *t) {
        return !isempty(t) && strlen(t) <= 255 && t[0] != '.' && chars_are(t, "._-");
}

bool net_conflist_is_valid(json_object *c) {
        json_object *plugins;
        const char *name, *version;
        size_t n;

        if (!json_object_is_type(c, json_type_object) || json_get_string(c, "name", &name) < 0 ||
            !net_name_is_valid(name) || json_get_string(c, "cniVersion", &version) < 0 || isempty(version) ||
            json_get_array(c, "plugins", &plugins) < 0)
                return false;
        n = json_object_array_length(plugins);
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                json_object *p = json_object_array_get_idx(plugins, i);
                const char *type;

                if (!json_object_is_type(p, json_type_object) || json_get_string(p, "type", &type) < 0 ||
                    !cni_plugin_type_is_valid(type))
                        return false;
        }
        return true;
}

void pod_port_done(PodPort *p) {
        free(p->name);
        free(p->protocol);
        free(p->host_ip);
        *p = (PodPort) {};
}

void pod_net_done(PodNet *n) {
        for (size_t i = 0; i < n->n_networks; i++) {
                free(n->networks[i].name);
                free(n->networks[i].ifname);
                free(n->networks[i].args);
                json_object_put(n->networks[i].config);
        }
        free(n->networks);
        for (size_t i = 0; i < n->n_ports; i++)
                pod_port_done(&n->ports[i]);
        free(n->ports);
        strv_free(n->cni_path);
        strv_free(n->dns);
        strv_free(n->dns_search);
        strv_free(n->dns_options);
        free(n->dns_domain);
        strv_free(n->hosts_entries);
        *n = (PodNet) {};
}

static int add_strv(json_object *o, const char *key, char *const *l) {
        json_object *a;

        if (!l)
                return 0;
        a = json_object_new_array();
        if (!a)
                return -ENOMEM;
        STRV_FOREACH(s, (char **) l)
                if (json_object_array_add(a, json_object_new_string(*s)) < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        return json_add(o, key, a);
}

int pod_net_to_json(const PodNet *n, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object(), *nets = json_object_new_array(),
                *ports = json_object_new_array();

        if (!o || !nets || !ports)
                return -ENOMEM;
        for (size_t i = 0; i < n->n_networks; i++) {
                const PodNetwork *w = &n->networks[i];
                json_object *wo = json_object_new_object();

                if (!wo || json_object_array_add(nets, wo) < 0) {
                        json_object_put(wo);
                        return -ENOMEM;
                }
                if (json_add_string(wo, "name", w->name) < 0 || json_add_string(wo, "ifname", w->ifname) < 0 ||
                    (w->args && json_add_string(wo, "args", w->args) < 0) ||
                    json_add(wo, "config", json_object_get(w->config)) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n->n_ports; i++) {
                const PodPort *p = &n->ports[i];
                json_object *po = json_object_new_object();

                if (!po || json_object_array_add(ports, po) < 0) {
                        json_object_put(po);
                        return -ENOMEM;
                }
                if ((p->name && json_add_string(po, "name", p->name) < 0) ||
                    json_add_string(po, "protocol", p->protocol) < 0 ||
                    json_add_int64(po, "podPort", p->pod_port) < 0 || json_add_int64(po, "hostPort", p->host_port) < 0 ||
                    (p->host_ip && json_add_string(po, "hostIP", p->host_ip) < 0))
                        return -ENOMEM;
        }
        if (json_add_string(o, "mode", n->host ? "host" : "private") < 0 ||
            json_add(o, "networks", TAKE_PTR(nets)) < 0 || json_add(o, "ports", TAKE_PTR(ports)) < 0 ||
            add_strv(o, "cniPath", n->cni_path) < 0 || add_strv(o, "dns", n->dns) < 0 ||
            add_strv(o, "dnsSearch", n->dns_search) < 0 || add_strv(o, "dnsOptions", n->dns_options) < 0 ||
            (n->dns_domain && json_add_string(o, "dnsDomain", n->dns_domain) < 0) ||
            add_strv(o, "hostsEntries", n->hosts_entries) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static int get_strv_opt(json_object *o, const char *key, char ***ret) {
        int r = json_get_strv(o, key, ret);

        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

static bool dns_is_valid(char *const *dns) {
        if (!dns)
                return true;
        if (strv_length(dns) == 1 && (streq(dns[0], "host") || streq(dns[0], "none")))
                return true;
        if (strv_length(dns) == 0)
                return false;
        STRV_FOREACH(s, (char **) dns)
                if (!ip_address_is_valid(*s))
                        return false;
        return true;
}

/* A word of resolv.conf: no whitespace, no comment characters. */
static bool resolv_words_are_valid(char *const *l) {
        STRV_FOREACH(s, (char **) l)
                if (isempty(*s) || strlen(*s) > 253 || (*s)[strcspn(*s, " \t\n#;")] != 0)
                        return false;
        return true;
}

static bool hosts_entries_are_valid(char *const *l) {
        if (strv_length(l) == 1 && streq(l[0], "host"))
                return true;
        STRV_FOREACH(s, (char **) l) {
                _cleanup_free_ char *ip = NULL;
                const char *eq = strchr(*s, '=');

                if (!eq || !(ip = strndup(*s, (size_t) (eq - *s))))
                        return false;
                if (!ip_address_is_valid(ip) || !host_name_is_valid(eq + 1))
                        return false;
        }
        return true;
}

static int port_from_json(json_object *po, PodPort *p) {
        const char *s;
        int64_t v;

        if (!json_object_is_type(po, json_type_object))
                return -EBADMSG;
        if (json_get_string(po, "name", &s) >= 0 && !(p->name = strdup(s)))
                return -ENOMEM;
        if (json_get_string(po, "protocol", &s) < 0 || !(streq(s, "tcp") || streq(s, "udp")) ||
            !(p->protocol = strdup(s)))
                return -EBADMSG;
        if (json_get_int64(po, "podPort", &v) < 0 || v < 1 || v > 65535)
                return -EBADMSG;
        p->pod_port = (uint16_t) v;
        if (json_get_int64(po, "hostPort", &v) < 0 || v < 1 || v > 65535)
                return -EBADMSG;
        p->host_port = (uint16_t) v;
        if (json_get_string(po, "hostIP", &s) >= 0 && (!ip_address_is_valid(s) || !(p->host_ip = strdup(s))))
                return -EBADMSG;
        return 0;
}

static int network_from_json(json_object *wo, PodNetwork *w) {
        json_object *c;
        const char *s;

        if (!json_object_is_type(wo, json_type_object))
                return -EBADMSG;
        if (json_get_string(wo, "name", &s) < 0 || !net_name_is_valid(s) || !(w->name = strdup(s)))
                return -EBADMSG;
        if (json_get_string(wo, "ifname", &s) < 0 || !ifname_is_valid(s) || !(w->ifname = strdup(s)))
                return -EBADMSG;
        if (json_get_string(wo, "args", &s) >= 0 && !(w->args = strdup(s)))
                return -ENOMEM;
        if (json_get_object(wo, "config", &c) < 0 || !net_conflist_is_valid(c))
                return -EBADMSG;
        w->config = json_object_get(c);
        return 0;
}

int pod_net_from_json(json_object *o, PodNet *ret) {
        _cleanup_(pod_net_done) PodNet n = {};
        json_object *nets = NULL, *ports = NULL;
        size_t n_nets, n_ports;
        const char *mode, *s;
        int r;

        if (!o) {
                *ret = (PodNet) { .host = true };
                return 0;
        }
        if (!json_object_is_type(o, json_type_object) || json_get_string(o, "mode", &mode) < 0 ||
            !(streq(mode, "host") || streq(mode, "private")))
                return -EBADMSG;
        n.host = streq(mode, "host");
        r = json_get_array(o, "networks", &nets);
        if (r < 0 && r != -ENOENT)
                return r;
        r = json_get_array(o, "ports", &ports);
        if (r < 0 && r != -ENOENT)
                return r;
        n_nets = nets ? json_object_array_length(nets) : 0;
        n_ports = ports ? json_object_array_length(ports) : 0;
        if (n.host && (n_nets > 0 || n_ports > 0))
                return -EBADMSG;
        n.networks = calloc(n_nets ?: 1, sizeof(PodNetwork));
        n.ports = calloc(n_ports ?: 1, sizeof(PodPort));
        if (!n.networks || !n.ports)
                return -ENOMEM;
        n.n_networks = n_nets;
        n.n_ports = n_ports;
        for (size_t i = 0; i < n.n_networks; i++) {
                r = network_from_json(json_object_array_get_idx(nets, i), &n.networks[i]);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(n.networks[j].name, n.networks[i].name) ||
                            streq(n.networks[j].ifname, n.networks[i].ifname))
                                return -EBADMSG;
        }
        for (size_t i = 0; i < n.n_ports; i++) {
                r = port_from_json(json_object_array_get_idx(ports, i), &n.ports[i]);
                if (r < 0)
                        return r;
        }
        if ((r = get_strv_opt(o, "cniPath", &n.cni_path)) < 0 || (r = get_strv_opt(o, "dns", &n.dns)) < 0 ||
            (r = get_strv_opt(o, "dnsSearch", &n.dns_search)) < 0 ||
            (r = get_strv_opt(o, "dnsOptions", &n.dns_options)) < 0 ||
            (r = get_strv_opt(o, "hostsEntries", &n.hosts_entries)) < 0)
                return r;
        STRV_FOREACH(d, n.cni_path)
                if ((*d)[0] != '/' || strstr(*d, "/../") || endswith(*d, "/.."))
                        return -EBADMSG;
        if (n.n_networks > 0 && strv_length(n.cni_path) == 0)
                return -EBADMSG;
        if (json_get_string(o, "dnsDomain", &s) >= 0 && !(n.dns_domain = strdup(s)))
                return -ENOMEM;
        if (!dns_is_valid(n.dns) || !resolv_words_are_valid(n.dns_search) ||
            !resolv_words_are_valid(n.dns_options) || (n.dns_domain && !host_name_is_valid(n.dns_domain)) ||
            !hosts_entries_are_valid(n.hosts_entries))
                return -EBADMSG;
        *ret = n;
        n = (PodNet) {};
        return 0;
}
