/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* HTTP for pulls, over libcurl: one client per pull shares connections, DNS and TLS sessions among its
 * requests; TLS trusts the system's CAs plus /etc/rocket/certs.d/HOST[:PORT]/ *.crt; proxies come from the
 * environment as libcurl reads them (http_proxy, https_proxy, no_proxy). */

#include <curl/curl.h>
#include <stdint.h>

#include "macro.h"

#define FETCH_CERTS_DIR "/etc/rocket/certs.d"
/* Connecting (DNS, TCP, TLS) gives up after this; a transfer that moves no byte for
 * FETCH_STALL_SEC gives up too. */
#define FETCH_CONNECT_TIMEOUT_SEC 20
#define FETCH_STALL_SEC 30
#define FETCH_ATTEMPTS 4

typedef enum FetchInsecure {
        FETCH_INSECURE_TLS = 1 << 0,    /* no certificate verification */
        FETCH_INSECURE_HTTP = 1 << 1,   /* plain HTTP */
        FETCH_INSECURE_IMAGE = 1 << 2,  /* no signature verification */
} FetchInsecure;

typedef struct HttpClient {
        CURLSH *share;
        FetchInsecure insecure;
        char *certs_dir;        /* FETCH_CERTS_DIR unless a test says otherwise */
        char *ca_host;          /* the host whose CA bundle is cached below */
        char *ca_blob;          /* the system's CAs plus the host's certs.d ones; NULL: the system's only */
        size_t ca_size;
} HttpClient;

int http_client_new(FetchInsecure insecure, HttpClient **ret);
HttpClient *http_client_free(HttpClient *c);
DEFINE_POINTER_CLEANUP(HttpClient, http_client_free);

/* The HOST[:PORT] of a URL, as certs.d names it. -EINVAL for what is no URL. */
int http_url_host(const char *url, char **ret);

/* "https://HOST/" or, with FETCH_INSECURE_HTTP, "http://HOST/". */
const char *http_scheme(const HttpClient *c) _pure_;

typedef struct HttpAuth {
        char *bearer;           /* a registry token */
        char *user, *password;  /* Basic */
} HttpAuth;

void http_auth_done(HttpAuth *a);

/* Sets up an easy handle for url with the client's TLS, timeouts, redirects (never to a weaker scheme) and
 * auth, which libcurl sends to url's host only, never to the host a redirect leads to. */
int http_easy_setup(HttpClient *c, CURL *e, const char *url, const HttpAuth *auth, const char *host);

typedef struct HttpResponse {
        long status;
        char *body;
        size_t size;
        char *content_type;     /* without parameters */
        char *www_authenticate;
        char *docker_content_digest;
        char *retry_after;
        char error[CURL_ERROR_SIZE];    /* libcurl's reason when the request failed */
} HttpResponse;

void http_response_done(HttpResponse *r);

/* The headers a response's handle collects: pass to CURLOPT_HEADERFUNCTION with the response. */
size_t http_header_cb(char *buf, size_t size, size_t n, void *userdata);

/* One request whose body (at most max bytes: -EFBIG) is kept in memory. head: HEAD instead of GET. Retries
 * on 429, 5xx and broken connections with backoff. A transport failure is -EHOSTUNREACH (connect, DNS,
 * timeout) or -ECONNABORTED (TLS) with libcurl's reason in ret->error; any HTTP status is success (0). */
int http_get(HttpClient *c, const char *url, const char *host, const char *accept, const HttpAuth *auth,
             bool head, size_t max, HttpResponse *ret);

/* Whether a libcurl result or HTTP status is worth another attempt. */
bool http_retryable(CURLcode code, long status) _pure_;
/* The wait before attempt n (1-based) in µs: 0.5 s, 1 s, 2 s, …, or what Retry-After asked (≤ 30 s). */
uint64_t http_backoff_usec(unsigned attempt, const char *retry_after) _pure_;
int http_curl_to_errno(CURLcode code) _pure_;
