/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The network options of rocket run/prepare and their .pod keys (--net, --port, --dns*, --hosts-entry):
 * checked as given, then made into the manifest's PodNet once the images are known. */

#include "pod-network.h"

typedef struct NetArgs {
        char **nets;            /* "NAME" or "NAME:CNI_ARGS", and host, none, all, default…; NULL: not given */
        PodPort *ports;         /* by name: pod_port 0 until the images say */
        size_t n_ports;
        char **dns;
        char **dns_search;
        char **dns_options;
        char *dns_domain;
        char **hosts_entries;
} NetArgs;

void net_args_done(NetArgs *n);

/* One of ARG_NET…ARG_HOSTS_ENTRY; where prefixes messages. -ERRNO_USAGE (logged) on bad input. */
int net_args_option(const char *where, NetArgs *n, int option, const char *arg);
/* "NAME:[HOSTIP:]HOSTPORT" or "[HOSTIP:]HOSTPORT:PODPORT[/tcp|/udp]" (an IPv6 HOSTIP in brackets). */
int port_spec_parse(const char *where, const char *spec, PodPort *ret);

/* The pod's network: with_networks says whether the stage1 can give a pod a network of its own (then the
 * default is rkt's "default" network, else the host's; the caller refused other networks to a stage1
 * without); image_ports lists what the images declare ("80-tcp", "NAME=80/tcp"). Network configurations
 * are looked up and copied in, ports resolved. Logs. */
int net_args_build(const NetArgs *n, bool with_networks, char *const *image_ports, PodNet *ret);
