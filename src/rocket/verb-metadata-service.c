/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket metadata-service: appc's metadata service for pods (mds.h), over HTTP with libmicrohttpd. Its
 * sockets come from systemd (rocket-metadata.socket: a Unix socket for registration, TCP port 18112 for the
 * pods' apps), or it makes them itself. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "mds.h"
#include "pod.h"
#include "rocket.h"
#include "string-util.h"
#include "verb-all.h"

#define FORM_MAX (1024 * 1024)

enum { ARG_LISTEN_PORT = 0x100 };
enum { FIELD_CONTENT, FIELD_UUID, FIELD_SIGNATURE, FIELD_DIR, _FIELD_MAX };
static const char *const field_names[_FIELD_MAX] = { "content", "uuid", "signature", "dir" };

typedef struct Service {
        int registry_fd;
        bool registration;      /* this daemon's socket is the Unix one */
} Service;

typedef struct Request {
        struct MHD_PostProcessor *pp;
        char *fields[_FIELD_MAX];
        size_t sizes[_FIELD_MAX];
        size_t total;
        bool too_big;
} Request;

static void help(void) {
        printf("Usage: rocket metadata-service [OPTIONS...]\n"
               "\n"
               "Serve appc's metadata to the apps of pods run with --mds-register: on the Unix socket\n"
               "%s (registration, root only) and on TCP port %u (the apps), or on the sockets\n"
               "systemd passes (rocket-metadata.socket).\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --listen-port=PORT  The TCP port when no sockets are passed (default %u)\n",
               MDS_SOCKET, MDS_PORT, MDS_PORT);
}

static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind _unused_, const char *key,
                                  const char *filename _unused_, const char *content_type _unused_,
                                  const char *transfer_encoding _unused_, const char *data, uint64_t off _unused_,
                                  size_t size) {
        Request *req = cls;

        for (int i = 0; i < _FIELD_MAX; i++) {
                char *t;

                if (!streq(key, field_names[i]))
                        continue;
                req->total += size;
                if (req->total > FORM_MAX) {
                        req->too_big = true;
                        return MHD_NO;
                }
                t = realloc(req->fields[i], req->sizes[i] + size + 1);
                if (!t)
                        return MHD_NO;
                memcpy(t + req->sizes[i], data, size);
                req->sizes[i] += size;
                t[req->sizes[i]] = 0;
                req->fields[i] = t;
        }
        return MHD_YES;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_MUST_COPY);
        enum MHD_Result r;

        if (!resp)
                return MHD_NO;
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return r;
}

static bool peer_is_root(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred cred;
        socklen_t len = sizeof cred;

        return ci && getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) >= 0 && cred.uid == 0;
}

/* POST /register uuid=…&dir=…, from root only, for a pod that exists: its new token. */
static enum MHD_Result handle_register(const Service *s, struct MHD_Connection *c, const char *url, const char *method,
                                       Request *req) {
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_free_ char *token = NULL;
        const char *uuid = req->fields[FIELD_UUID], *dir = req->fields[FIELD_DIR];
        int r;

        if (!peer_is_root(c))
                return reply(c, 403, "text/plain", "Only root registers pods\n");
        if (!streq(url, "/register") || !streq(method, "POST"))
                return reply(c, 404, "text/plain", "Not found\n");
        if (!uuid || !dir || dir[0] != '/' || strlen(uuid) != 36)
                return reply(c, 400, "text/plain", "Give the pod's uuid and its data directory\n");
        if (pods_open(dir, false, &pods_fd) < 0 || pod_resolve(pods_fd, uuid, &p) < 0 || !streq(p->uuid, uuid))
                return reply(c, 400, "text/plain", "No such pod\n");
        mds_registry_sweep(s->registry_fd);
        r = mds_register(s->registry_fd, uuid, dir, &token);
        if (r < 0) {
                log_error_errno(r, "Failed to register pod %s: %m", uuid);
                return reply(c, 500, "text/plain", "Registration failed\n");
        }
        log_info("Registered pod %s.", uuid);
        return reply(c, 200, "text/plain", token);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version _unused_, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        const Service *s = cls;
        Request *req = *con_cls;
        MdsResponse resp = {};
        enum MHD_Result ret;
        int r;

        if (!req) {
                req = calloc(1, sizeof(Request));
                if (!req)
                        return MHD_NO;
                /* A form, when one is posted (anything else has no fields). */
                if (streq(method, "POST"))
                        req->pp = MHD_create_post_processor(c, 16 * 1024, form_field, req);
                *con_cls = req;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                if (req->pp && !req->too_big)
                        (void) MHD_post_process(req->pp, upload_data, *upload_data_size);
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (req->too_big)
                return reply(c, 413, "text/plain", "Too large\n");
        if (s->registration)
                return handle_register(s, c, url, method, req);

        r = mds_handle(s->registry_fd, method, url, req->fields[FIELD_CONTENT], req->sizes[FIELD_CONTENT],
                       req->fields[FIELD_UUID], req->fields[FIELD_SIGNATURE], &resp);
        if (r < 0) {
                /* (Not the URL's token: a pod's secret.) */
                log_error_errno(r, "Failed to answer %s %s: %m", method, strchr(url + 1, '/') ?: "/");
                return reply(c, 500, "text/plain", "Internal error\n");
        }
        ret = reply(c, resp.status, resp.content_type, resp.body);
        mds_response_done(&resp);
        return ret;
}

static void on_completed(void *cls _unused_, struct MHD_Connection *c _unused_, void **con_cls,
                         enum MHD_RequestTerminationCode toe _unused_) {
        Request *req = *con_cls;

        if (!req)
                return;
        if (req->pp)
                MHD_destroy_post_processor(req->pp);
        for (int i = 0; i < _FIELD_MAX; i++)
                free(req->fields[i]);
        free(req);
        *con_cls = NULL;
}

/* Without socket activation: the Unix socket (root's alone) and the TCP port, ours. */
static int make_sockets(uint16_t port, int *ret_unix, int *ret_tcp) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        struct sockaddr_in6 in6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT };
        _cleanup_close_ int u = -EBADF, t = -EBADF;
        int one = 1, r;

        r = mkdir_p_at(AT_FDCWD, "/run/rocket", 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create /run/rocket: %m");
        strncpy(un.sun_path, MDS_SOCKET, sizeof un.sun_path - 1);
        (void) unlink(MDS_SOCKET);
        u = socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0);
        if (u < 0 || bind(u, (struct sockaddr *) &un, sizeof un) < 0 || chmod(MDS_SOCKET, 0600) < 0 || listen(u, 64) < 0)
                return log_error_errno(errno, "Failed to listen on %s: %m", MDS_SOCKET);
        t = socket(AF_INET6, SOCK_STREAM|SOCK_CLOEXEC, 0);
        if (t < 0 || setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            bind(t, (struct sockaddr *) &in6, sizeof in6) < 0 || listen(t, 64) < 0)
                return log_error_errno(errno, "Failed to listen on TCP port %u: %m", port);
        *ret_unix = TAKE_FD(u);
        *ret_tcp = TAKE_FD(t);
        return 0;
}

static struct MHD_Daemon *start_daemon(int fd, Service *s) {
        return MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC, 0, NULL, NULL, on_request, s,
                                MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) 30, MHD_OPTION_CONNECTION_LIMIT, (unsigned) 256,
                                MHD_OPTION_END);
}

static int parse_option(int option, const char *arg, void *userdata) {
        unsigned *port = userdata;
        char *end;
        unsigned long v;

        if (option != ARG_LISTEN_PORT)
                return 0;
        errno = 0;
        v = strtoul(arg, &end, 10);
        if (isempty(arg) || *end || errno || v < 1 || v > 65535)
                return log_usage("metadata-service: invalid port '%s'.", arg);
        *port = (unsigned) v;
        return 0;
}

int verb_metadata_service(int argc, char *argv[], RocketContext *ctx _unused_) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "listen-port", required_argument, NULL, ARG_LISTEN_PORT },
                {}
        };
        Service reg = { .registry_fd = -EBADF, .registration = true }, apps = { .registry_fd = -EBADF };
        struct MHD_Daemon *d_reg = NULL, *d_apps = NULL;
        _cleanup_close_ int registry = -EBADF;
        int unix_fd = -EBADF, tcp_fd = -EBADF, n, r, sig;
        unsigned port = MDS_PORT;
        sigset_t mask;

        r = verb_parse_options("metadata-service", argc, argv, options, help, parse_option, &port);
        if (r <= 0)
                return r;
        if (optind < argc)
                return log_usage("metadata-service: unexpected argument '%s'.", argv[optind]);
        if (geteuid() != 0)
                return log_error_errno(SYNTHETIC_ERRNO(EPERM), "metadata-service: the pods' keys are root's; run it as root.");

        n = sd_listen_fds(true);
        if (n < 0)
                return log_error_errno(n, "Failed to take the sockets passed: %m");
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) > 0)
                        unix_fd = fd;
                else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0)
                        tcp_fd = fd;
        }
        if (n == 0) {
                r = make_sockets((uint16_t) port, &unix_fd, &tcp_fd);
                if (r < 0)
                        return r;
        }
        if (unix_fd < 0 || tcp_fd < 0)
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL),
                                       "metadata-service: needs a listening Unix socket and a TCP one (got %i sockets).", n);

        r = mkdir_p_at(AT_FDCWD, MDS_REGISTRY_DIR, 0700);
        if (r >= 0)
                registry = open(MDS_REGISTRY_DIR, O_RDONLY|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC);
        if (r < 0 || registry < 0 || fchmod(registry, 0700) < 0)
                return log_error_errno(r < 0 ? r : -errno, "Failed to open %s: %m", MDS_REGISTRY_DIR);
        reg.registry_fd = apps.registry_fd = registry;

        /* Signals for the main thread only, which waits for them; the daemons' threads inherit the mask. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        d_reg = start_daemon(unix_fd, &reg);
        d_apps = start_daemon(tcp_fd, &apps);
        if (!d_reg || !d_apps) {
                if (d_reg)
                        MHD_stop_daemon(d_reg);
                if (d_apps)
                        MHD_stop_daemon(d_apps);
                return log_error_errno(SYNTHETIC_ERRNO(EIO), "Failed to start serving.");
        }
        (void) sd_notify(false, "READY=1\nSTATUS=Serving pods' metadata");
        if (n == 0)
                log_info("Serving pods' metadata: registration on %s, apps on TCP port %u.", MDS_SOCKET, port);
        else
                log_info("Serving pods' metadata on the %i sockets passed.", n);
        do
                r = sigwait(&mask, &sig);
        while (r == 0 && sig == SIGPIPE);
        (void) sd_notify(false, "STOPPING=1");
        /* The listening sockets stay as they are (quiesced, not shut down): systemd's, for the next start. */
        (void) MHD_quiesce_daemon(d_apps);
        (void) MHD_quiesce_daemon(d_reg);
        MHD_stop_daemon(d_apps);
        MHD_stop_daemon(d_reg);
        return 0;
}
