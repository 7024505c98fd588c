/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Blob downloads: libcurl multi drives the transfers in this thread; each blob's bytes are hashed, appended to
 * its file in the store and passed through a socket pair to a thread of its own that extracts the layer as
 * it comes (layer_unpack_stream()). A transfer whose extractor lags is paused, not buffered. A broken
 * transfer resumes from the bytes it has, with a Range request, here and in the next pull. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "fetch.h"
#include "fs-util.h"
#include "layer-unpack.h"
#include "log.h"
#include "string-util.h"
#include "time-util.h"

#define PARALLEL_MAX 4
#define SOCKET_BUFFER (1U << 20)

typedef struct Download {
        const BlobRequest *req;
        FetchLayerProgress *progress;
        StoreBlobWrite *w;
        Sha256 *hash;
        uint64_t have;          /* bytes of the blob in its file and sent on */
        uint64_t skip;          /* of a 200 answer to a range request: bytes we have already */
        CURL *easy;
        struct curl_slist *headers;
        HttpResponse resp;
        unsigned attempt;
        uint64_t retry_at;      /* monotonic µs; 0: not waiting */
        bool active;            /* in the multi handle */
        bool finished;
        int result;             /* why this download failed */

        /* To the extractor */
        int sock[2];
        char *pending;
        size_t pending_size, pending_off;
        bool paused;
        bool extractor_gone;    /* it stopped reading (a write error): nothing more is sent */

        /* The extractor's */
        pthread_t thread;
        bool thread_running;
        int tree_fd;
        char *tree_name;
        int prefix_fd;
        uint64_t prefix_off, prefix_left;
        char diff_id[DIGEST_STRING_MAX];
        uint64_t diff_size;
        int extract_result;
        int write_error;        /* of the blob's file */
        char *bad_entry;
} Download;

typedef struct Downloads {
        HttpClient *http;
        const HttpAuth *auth;
        const char *host;
        StoreImport *imp;
        bool extract;
        CURLM *multi;
        Download *d;
        size_t n;
        const FetchOptions *o;
        FetchLayerProgress *progress;
        uint64_t progress_usec;
} Downloads;

static ssize_t extractor_read(void *userdata, void *buf, size_t size) {
        Download *d = userdata;
        ssize_t n;

        /* A resumed blob: what an earlier pull stored first, then what arrives now. */
        if (d->prefix_left > 0) {
                n = pread(d->prefix_fd, buf, MIN(size, d->prefix_left), (off_t) d->prefix_off);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO;
                d->prefix_off += (uint64_t) n;
                d->prefix_left -= (uint64_t) n;
                return n;
        }
        for (;;) {
                n = read(d->sock[0], buf, size);
                if (n >= 0)
                        break;
                if (errno != EINTR)
                        return -errno;
        }
        /* The blob's digest and its file are kept here, in the layer's own thread, not in the one that drives
         * every transfer. */
        if (n > 0) {
                int r = sha256_update(d->hash, buf, (size_t) n);
                if (r < 0) {
                        d->write_error = r;
                        return r;
                }
                for (ssize_t off = 0; off < n; ) {
                        ssize_t k = write(d->w->fd, (const char *) buf + off, (size_t) (n - off));
                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                d->write_error = -errno;
                                return -errno;
                        }
                        off += k;
                }
        }
        return n;
}

static void *extractor_thread(void *userdata) {
        Download *d = userdata;
        char buf[64 * 1024];

        d->extract_result = layer_unpack_stream(extractor_read, d, d->tree_fd,
                                                LAYER_UNPACK_CHOWN|LAYER_UNPACK_DEVICES, d->diff_id,
                                                &d->diff_size, &d->bad_entry);
        /* A layer that cannot be extracted is still received whole (its size is bounded by its descriptor),
         * so that a blob that is simply wrong is told as such. */
        if (d->extract_result < 0 && d->write_error == 0)
                while (extractor_read(d, buf, sizeof buf) > 0)
                        ;
        /* On disk before it is published, in this thread rather than the one driving the transfers. */
        if (d->write_error == 0) {
                if (fsync(d->w->fd) < 0)
                        d->write_error = -errno;
                else
                        d->w->synced = true;
        }
        /* Nothing more is read: the sender sees EPIPE from now on. */
        (void) shutdown(d->sock[0], SHUT_RDWR);
        return NULL;
}

static void download_stop_extractor(Download *d) {
        if (d->sock[1] >= 0)
                d->sock[1] = safe_close(d->sock[1]);
        if (d->thread_running) {
                (void) pthread_join(d->thread, NULL);
                d->thread_running = false;
        }
}

static void download_done(Downloads *ds, Download *d) {
        if (d->active)
                (void) curl_multi_remove_handle(ds->multi, d->easy);
        download_stop_extractor(d);
        if (d->easy)
                curl_easy_cleanup(d->easy);
        curl_slist_free_all(d->headers);
        http_response_done(&d->resp);
        sha256_free(d->hash);
        store_blob_write_free(d->w);
        safe_close(d->sock[0]);
        safe_close(d->tree_fd);
        safe_close(d->prefix_fd);
        free(d->tree_name);
        free(d->pending);
        free(d->bad_entry);
}

/* Sends what the extractor has not taken yet. 1: all sent (or it has gone); 0: it is still busy. */
static int flush_pending(Download *d) {
        while (d->pending_off < d->pending_size && !d->extractor_gone) {
                ssize_t n = send(d->sock[1], d->pending + d->pending_off, d->pending_size - d->pending_off,
                                 MSG_NOSIGNAL|MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        d->extractor_gone = true;
                        d->result = -EIO;
                        break;
                }
                d->pending_off += (size_t) n;
        }
        free(d->pending);
        d->pending = NULL;
        d->pending_size = d->pending_off = 0;
        return 1;
}

static size_t download_write(char *buf, size_t size, size_t nmemb, void *userdata) {
        Download *d = userdata;
        size_t len = size * nmemb, m;
        long status = 0;
        ssize_t sent;

        (void) curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 && status != 206)
                return len;             /* an error page, not the blob */
        if (d->pending_size > 0) {
                d->paused = true;
                return CURL_WRITEFUNC_PAUSE;
        }
        if (status == 200 && d->skip > 0) {
                size_t k = (size_t) MIN((uint64_t) len, d->skip);
                d->skip -= k;
                buf += k;
                len -= k;
                if (len == 0)
                        return size * nmemb;
        }
        m = len;
        if (d->have + m > d->req->size) {
                d->result = -EFBIG;
                return 0;
        }
        d->have += m;
        d->progress->have = d->have;

        if (d->extractor_gone)
                return size * nmemb;
        sent = send(d->sock[1], buf, m, MSG_NOSIGNAL|MSG_DONTWAIT);
        if (sent < 0) {
                if (errno != EAGAIN && errno != EINTR) {
                        /* The blob's thread stopped reading: its file cannot be written. */
                        d->extractor_gone = true;
                        d->result = -EIO;
                        return 0;
                }
                sent = 0;
        }
        if ((size_t) sent < m) {
                d->pending = malloc(m - (size_t) sent);
                if (d->pending)
                        memcpy(d->pending, buf + sent, m - (size_t) sent);
                if (!d->pending) {
                        d->result = -ENOMEM;
                        return 0;
                }
                d->pending_size = m - (size_t) sent;
                d->pending_off = 0;
        }
        return size * nmemb;
}

static int download_start_transfer(Downloads *ds, Download *d) {
        char range[64];
        int r;

        if (!d->easy) {
                d->easy = curl_easy_init();
                if (!d->easy)
                        return -ENOMEM;
        }
        http_response_done(&d->resp);
        r = http_easy_setup(ds->http, d->easy, d->req->url, ds->auth, ds->host);
        if (r < 0)
                return r;
        curl_slist_free_all(d->headers);
        d->headers = NULL;
        d->skip = 0;
        if (d->have > 0) {
                /* Resume; a server that ignores the range sends it all and we skip what we have. */
                snprintf(range, sizeof range, "Range: bytes=%" PRIu64 "-", d->have);
                d->headers = curl_slist_append(NULL, range);
                if (!d->headers)
                        return -ENOMEM;
                d->skip = d->have;
        }
        if (curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers) != CURLE_OK ||
            curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, download_write) != CURLE_OK ||
            curl_easy_setopt(d->easy, CURLOPT_WRITEDATA, d) != CURLE_OK ||
            curl_easy_setopt(d->easy, CURLOPT_HEADERFUNCTION, http_header_cb) != CURLE_OK ||
            curl_easy_setopt(d->easy, CURLOPT_HEADERDATA, &d->resp) != CURLE_OK ||
            curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->resp.error) != CURLE_OK ||
            curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d) != CURLE_OK ||
            /* Fewer, larger writes: a layer is hundreds of megabytes. */
            curl_easy_setopt(d->easy, CURLOPT_BUFFERSIZE, 512L * 1024L) != CURLE_OK)
                return -EIO;
        if (curl_multi_add_handle(ds->multi, d->easy) != CURLM_OK)
                return -EIO;
        d->active = true;
        d->attempt++;
        d->retry_at = 0;
        log_debug("GET %s (from byte %" PRIu64 ", attempt %u).", d->req->url, d->have, d->attempt);
        return 0;
}

/* Opens the blob's file (resuming what an earlier pull left), hashes what is there, and starts the extractor. */
static int download_begin(Downloads *ds, Download *d) {
        int r;

        d->progress->start_usec = now_monotonic_usec();
        r = store_blob_write_begin(ds->imp, d->req->digest, &d->w);
        if (r < 0)
                return r;
        d->hash = sha256_new();
        if (!d->hash)
                return -ENOMEM;
        if (d->w->offset > d->req->size) {
                r = store_blob_write_restart(d->w);
                if (r < 0)
                        return r;
        }
        if (d->w->offset > 0) {
                char buf[128 * 1024];

                d->prefix_fd = fcntl(d->w->fd, F_DUPFD_CLOEXEC, 3);
                if (d->prefix_fd < 0)
                        return -errno;
                for (uint64_t off = 0; off < d->w->offset; ) {
                        ssize_t n = pread(d->w->fd, buf, (size_t) MIN((uint64_t) sizeof buf, d->w->offset - off),
                                          (off_t) off);
                        if (n <= 0)
                                return n < 0 ? -errno : -EIO;
                        r = sha256_update(d->hash, buf, (size_t) n);
                        if (r < 0)
                                return r;
                        off += (uint64_t) n;
                }
                d->have = d->prefix_left = d->w->offset;
                d->progress->have = d->have;
                log_debug("Resuming %s from byte %" PRIu64 ".", d->req->digest, d->have);
        }

        if (socketpair(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0, d->sock) < 0)
                return -errno;
        (void) setsockopt(d->sock[1], SOL_SOCKET, SO_SNDBUF, &(int) { SOCKET_BUFFER }, sizeof(int));
        if (ds->extract) {
                r = store_import_tree_begin(ds->imp, &d->tree_name, &d->tree_fd);
                if (r < 0)
                        return r;
        }
        r = -pthread_create(&d->thread, NULL, extractor_thread, d);
        if (r < 0)
                return r;
        d->thread_running = true;

        if (d->have == d->req->size)
                return 0;       /* all there already: verified when it finishes */
        return download_start_transfer(ds, d);
}

/* The whole blob is here: hand the rest to the extractor, verify, keep. */
static int download_finish(Downloads *ds, Download *d, char **reterr_detail) {
        char digest[DIGEST_STRING_MAX];
        int r;

        while (flush_pending(d) == 0)
                (void) poll(&(struct pollfd) { .fd = d->sock[1], .events = POLLOUT }, 1, 1000);
        download_stop_extractor(d);
        if (d->write_error < 0) {
                detail_printf(reterr_detail, 0, "blob %s: %s", d->req->digest, strerror(-d->write_error));
                return d->write_error;
        }

        r = sha256_final(d->hash, digest);
        if (r < 0)
                return r;
        if (!streq(digest, d->req->digest)) {
                store_blob_write_discard(d->w);
                detail_printf(reterr_detail, 0, "blob %s: the registry sent content whose digest is %s", d->req->digest,
                           digest);
                return -STORE_ERR_DIGEST_MISMATCH;
        }
        if (d->extract_result < 0) {
                if (d->bad_entry)
                        detail_printf(reterr_detail, 0, "layer %s: refused entry '%s'", d->req->digest, d->bad_entry);
                else
                        detail_printf(reterr_detail, 0, "layer %s", d->req->digest);
                return d->extract_result;
        }
        r = store_blob_write_commit(d->w);
        if (r < 0)
                return r;
        if (ds->extract) {
                d->tree_fd = safe_close(d->tree_fd);
                r = store_import_tree_finish(ds->imp, d->tree_name, d->req->digest, d->diff_id, d->diff_size);
        } else
                r = store_import_set_identity(ds->imp, d->req->digest, d->diff_id, d->diff_size);
        if (r < 0)
                return r;
        d->finished = true;
        d->progress->end_usec = now_monotonic_usec();
        log_debug("Blob %s verified and %s.", d->req->digest, ds->extract ? "extracted" : "identified");
        return 0;
}

static int download_failed(Download *d, CURLcode code, long status, char **reterr_detail) {
        if (d->result == -EFBIG) {
                detail_printf(reterr_detail, 0, "blob %s: the registry sent more than its %" PRIu64 " bytes",
                           d->req->digest, d->req->size);
                return -STORE_ERR_DIGEST_MISMATCH;
        }
        if (d->result == -EIO && d->extractor_gone) {
                /* The blob's thread ended early: only a write error (a full disk) does that. */
                download_stop_extractor(d);
                detail_printf(reterr_detail, 0, "blob %s: %s", d->req->digest,
                           strerror(d->write_error < 0 ? -d->write_error : EIO));
                return d->write_error < 0 ? d->write_error : -EIO;
        }
        if (d->result < 0) {
                detail_printf(reterr_detail, 0, "blob %s: %s", d->req->digest, strerror(-d->result));
                return d->result;
        }
        if (code != CURLE_OK) {
                detail_printf(reterr_detail, 0, "blob %s: %s", d->req->digest,
                           isempty(d->resp.error) ? curl_easy_strerror(code) : d->resp.error);
                return http_curl_to_errno(code);
        }
        detail_printf(reterr_detail, 0, "blob %s: the registry answered HTTP %ld", d->req->digest, status);
        switch (status) {
        case 401:
        case 403:
                return -EACCES;
        case 404:
                return -ENOENT;
        default:
                return -EPROTO;
        }
}

static int on_transfer_done(Downloads *ds, Download *d, CURLcode code, char **reterr_detail) {
        long status = 0;

        (void) curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
        (void) curl_multi_remove_handle(ds->multi, d->easy);
        d->active = false;

        if (d->result >= 0 && code == CURLE_OK && (status == 200 || status == 206)) {
                if (d->have == d->req->size)
                        return download_finish(ds, d, reterr_detail);
                code = CURLE_PARTIAL_FILE;      /* cut short: resume */
        }
        if (d->result >= 0 && d->attempt < FETCH_ATTEMPTS && http_retryable(code, status)) {
                uint64_t wait = http_backoff_usec(d->attempt, d->resp.retry_after);

                log_debug("Blob %s: %s at byte %" PRIu64 "; again in %" PRIu64 " ms.", d->req->digest,
                          code != CURLE_OK ? curl_easy_strerror(code) : "server busy", d->have, wait / 1000);
                d->retry_at = now_monotonic_usec() + wait;
                return 0;
        }
        return download_failed(d, code, status, reterr_detail);
}

static void report(Downloads *ds, bool final) {
        uint64_t now = now_monotonic_usec();

        if (!ds->o->progress)
                return;
        if (!final && now < ds->progress_usec + 100000)
                return;
        ds->progress_usec = now;
        ds->o->progress(ds->o->progress_userdata, ds->progress, ds->n, final);
}

static int run(Downloads *ds, char **reterr_detail) {
        size_t next = 0;
        int r;

        for (;;) {
                struct curl_waitfd waits[PARALLEL_MAX * 2];
                unsigned n_waits = 0, running_now = 0;
                int still, timeout_ms = 100;
                uint64_t now = now_monotonic_usec();
                bool busy = false;
                CURLMsg *msg;

                /* Start more, up to PARALLEL_MAX in flight. */
                for (size_t i = 0; i < ds->n; i++)
                        if (ds->d[i].w && !ds->d[i].finished)
                                running_now++;
                while (next < ds->n && running_now < PARALLEL_MAX) {
                        Download *d = &ds->d[next++];

                        r = download_begin(ds, d);
                        if (r < 0) {
                                if (reterr_detail && !*reterr_detail)
                                        detail_printf(reterr_detail, 0, "blob %s: %s", d->req->digest, strerror(-r));
                                return r;
                        }
                        if (!d->active) {
                                r = download_finish(ds, d, reterr_detail);
                                if (r < 0)
                                        return r;
                        } else
                                running_now++;
                }

                for (size_t i = 0; i < ds->n; i++) {
                        Download *d = &ds->d[i];

                        if (!d->w || d->finished)
                                continue;
                        busy = true;
                        if (d->retry_at > 0 && d->retry_at <= now) {
                                r = download_start_transfer(ds, d);
                                if (r < 0)
                                        return r;
                        } else if (d->retry_at > 0)
                                timeout_ms = (int) MIN((uint64_t) timeout_ms, (d->retry_at - now) / 1000 + 1);
                        if (d->pending_size > 0) {
                                r = flush_pending(d);
                                if (r > 0 && d->paused) {
                                        d->paused = false;
                                        (void) curl_easy_pause(d->easy, CURLPAUSE_CONT);
                                }
                        }
                }
                if (!busy && next >= ds->n)
                        break;

                if (curl_multi_perform(ds->multi, &still) != CURLM_OK)
                        return -EIO;
                while ((msg = curl_multi_info_read(ds->multi, &still))) {
                        Download *d = NULL;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        (void) curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &d);
                        r = on_transfer_done(ds, d, msg->data.result, reterr_detail);
                        if (r < 0)
                                return r;
                }
                report(ds, false);
                /* Wait for curl's sockets, and for the threads of paused transfers to make room: after the
                 * transfers ran, which is when they pause. */
                for (size_t i = 0; i < ds->n; i++) {
                        Download *d = &ds->d[i];

                        if (d->w && !d->finished && d->pending_size > 0 && n_waits < ELEMENTSOF(waits))
                                waits[n_waits++] = (struct curl_waitfd) { .fd = d->sock[1], .events = CURL_WAIT_POLLOUT };
                }
                if (curl_multi_poll(ds->multi, waits, n_waits, timeout_ms, NULL) != CURLM_OK)
                        return -EIO;
        }
        return 0;
}

int blobs_download(HttpClient *c, const HttpAuth *auth, const char *host, StoreImport *imp, bool extract,
                   const BlobRequest *blobs, size_t n, FetchLayerProgress *progress, const FetchOptions *o,
                   char **reterr_detail) {
        Downloads ds = {
                .http = c,
                .auth = auth,
                .host = host,
                .imp = imp,
                .extract = extract,
                .n = n,
                .o = o,
                .progress = progress,
        };
        int r;

        if (n == 0)
                return 0;
        ds.multi = curl_multi_init();
        ds.d = calloc(n, sizeof(Download));
        if (!ds.multi || !ds.d) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < n; i++) {
                ds.d[i] = (Download) {
                        .req = &blobs[i],
                        .progress = &progress[i],
                        .sock = { -EBADF, -EBADF },
                        .tree_fd = -EBADF,
                        .prefix_fd = -EBADF,
                };
                strcpy(progress[i].digest, blobs[i].digest);
                progress[i].size = blobs[i].size;
        }
        r = run(&ds, reterr_detail);
        report(&ds, true);
finish:
        for (size_t i = 0; ds.d && i < n; i++)
                download_done(&ds, &ds.d[i]);
        free(ds.d);
        if (ds.multi)
                curl_multi_cleanup(ds.multi);
        return r;
}
