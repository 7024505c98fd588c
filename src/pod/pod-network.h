/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pod's network in its manifest (rocket-stage1(7) "net"): the host's, or a network namespace of its own
 * joined to CNI networks, with its ports, DNS and hosts entries. Decided by stage0; a stage1 applies it. */

#include <stdint.h>

#include "json-util.h"
#include "macro.h"

/* The name of a pod's network namespace while it has one of its own (ip netns exec rocket-UUID …). */
#define POD_NETNS_PREFIX "/run/netns/rocket-"

typedef struct PodNetwork {
        char *name;
        char *ifname;           /* the pod's interface on it: eth0, eth1, … */
        char *args;             /* CNI_ARGS ("K=V;K2=V2"), NULL: none */
        json_object *config;    /* the CNI network configuration list as found when the pod was made */
} PodNetwork;

typedef struct PodPort {
        char *name;             /* the image's name for the port ("80-tcp", an ACI's "http"); NULL: by number */
        char *protocol;         /* "tcp" or "udp" */
        uint16_t pod_port;
        uint16_t host_port;
        char *host_ip;          /* NULL: every address of the host */
} PodPort;

typedef struct PodNet {
        bool host;              /* the host's network namespace: no networks, no ports */
        PodNetwork *networks;   /* none (and !host): loopback only */
        size_t n_networks;
        PodPort *ports;
        size_t n_ports;
        char **cni_path;        /* the plugin directories, searched in order */
        char **dns;             /* NULL: the networks' DNS if they give one, else the host's; {"host"},
                                 * {"none"} (the image's own resolv.conf), or nameserver addresses */
        char **dns_search;
        char **dns_options;
        char *dns_domain;
        char **hosts_entries;   /* "IP=NAME" each; {"host"}: the host's /etc/hosts */
} PodNet;

void pod_port_done(PodPort *p);
void pod_net_done(PodNet *n);
int pod_net_to_json(const PodNet *n, json_object **ret);
/* o: the manifest's "net" member, NULL for a manifest without one (the host's network, as before there was
 * a choice). -EBADMSG on anything invalid. */
int pod_net_from_json(json_object *o, PodNet *ret);

/* Network names: what CNI allows for a network's "name" ([A-Za-z0-9][A-Za-z0-9_.-]*), at most 64. */
bool net_name_is_valid(const char *s) _pure_;
/* An interface name the kernel takes (1–15 bytes, no '/', ':' or whitespace). */
bool ifname_is_valid(const char *s) _pure_;
/* An IPv4 or IPv6 address, no prefix. */
bool ip_address_is_valid(const char *s);
/* A host name for /etc/hosts: letters, digits, '-', '.', '_', at most 253. */
bool host_name_is_valid(const char *s) _pure_;
/* A CNI plugin type is a file name: letters, digits, '.', '_', '-'. */
bool cni_plugin_type_is_valid(const char *type) _pure_;
/* A network configuration list as the CNI spec says, with plugin types that are file names. */
bool net_conflist_is_valid(json_object *c);
