/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Socket activation through the pod: the sockets rocket got from systemd arrive at fds 4…; the pod's
 * systemd keeps a passed fd only if one of its .socket units matches it, so each gets a unit (address from
 * getsockname(), name from LISTEN_FDNAMES) bound to the app that asked for it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "stage1.h"
#include "string-util.h"

void passed_sockets_free(PassedSocket *l, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(l[i].name);
                free(l[i].address);
        }
        free(l);
}

static int describe(int fd, PassedSocket *ps) {
        struct sockaddr_storage sa = {};
        socklen_t len = sizeof sa;
        int type, listening = 0, v6only = 0;
        socklen_t l = sizeof type;
        char host[INET6_ADDRSTRLEN];

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        switch (type) {
        case SOCK_STREAM:
                ps->directive = "ListenStream";
                break;
        case SOCK_DGRAM:
                ps->directive = "ListenDatagram";
                break;
        case SOCK_SEQPACKET:
                ps->directive = "ListenSequentialPacket";
                break;
        default:
                return -EPROTONOSUPPORT;
        }
        l = sizeof listening;
        if (type != SOCK_DGRAM && (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) < 0 || !listening))
                return -EISCONN;        /* a connection, as Accept=yes passes: not supported */
        ps->ipv6_only = -1;
        switch (sa.ss_family) {
        case AF_INET: {
                struct sockaddr_in *in = (struct sockaddr_in *) &sa;

                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                if (asprintf(&ps->address, "%s:%u", host, ntohs(in->sin_port)) < 0)
                        return -ENOMEM;
                break;
        }
        case AF_INET6: {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;

                l = sizeof v6only;
                (void) getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &l);
                ps->ipv6_only = v6only;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                if (asprintf(&ps->address, "[%s]:%u", host, ntohs(in6->sin6_port)) < 0)
                        return -ENOMEM;
                break;
        }
        case AF_UNIX: {
                struct sockaddr_un *un = (struct sockaddr_un *) &sa;
                size_t n = len - offsetof(struct sockaddr_un, sun_path);

                if (n == 0)
                        return -EINVAL;
                if (un->sun_path[0] == 0) {     /* abstract */
                        if (asprintf(&ps->address, "@%.*s", (int) (n - 1), un->sun_path + 1) < 0)
                                return -ENOMEM;
                } else if (!(ps->address = strndup(un->sun_path, n)))
                        return -ENOMEM;
                break;
        }
        default:
                return -EAFNOSUPPORT;
        }
        return 0;
}

int passed_sockets_take(const PodManifest *m, PassedSocket **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        const char *e = getenv("LISTEN_FDS");
        PassedSocket *l;
        char *end;
        long n;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!e)
                return 0;
        n = strtol(e, &end, 10);
        if (*end || n < 0 || n > 64)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "Invalid LISTEN_FDS='%s'.", e);
        if (n == 0)
                return 0;
        if (getenv("LISTEN_FDNAMES") && strv_split(getenv("LISTEN_FDNAMES"), ":", &names) < 0)
                return log_oom();
        l = calloc((size_t) n, sizeof(PassedSocket));
        if (!l)
                return log_oom();
        for (long i = 0; i < n; i++) {
                PassedSocket *ps = &l[i];

                ps->fd = STAGE1_LISTEN_FDS_START + (int) i;
                (void) fcntl(ps->fd, F_SETFD, FD_CLOEXEC);
                ps->name = strdup(strv_length(names) > (size_t) i ? names[i] : "unknown");
                if (!ps->name) {
                        passed_sockets_free(l, (size_t) n);
                        return log_oom();
                }
                r = describe(ps->fd, ps);
                if (r < 0) {
                        log_error_errno(r, "Cannot pass socket %ld ('%s') into the pod: %s", i, ps->name,
                                        r == -EISCONN ? "it is a connection (Accept=yes), which rocket does not support"
                                                      : strerror(-r));
                        passed_sockets_free(l, (size_t) n);
                        return r;
                }
                /* Who gets it: an app that names it or asked for all; a pod of one app gets everything. */
                for (size_t a = 0; a < m->n_apps && !ps->app; a++)
                        if (strv_contains(m->apps[a].sockets, ps->name) || strv_contains(m->apps[a].sockets, "all"))
                                ps->app = m->apps[a].name;
                if (!ps->app && m->n_apps == 1)
                        ps->app = m->apps[0].name;
                if (!ps->app)
                        log_warning("No app of the pod asks for socket '%s' (use --sockets=); it stays unused.", ps->name);
        }
        *ret = l;
        *ret_n = (size_t) n;
        return 0;
}
