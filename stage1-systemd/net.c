/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The pod's own network: its network namespace (the pod's PID 1 is cloned into a new one) is named
 * /run/netns/rocket-UUID, which also keeps it alive until its networks are DELeted; the host ports the pod
 * forwards are held bound by the supervisor while the pod runs (so that neither another pod nor a host
 * process takes them); each CNI network is ADDed with its result cached in the pod directory's net/, and
 * DELeted at the pod's end or by gc. resolv.conf and hosts are composed here, for the child to install. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni.h"
#include "fs-util.h"
#include "log.h"
#include "stage1.h"
#include "string-util.h"
#include "time-util.h"

#define NETNS_DIR "/run/netns"

int net_netns_path(const char *uuid, char **ret) {
        return asprintf(ret, POD_NETNS_PREFIX "%s", uuid) < 0 ? -ENOMEM : 0;
}

int net_loopback_up(void) {
        struct ifreq ifr = { .ifr_name = "lo" };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        ifr.ifr_flags |= IFF_UP;
        return ioctl(fd, SIOCSIFFLAGS, &ifr) < 0 ? -errno : 0;
}

void pod_net_run_done(PodNetRun *r) {
        for (size_t i = 0; i < r->n_reserved; i++)
                safe_close(r->reserved[i]);
        free(r->reserved);
        free(r->ifindices);
        strv_free(r->addresses);
        free(r->gateway);
        *r = (PodNetRun) {};
}

/* Binds each host port (no SO_REUSEADDR): taken already is an error, and held, nobody takes it. */
static int reserve_ports(const PodManifest *m, PodNetRun *run) {
        run->reserved = calloc(m->net.n_ports ?: 1, sizeof(int));
        if (!run->reserved)
                return log_oom();
        for (size_t i = 0; i < m->net.n_ports; i++) {
                const PodPort *p = &m->net.ports[i];
                bool v6 = p->host_ip && strchr(p->host_ip, ':');
                union {
                        struct sockaddr sa;
                        struct sockaddr_in in;
                        struct sockaddr_in6 in6;
                } sa = {};
                socklen_t len;
                int fd;

                if (v6) {
                        sa.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(p->host_port) };
                        (void) inet_pton(AF_INET6, p->host_ip, &sa.in6.sin6_addr);
                        len = sizeof sa.in6;
                } else {
                        sa.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
                        if (p->host_ip)
                                (void) inet_pton(AF_INET, p->host_ip, &sa.in.sin_addr);
                        len = sizeof sa.in;
                }
                fd = socket(v6 ? AF_INET6 : AF_INET,
                            (streq(p->protocol, "udp") ? SOCK_DGRAM : SOCK_STREAM)|SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return log_error_errno(errno, "Failed to reserve host port %u/%s: %m", p->host_port, p->protocol);
                run->reserved[run->n_reserved++] = fd;
                if (bind(fd, &sa.sa, len) < 0) {
                        if (errno == EADDRINUSE)
                                return log_error_errno(SYNTHETIC_ERRNO(EADDRINUSE),
                                                       "Host port %s%s%u/%s is in use (by another pod or a host process).",
                                                       strempty(p->host_ip), p->host_ip ? ":" : "", p->host_port,
                                                       p->protocol);
                        return log_error_errno(errno, "Failed to reserve host port %u/%s: %m", p->host_port, p->protocol);
                }
        }
        return 0;
}

static int netns_bind(const char *path, pid_t child) {
        char ns[64];
        int fd;

        if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = open(path, O_RDONLY|O_CREAT|O_CLOEXEC|O_NOFOLLOW, 0444);
        if (fd < 0)
                return -errno;
        safe_close(fd);
        snprintf(ns, sizeof ns, "/proc/%i/ns/net", (int) child);
        if (mount(ns, path, NULL, MS_BIND, NULL) < 0) {
                int r = -errno;

                (void) unlink(path);
                return r;
        }
        return 0;
}

static void result_path(const PodNetwork *w, char ret[static 128]) {
        snprintf(ret, 128, STAGE1_POD_NET "/%s.json", w->name);
}

/* The host-side interfaces and the pod's addresses, from a network's result. */
static int note_result(PodNetRun *run, json_object *result) {
        _cleanup_strv_free_ char **addresses = NULL, **host = NULL;
        int r;

        r = cni_result_summary(result, NULL, &addresses, &host);
        if (r < 0)
                return r;
        if (!run->gateway) {
                json_object *ips = NULL;
                const char *gw;

                (void) json_get_array(result, "ips", &ips);
                for (size_t i = 0; ips && i < json_object_array_length(ips) && !run->gateway; i++)
                        if (json_get_string(json_object_array_get_idx(ips, i), "gateway", &gw) >= 0 &&
                            !(run->gateway = strdup(gw)))
                                return -ENOMEM;
        }
        STRV_FOREACH(a, addresses) {
                _cleanup_free_ char *ip = strndup(*a, strcspn(*a, "/"));

                if (!ip || strv_extend(&run->addresses, ip) < 0)
                        return -ENOMEM;
        }
        STRV_FOREACH(h, host) {
                unsigned idx = if_nametoindex(*h);
                int *t;

                if (idx == 0)
                        continue;
                t = reallocarray(run->ifindices, run->n_ifindices + 1, sizeof(int));
                if (!t)
                        return -ENOMEM;
                run->ifindices = t;
                run->ifindices[run->n_ifindices++] = (int) idx;
        }
        return 0;
}

int pod_net_setup(const PodManifest *m, int pod_fd, pid_t child, PodNetRun *run) {
        _cleanup_(json_object_putp) json_object *ports = NULL;
        _cleanup_free_ char *netns = NULL;
        int r;

        if (m->net.host)
                return 0;
        r = reserve_ports(m, run);
        if (r < 0)
                return r;
        r = net_netns_path(m->uuid, &netns);
        if (r < 0)
                return log_oom();
        r = netns_bind(netns, child);
        if (r < 0)
                return log_error_errno(r, "Failed to name the pod's network namespace %s: %m", netns);
        if (m->net.n_networks == 0)
                return 0;
        r = mkdir_p_at(pod_fd, STAGE1_POD_NET, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create the pod's " STAGE1_POD_NET "/ directory: %m");
        r = cni_port_mappings(&m->net, &ports);
        if (r < 0)
                return log_oom();
        for (size_t i = 0; i < m->net.n_networks; i++) {
                const PodNetwork *w = &m->net.networks[i];
                _cleanup_(json_object_putp) json_object *result = NULL;
                _cleanup_free_ char *error = NULL;
                CniRuntime rt;
                char path[128];
                uint64_t t0;

                cni_runtime_init(&rt, m->uuid, &m->net, w, netns, ports);
                t0 = now_monotonic_usec();
                r = cni_add(w->config, &rt, &result, &error);
                if (r < 0)
                        return log_error_errno(r, "Network '%s': %s.", w->name, error ?: strerror(-r));
                result_path(w, path);
                r = json_write_file_atomic_at(pod_fd, path, result, JSON_C_TO_STRING_PLAIN, 0644);
                if (r >= 0)
                        r = note_result(run, result);
                if (r < 0) {
                        (void) cni_del(w->config, &rt, result, NULL);
                        return log_error_errno(r, "Network '%s': failed to record its result: %m", w->name);
                }
                log_debug("Network '%s': ADDed in %" PRIu64 " ms.", w->name, (now_monotonic_usec() - t0) / 1000);
        }
        return 0;
}

int pod_net_teardown(const PodManifest *m, int pod_fd, bool quiet) {
        _cleanup_(json_object_putp) json_object *ports = NULL;
        _cleanup_free_ char *netns = NULL;
        struct stat st;
        bool have_netns;
        int r, ret = 0;

        if (m->net.host)
                return 0;
        if (net_netns_path(m->uuid, &netns) < 0)
                return -ENOMEM;
        /* The name keeps the namespace (and so the pod's interfaces) alive until the plugins are done. */
        have_netns = lstat(netns, &st) == 0 && S_ISREG(st.st_mode);
        /* Neither a name nor a cached result: torn down already (the run entrypoint did, gc comes after). */
        if (!have_netns) {
                bool any = false;

                for (size_t i = 0; i < m->net.n_networks && !any; i++) {
                        char path[128];

                        result_path(&m->net.networks[i], path);
                        any = faccessat(pod_fd, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
                }
                if (!any)
                        return 0;
        }
        (void) cni_port_mappings(&m->net, &ports);
        for (size_t i = m->net.n_networks; i-- > 0;) {
                const PodNetwork *w = &m->net.networks[i];
                _cleanup_(json_object_putp) json_object *result = NULL;
                _cleanup_free_ char *error = NULL;
                CniRuntime rt;
                char path[128];
                uint64_t t0;

                result_path(w, path);
                r = json_parse_file_at(pod_fd, path, 1024 * 1024, &result);
                if (r == -ENOENT) {
                        /* Never ADDed (or DELeted before): a DEL without a result is harmless, and frees what a
                         * plugin may have taken before rocket went away. */
                        result = NULL;
                } else if (r < 0)
                        log_debug_errno(r, "Network '%s': its cached result is unreadable, DEL without it: %m", w->name);
                cni_runtime_init(&rt, m->uuid, &m->net, w, have_netns ? netns : NULL, ports);
                t0 = now_monotonic_usec();
                r = cni_del(w->config, &rt, result, &error);
                if (r < 0) {
                        log_full(quiet ? LOG_DEBUG : LOG_WARNING, "Network '%s': DEL failed: %s.", w->name,
                                 error ?: strerror(-r));
                        ret = r;
                } else {
                        log_debug("Network '%s': DELeted in %" PRIu64 " ms.", w->name, (now_monotonic_usec() - t0) / 1000);
                        (void) unlinkat(pod_fd, path, 0);
                }
        }
        if (have_netns) {
                if (umount2(netns, MNT_DETACH) < 0 && errno != EINVAL)
                        ret = log_warning_errno(errno, "Failed to unmount %s: %m", netns);
                if (unlink(netns) < 0 && errno != ENOENT)
                        ret = log_warning_errno(errno, "Failed to remove %s: %m", netns);
        }
        return ret;
}

/* Lines of text without those starting with the keyword. */
static int drop_lines(const char *text, const char *keyword, char **ret) {
        _cleanup_free_ char *out = malloc(strlen(text) + 2);
        size_t n = 0, klen = strlen(keyword);

        if (!out)
                return -ENOMEM;
        for (const char *l = text; *l;) {
                size_t len = strcspn(l, "\n");

                if (!(strneq(l, keyword, klen) && (l[klen] == ' ' || l[klen] == '\t'))) {
                        memcpy(out + n, l, len);
                        n += len;
                        out[n++] = '\n';
                }
                l += len;
                if (*l == '\n')
                        l++;
        }
        out[n] = 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int append_line(char **text, const char *keyword, char *const *words) {
        _cleanup_free_ char *joined = NULL, *t = NULL;

        if (strv_join(words, " ", &joined) < 0 || asprintf(&t, "%s%s %s\n", *text, keyword, joined) < 0)
                return -ENOMEM;
        free(*text);
        *text = TAKE_PTR(t);
        return 0;
}

static bool only_loopback_nameservers(const char *text) {
        bool any = false;

        for (const char *l = text; *l;) {
                const char *ns = startswith(l, "nameserver");
                size_t len = strcspn(l, "\n");

                if (ns && (*ns == ' ' || *ns == '\t')) {
                        ns += strspn(ns, " \t");
                        if (!startswith(ns, "127.") && !startswith(ns, "::1"))
                                return false;
                        any = true;
                }
                l += len;
                if (*l == '\n')
                        l++;
        }
        return any;
}

/* rocket-run(1) DNS: --dns=none leaves the image's file; --dns=host or nothing better: the host's (its
 * upstream servers where it names only a local stub, which a pod with its own network cannot reach);
 * --dns=IP…: those; no --dns: the networks' DNS where they give nameservers. --dns-search, --dns-opt and
 * --dns-domain replace those lines of whichever it is. */
static int compose_resolv_conf(const PodManifest *m, json_object *const *results, char **ret) {
        _cleanup_strv_free_ char **servers = NULL, **search = NULL, **options = NULL;
        _cleanup_free_ char *text = NULL, *domain = NULL;
        int r;

        *ret = NULL;
        if (m->net.dns && streq(m->net.dns[0], "none"))
                return 0;
        if (!m->net.dns)
                for (size_t i = 0; i < m->net.n_networks; i++) {
                        _cleanup_strv_free_ char **ns = NULL, **se = NULL, **op = NULL;
                        json_object *dns;
                        const char *d;

                        if (!results[i] || json_get_object(results[i], "dns", &dns) < 0)
                                continue;

                        (void) json_get_strv(dns, "nameservers", &ns);
                        if (strv_length(ns) == 0 || servers)
                                continue;
                        servers = TAKE_PTR(ns);
                        (void) json_get_strv(dns, "search", &se);
                        (void) json_get_strv(dns, "options", &op);
                        search = TAKE_PTR(se);
                        options = TAKE_PTR(op);
                        if (json_get_string(dns, "domain", &d) >= 0 && !(domain = strdup(d)))
                                return -ENOMEM;
                }
        if (m->net.dns && !streq(m->net.dns[0], "host")) {
                if (strv_copy(m->net.dns, &servers) < 0)
                        return -ENOMEM;
        }
        if (servers) {
                text = strdup("");
                if (!text)
                        return -ENOMEM;
                STRV_FOREACH(s, servers) {
                        char *t;

                        if (asprintf(&t, "%snameserver %s\n", text, *s) < 0)
                                return -ENOMEM;
                        free(text);
                        text = t;
                }
                if (domain && append_line(&text, "domain", STRV_MAKE(domain)) < 0)
                        return -ENOMEM;
                if (search && append_line(&text, "search", search) < 0)
                        return -ENOMEM;
                if (options && append_line(&text, "options", options) < 0)
                        return -ENOMEM;
        } else {
                r = read_file_or_empty_at(AT_FDCWD, "/etc/resolv.conf", 64 * 1024, &text);
                if (r < 0)
                        return r;
                if (!m->net.host && only_loopback_nameservers(text)) {
                        _cleanup_free_ char *upstream = NULL;

                        if (read_file_or_empty_at(AT_FDCWD, "/run/systemd/resolve/resolv.conf", 64 * 1024,
                                                  &upstream) >= 0 &&
                            !isempty(upstream) && !only_loopback_nameservers(upstream)) {
                                free(text);
                                text = TAKE_PTR(upstream);
                        }
                }
        }
        {
                static const char *const keys[] = { "search", "options", "domain" };
                char *const *vals[] = { m->net.dns_search, m->net.dns_options,
                                        m->net.dns_domain ? STRV_MAKE(m->net.dns_domain) : NULL };

                for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                        char *t = NULL;

                        if (!vals[i])
                                continue;
                        if (drop_lines(text, keys[i], &t) < 0)
                                return -ENOMEM;
                        free(text);
                        text = t;
                        if (append_line(&text, keys[i], vals[i]) < 0)
                                return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(text);
        return 0;
}

/* rocket-run(1) HOSTS: --hosts-entry=host: the host's file; else localhost, the hostname (at the pod's first
 * address on its own network, 127.0.1.1 otherwise) and the entries given. */
static int compose_hosts(const PodManifest *m, char *const *addresses, char **ret) {
        _cleanup_free_ char *text = NULL;

        if (m->net.hosts_entries && streq(m->net.hosts_entries[0], "host"))
                return read_file_or_empty_at(AT_FDCWD, "/etc/hosts", 64 * 1024, ret);
        if (asprintf(&text, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
                     addresses && addresses[0] ? addresses[0] : "127.0.1.1", m->hostname) < 0)
                return -ENOMEM;
        STRV_FOREACH(e, m->net.hosts_entries) {
                const char *eq = strchr(*e, '=');
                char *t;

                if (!eq)
                        continue;
                if (asprintf(&t, "%s%.*s\t%s\n", text, (int) (eq - *e), *e, eq + 1) < 0)
                        return -ENOMEM;
                free(text);
                text = t;
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int pod_net_write_files(const PodManifest *m, int pod_fd, const PodNetRun *run) {
        _cleanup_free_ char *resolv = NULL, *hosts = NULL;
        json_object **results;
        int r;

        results = calloc(m->net.n_networks ?: 1, sizeof(json_object *));
        if (!results)
                return log_oom();
        for (size_t i = 0; i < m->net.n_networks; i++) {
                char path[128];

                result_path(&m->net.networks[i], path);
                (void) json_parse_file_at(pod_fd, path, 1024 * 1024, &results[i]);
        }
        r = compose_resolv_conf(m, results, &resolv);
        for (size_t i = 0; i < m->net.n_networks; i++)
                json_object_put(results[i]);
        free(results);
        if (r >= 0)
                r = compose_hosts(m, run->addresses, &hosts);
        if (r >= 0)
                r = mkdir_p_at(pod_fd, STAGE1_POD_NET, 0755);
        if (r >= 0 && resolv)
                r = write_file_atomic_at(pod_fd, STAGE1_POD_NET "/resolv.conf", resolv, strlen(resolv), 0644);
        if (r >= 0)
                r = write_file_atomic_at(pod_fd, STAGE1_POD_NET "/hosts", hosts, strlen(hosts), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to compose the pod's resolv.conf and hosts: %m");
        /* Where the apps reach the metadata service: the host as their network's gateway, or itself. */
        if (m->mds_register) {
                const char *host = m->net.host ? "127.0.0.1" : run->gateway;

                if (!host)
                        return log_error_errno(SYNTHETIC_ERRNO(EADDRNOTAVAIL),
                                               "--mds-register: none of the pod's networks gives a gateway to reach the host by.");
                r = write_file_atomic_at(pod_fd, STAGE1_POD_MDS_HOST, host, strlen(host), 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to record the metadata service's address: %m");
        }
        return 0;
}

int pod_mds_url(const PodManifest *m, int pod_fd, char **ret) {
        _cleanup_free_ char *token = NULL, *host = NULL;
        int r;

        if (!m->mds_register) {
                *ret = NULL;
                return 0;
        }
        r = read_full_file_at(pod_fd, STAGE1_POD_MDS_TOKEN, 256, &token, NULL);
        if (r >= 0)
                r = read_full_file_at(pod_fd, STAGE1_POD_MDS_HOST, 256, &host, NULL);
        if (r < 0)
                return r;
        token[strcspn(token, "\n")] = 0;
        host[strcspn(host, "\n")] = 0;
        if (isempty(token) || strpbrk(token, "/?# ") || isempty(host))
                return -EBADMSG;
        if (asprintf(ret, strchr(host, ':') ? "http://[%s]:%u/%s" : "http://%s:%u/%s", host, STAGE1_MDS_PORT, token) < 0)
                return -ENOMEM;
        return 0;
}
