/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "fetch-http.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CA_FILE_MAX (4U << 20)

int http_client_new(FetchInsecure insecure, HttpClient **ret) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->insecure = insecure;
        c->certs_dir = strdup(getenv("ROCKET_CERTS_DIR") ?: FETCH_CERTS_DIR);
        c->share = curl_share_init();
        if (!c->certs_dir || !c->share)
                return -ENOMEM;
        /* One pull's requests are made from one thread: no lock callbacks needed. */
        if (curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK)
                return -EIO;
        *ret = TAKE_PTR(c);
        return 0;
}

HttpClient *http_client_free(HttpClient *c) {
        if (!c)
                return NULL;
        if (c->share)
                curl_share_cleanup(c->share);
        free(c->certs_dir);
        free(c->ca_host);
        free(c->ca_blob);
        free(c);
        return NULL;
}

const char *http_scheme(const HttpClient *c) {
        return c->insecure & FETCH_INSECURE_HTTP ? "http" : "https";
}

void http_auth_done(HttpAuth *a) {
        free(a->bearer);
        erase_and_free(a->password);
        free(a->user);
        *a = (HttpAuth) {};
}

void http_response_done(HttpResponse *r) {
        free(r->body);
        free(r->content_type);
        free(r->www_authenticate);
        free(r->docker_content_digest);
        free(r->retry_after);
        *r = (HttpResponse) {};
}

static int append_file(int dir_fd, const char *name, char **blob, size_t *size) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        char *p;
        int r;

        r = read_full_file_at(dir_fd, name, CA_FILE_MAX, &data, &n);
        if (r < 0)
                return r;
        p = realloc(*blob, *size + n + 2);
        if (!p)
                return -ENOMEM;
        memcpy(p + *size, data, n);
        p[*size + n] = '\n';
        *size += n + 1;
        p[*size] = 0;
        *blob = p;
        return 0;
}

/* The system's CAs plus certs.d/HOST/ *.crt, as docker and podman read that directory. NULL if the host has
 * none: libcurl's default store is used as it is. */
static int ca_bundle_for(HttpClient *c, const char *host) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_free_ char *blob = NULL, *dir = NULL;
        size_t size = 0;
        int r;

        if (streq_ptr(c->ca_host, host))
                return 0;
        free(c->ca_host);
        c->ca_host = strdup(host);
        free(c->ca_blob);
        c->ca_blob = NULL;
        c->ca_size = 0;
        if (!c->ca_host)
                return -ENOMEM;
        if (strchr(host, '/') || startswith(host, "."))
                return -EINVAL;
        if (asprintf(&dir, "%s/%s", c->certs_dir, host) < 0)
                return -ENOMEM;
        d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        for (struct dirent *de; (de = readdir(d)); ) {
                if (!endswith(de->d_name, ".crt"))
                        continue;
                if (!blob) {
                        r = append_file(AT_FDCWD, SYSTEM_CA_BUNDLE, &blob, &size);
                        if (r < 0 && r != -ENOENT)
                                return log_debug_errno(r, "Failed to read %s: %m", SYSTEM_CA_BUNDLE);
                }
                r = append_file(dirfd(d), de->d_name, &blob, &size);
                if (r < 0)
                        return log_debug_errno(r, "Failed to read %s/%s: %m", dir, de->d_name);
                log_debug("Trusting the CAs in %s/%s for %s.", dir, de->d_name, host);
        }
        c->ca_blob = TAKE_PTR(blob);
        c->ca_size = size;
        return 0;
}

int http_easy_setup(HttpClient *c, CURL *e, const char *url, const HttpAuth *auth, const char *host) {
        bool plain = c->insecure & FETCH_INSECURE_HTTP;
        int r;

        r = ca_bundle_for(c, host);
        if (r < 0)
                return r;
        curl_easy_reset(e);
        if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_SHARE, c->share) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_USERAGENT, "rocket/" ROCKET_VERSION) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long) FETCH_CONNECT_TIMEOUT_SEC) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long) FETCH_STALL_SEC) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
            /* Never follow a redirect to a weaker scheme. */
            curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, plain ? "http,https" : "https") != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, plain ? "http,https" : "https") != CURLE_OK)
                return -EIO;
        if (c->insecure & FETCH_INSECURE_TLS) {
                if (curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L) != CURLE_OK)
                        return -EIO;
        } else if (c->ca_blob) {
                struct curl_blob b = { .data = c->ca_blob, .len = c->ca_size, .flags = CURL_BLOB_NOCOPY };
                if (curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b) != CURLE_OK)
                        return -EIO;
        }
        if (auth && auth->bearer) {
                if (curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BEARER) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, auth->bearer) != CURLE_OK)
                        return -EIO;
        } else if (auth && auth->user) {
                if (curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_USERNAME, auth->user) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_PASSWORD, strempty(auth->password)) != CURLE_OK)
                        return -EIO;
        }
        return 0;
}

static int header_value(const char *line, size_t len, const char *name, char **ret) {
        size_t n = strlen(name);
        const char *v, *end = line + len;

        if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
                return 0;
        v = line + n + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        free(*ret);
        *ret = strndup(v, (size_t) (end - v));
        return *ret ? 1 : -ENOMEM;
}

size_t http_header_cb(char *buf, size_t size, size_t n, void *userdata) {
        HttpResponse *r = userdata;
        size_t len = size * n;

        /* A new response (after a redirect or a 100): forget the previous one's headers. */
        if (len >= 5 && strneq(buf, "HTTP/", 5)) {
                free(r->www_authenticate);
                r->www_authenticate = NULL;
                free(r->content_type);
                r->content_type = NULL;
                free(r->docker_content_digest);
                r->docker_content_digest = NULL;
                return len;
        }
        if (header_value(buf, len, "Content-Type", &r->content_type) > 0) {
                char *semi = strchr(r->content_type, ';');
                if (semi)
                        *semi = 0;
                for (size_t k = strlen(r->content_type); k > 0 && r->content_type[k - 1] == ' '; k--)
                        r->content_type[k - 1] = 0;
        }
        if (header_value(buf, len, "WWW-Authenticate", &r->www_authenticate) < 0 ||
            header_value(buf, len, "Docker-Content-Digest", &r->docker_content_digest) < 0 ||
            header_value(buf, len, "Retry-After", &r->retry_after) < 0)
                return 0;
        return len;
}

typedef struct Body {
        HttpResponse *resp;
        size_t max;
        bool too_big;
} Body;

static size_t body_cb(char *buf, size_t size, size_t n, void *userdata) {
        Body *b = userdata;
        size_t len = size * n;
        char *p;

        if (b->resp->size + len > b->max) {
                b->too_big = true;
                return 0;
        }
        p = realloc(b->resp->body, b->resp->size + len + 1);
        if (!p)
                return 0;
        memcpy(p + b->resp->size, buf, len);
        b->resp->size += len;
        p[b->resp->size] = 0;
        b->resp->body = p;
        return len;
}

bool http_retryable(CURLcode code, long status) {
        if (code == CURLE_OK)
                return status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
        switch (code) {
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_OPERATION_TIMEDOUT:
                return true;
        default:
                return false;
        }
}

uint64_t http_backoff_usec(unsigned attempt, const char *retry_after) {
        if (retry_after) {
                char *end;
                unsigned long s = strtoul(retry_after, &end, 10);
                if (end != retry_after && *end == 0)
                        return MIN(s, 30UL) * 1000000ULL;
        }
        return (500000ULL << MIN(attempt - 1, 5u));
}

int http_curl_to_errno(CURLcode code) {
        switch (code) {
        case CURLE_OK:
                return 0;
        case CURLE_OUT_OF_MEMORY:
                return -ENOMEM;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
                return -ECONNABORTED;
        case CURLE_UNSUPPORTED_PROTOCOL:
                return -EPROTONOSUPPORT;
        case CURLE_WRITE_ERROR:
        case CURLE_ABORTED_BY_CALLBACK:
                return -ECANCELED;
        case CURLE_TOO_MANY_REDIRECTS:
                return -ELOOP;
        default:
                return -EHOSTUNREACH;
        }
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = { .tv_sec = (time_t) (usec / 1000000), .tv_nsec = (long) (usec % 1000000) * 1000 };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void curl_slist_free_allp(struct curl_slist **l) {
        curl_slist_free_all(*l);
}

int http_get(HttpClient *c, const char *url, const char *host, const char *accept, const HttpAuth *auth,
             bool head, size_t max, HttpResponse *ret) {
        _cleanup_(curl_slist_free_allp) struct curl_slist *headers = NULL;
        CURL *e = curl_easy_init();
        _cleanup_free_ char *accept_header = NULL;
        CURLcode code = CURLE_OK;
        int r = 0;

        if (!e)
                return -ENOMEM;
        if (accept) {
                if (asprintf(&accept_header, "Accept: %s", accept) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }
                headers = curl_slist_append(NULL, accept_header);
                if (!headers) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        for (unsigned attempt = 1; ; attempt++) {
                Body body = { .resp = ret, .max = max };

                http_response_done(ret);
                r = http_easy_setup(c, e, url, auth, host);
                if (r < 0)
                        goto finish;
                if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_NOBODY, head ? 1L : 0L) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_HEADERDATA, ret) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, body_cb) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body) != CURLE_OK ||
                    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ret->error) != CURLE_OK) {
                        r = -EIO;
                        goto finish;
                }
                code = curl_easy_perform(e);
                if (body.too_big) {
                        r = -EFBIG;
                        goto finish;
                }
                if (code == CURLE_OK)
                        (void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &ret->status);
                if (attempt >= FETCH_ATTEMPTS || !http_retryable(code, ret->status))
                        break;
                log_debug("GET %s: %s, attempt %u of %u.", url,
                          code != CURLE_OK ? curl_easy_strerror(code) : "server busy", attempt, FETCH_ATTEMPTS);
                sleep_usec(http_backoff_usec(attempt, ret->retry_after));
        }
        if (code != CURLE_OK) {
                if (isempty(ret->error))
                        strncpy(ret->error, curl_easy_strerror(code), sizeof ret->error - 1);
                log_debug("GET %s failed: %s", url, ret->error);
                r = http_curl_to_errno(code);
                goto finish;
        }
        log_debug("%s %s: %ld", head ? "HEAD" : "GET", url, ret->status);
        r = 0;
finish:
        curl_easy_cleanup(e);
        return r;
}

int http_url_host(const char *url, char **ret) {
        CURLU *u = curl_url();
        char *host = NULL, *port = NULL;
        int r = 0;

        if (!u)
                return -ENOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
                r = -EINVAL;
                goto finish;
        }
        (void) curl_url_get(u, CURLUPART_PORT, &port, 0);
        if (asprintf(ret, "%s%s%s", host, port ? ":" : "", port ?: "") < 0)
                r = -ENOMEM;
finish:
        curl_free(host);
        curl_free(port);
        curl_url_cleanup(u);
        return r;
}
