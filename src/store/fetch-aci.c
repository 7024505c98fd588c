/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACIs over HTTPS: a URL, or an appc name found through meta discovery (appc spec, "Meta Discovery": GET
 * https://NAME?ac-discovery=1, <meta name="ac-discovery" content="PREFIX TEMPLATE">, walking up the name's
 * path until a page has a template for it). The ACI is downloaded into the store's tmp/, with its detached
 * signature (.aci.asc) when the server has one, then imported as a local ACI. */
#include <fcntl.h>
#include <inttypes.h>
#include <libxml/HTMLparser.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fetch.h"
#include "fs-util.h"
#include "import.h"
#include "log.h"
#include "string-util.h"
#include "trust-keys.h"

#define DISCOVERY_PAGE_MAX (1U << 20)
#define SIGNATURE_MAX (64U << 10)

typedef struct Template {
        char *prefix;
        char *url;
} Template;

/* Every <meta name="KIND" content="PREFIX TEMPLATE"> in the page, in order. */
static int meta_templates(const char *page, size_t size, const char *kind, Template **ret, size_t *ret_n) {
        htmlDocPtr doc;
        Template *t = NULL;
        size_t n = 0;
        int r = 0;

        doc = htmlReadMemory(page, (int) size, NULL, NULL,
                             HTML_PARSE_NOERROR|HTML_PARSE_NOWARNING|HTML_PARSE_NONET|HTML_PARSE_RECOVER);
        if (!doc) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        /* A depth-first walk without recursion: child, else sibling, else the next sibling up. */
        for (xmlNodePtr node = xmlDocGetRootElement(doc); node; ) {
                if (node->type == XML_ELEMENT_NODE && xmlStrcasecmp(node->name, BAD_CAST "meta") == 0) {
                        xmlChar *name = xmlGetProp(node, BAD_CAST "name"), *content = xmlGetProp(node, BAD_CAST "content");

                        if (name && content && xmlStrcmp(name, BAD_CAST kind) == 0) {
                                _cleanup_strv_free_ char **parts = NULL;

                                if (strv_split((const char *) content, " \t\n", &parts) >= 0 &&
                                    strv_length(parts) == 2) {
                                        Template *p = realloc(t, (n + 1) * sizeof *t);
                                        if (!p)
                                                r = -ENOMEM;
                                        else {
                                                t = p;
                                                t[n++] = (Template) { TAKE_PTR(parts[0]), TAKE_PTR(parts[1]) };
                                        }
                                }
                        }
                        xmlFree(name);
                        xmlFree(content);
                        if (r < 0)
                                break;
                }
                if (node->children)
                        node = node->children;
                else {
                        while (node && !node->next)
                                node = node->parent;
                        if (node)
                                node = node->next;
                }
        }
        xmlFreeDoc(doc);
        if (r < 0) {
                for (size_t i = 0; i < n; i++) {
                        free(t[i].prefix);
                        free(t[i].url);
                }
                free(t);
                return r;
        }
        *ret = t;
        *ret_n = n;
        return 0;
}

static void templates_free(Template *t, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(t[i].prefix);
                free(t[i].url);
        }
        free(t);
}

/* Fills {name} {version} {os} {arch} {ext}; -ENOENT if the template names anything else. */
static int render(const char *tmpl, const char *const vars[][2], size_t n_vars, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;

        out = strdup("");
        if (!out)
                return -ENOMEM;
        for (const char *p = tmpl; *p; ) {
                const char *piece = p;
                size_t plen = 1;
                char *grown;

                if (*p == '{') {
                        const char *end = strchr(p, '}');
                        bool found = false;

                        if (!end)
                                return -EBADMSG;
                        for (size_t i = 0; i < n_vars; i++)
                                if (strlen(vars[i][0]) == (size_t) (end - p - 1) &&
                                    strneq(p + 1, vars[i][0], (size_t) (end - p - 1))) {
                                        piece = vars[i][1];
                                        plen = strlen(piece);
                                        found = true;
                                }
                        if (!found)
                                return -ENOENT;
                        p = end + 1;
                } else
                        p++;
                grown = realloc(out, len + plen + 1);
                if (!grown)
                        return -ENOMEM;
                out = grown;
                memcpy(out + len, piece, plen);
                len += plen;
                out[len] = 0;
        }
        *ret = TAKE_PTR(out);
        return 0;
}

/* The templates of the given kind on the first page up name's path that has one for name (its prefix matches),
 * as appc's meta discovery walks. */
static int discover_walk(HttpClient *c, const char *name, const char *kind, Template **ret, size_t *ret_n,
                         char **reterr_detail) {
        _cleanup_free_ char *path = strdup(name);

        if (!path)
                return -ENOMEM;
        for (;;) {
                _cleanup_(http_response_done) HttpResponse resp = {};
                _cleanup_free_ char *url = NULL, *host = NULL;
                Template *t = NULL;
                size_t n = 0, k = 0;
                char *slash;
                int r;

                host = strndup(path, strcspn(path, "/"));
                if (!host || asprintf(&url, "%s://%s?ac-discovery=1", http_scheme(c), path) < 0)
                        return -ENOMEM;
                r = http_get(c, url, host, "text/html", NULL, false, DISCOVERY_PAGE_MAX, &resp);
                if (r == -ECONNABORTED)
                        return detail_printf(reterr_detail, r, "discovery of %s: TLS with %s failed: %s", name, host,
                                             resp.error);
                if (r < 0 && r != -EFBIG)
                        return detail_printf(reterr_detail, r, "discovery of %s: cannot reach %s: %s", name, host,
                                             resp.error);
                if (r >= 0 && resp.status == 200) {
                        r = meta_templates(resp.body ?: "", resp.size, kind, &t, &n);
                        if (r < 0)
                                return r;
                }
                /* Keep those whose prefix is name's. */
                for (size_t i = 0; i < n; i++) {
                        if (startswith(name, t[i].prefix)) {
                                Template tmp = t[k];
                                t[k++] = t[i];
                                t[i] = tmp;
                        }
                }
                for (size_t i = k; i < n; i++) {
                        free(t[i].prefix);
                        free(t[i].url);
                }
                if (k > 0) {
                        *ret = t;
                        *ret_n = k;
                        return 0;
                }
                free(t);
                /* None here: the next level up the name, until the domain alone has been asked. */
                slash = strrchr(path, '/');
                if (!slash)
                        return detail_printf(reterr_detail, -ENOENT, "discovery of %s found no %s template for it "
                                             "(asked %s://%s?ac-discovery=1 and every level up to its domain)", name,
                                             kind, http_scheme(c), name);
                *slash = 0;
        }
}

int aci_discover(HttpClient *c, const char *name, const char *version, const char *os, const char *arch,
                 char **ret_aci_url, char **ret_asc_url, char **reterr_detail) {
        const char *const vars_aci[][2] = {
                { "name", name }, { "version", version }, { "os", os }, { "arch", arch }, { "ext", "aci" },
        };
        const char *const vars_asc[][2] = {
                { "name", name }, { "version", version }, { "os", os }, { "arch", arch }, { "ext", "aci.asc" },
        };
        Template *t = NULL;
        size_t n = 0;
        int r;

        r = discover_walk(c, name, "ac-discovery", &t, &n, reterr_detail);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *aci = NULL, *asc = NULL;

                if (render(t[i].url, vars_aci, ELEMENTSOF(vars_aci), &aci) < 0 ||
                    render(t[i].url, vars_asc, ELEMENTSOF(vars_asc), &asc) < 0)
                        continue;
                templates_free(t, n);
                log_debug("Discovered %s at %s.", name, aci);
                *ret_aci_url = TAKE_PTR(aci);
                *ret_asc_url = TAKE_PTR(asc);
                return 0;
        }
        templates_free(t, n);
        return detail_printf(reterr_detail, -ENOENT, "discovery of %s found only templates it cannot fill", name);
}

int aci_discover_pubkeys(HttpClient *c, const char *prefix, char ***ret_urls, char **reterr_detail) {
        _cleanup_strv_free_ char **urls = NULL;
        Template *t = NULL;
        size_t n = 0;
        int r;

        r = discover_walk(c, prefix, "ac-discovery-pubkeys", &t, &n, reterr_detail);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (!strv_contains(urls, t[i].url) && strv_extend(&urls, t[i].url) < 0) {
                        templates_free(t, n);
                        return -ENOMEM;
                }
        templates_free(t, n);
        *ret_urls = TAKE_PTR(urls);
        return 0;
}

typedef struct FileSink {
        int fd;
        uint64_t size, max;
} FileSink;

static size_t file_write(char *buf, size_t size, size_t n, void *userdata) {
        FileSink *f = userdata;
        size_t len = size * n;

        f->size += len;
        if (f->size > f->max)
                return 0;
        for (size_t off = 0; off < len; ) {
                ssize_t k = write(f->fd, buf + off, len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return 0;
                }
                off += (size_t) k;
        }
        return len;
}

/* Downloads url into a new file in dir_fd; -ENOENT on 404. */
static int download_file(HttpClient *c, const char *url, int dir_fd, const char *name, uint64_t max,
                         char **reterr_detail) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *host = NULL;
        _cleanup_close_ int fd = -EBADF;
        CURL *e = curl_easy_init();
        FileSink sink = { .max = max };
        CURLcode code;
        int r;

        if (!e)
                return -ENOMEM;
        r = http_url_host(url, &host);
        if (r == -ENOMEM)
                goto finish;
        if (r < 0) {
                r = detail_printf(reterr_detail, -EINVAL, "invalid URL %s", url);
                goto finish;
        }
        fd = openat(dir_fd, name, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC|O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                goto finish;
        }
        sink.fd = fd;
        r = http_easy_setup(c, e, url, NULL, host);
        if (r < 0)
                goto finish;
        if (curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, file_write) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_WRITEDATA, &sink) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_ERRORBUFFER, resp.error) != CURLE_OK ||
            curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L) != CURLE_OK) {
                r = -EIO;
                goto finish;
        }
        code = curl_easy_perform(e);
        (void) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &resp.status);
        if (sink.size > max)
                r = detail_printf(reterr_detail, -EFBIG, "%s is larger than %" PRIu64 " bytes", url, max);
        else if (code == CURLE_HTTP_RETURNED_ERROR)
                r = detail_printf(reterr_detail, resp.status == 404 ? -ENOENT : resp.status == 401 || resp.status == 403 ?
                         -EACCES : -EPROTO, "%s answered HTTP %ld for %s", host, resp.status, url);
        else if (code != CURLE_OK)
                r = detail_printf(reterr_detail, http_curl_to_errno(code), "cannot download %s: %s", url,
                         isempty(resp.error) ? curl_easy_strerror(code) : resp.error);
        else
                r = 0;
finish:
        curl_easy_cleanup(e);
        if (r < 0 && fd >= 0)
                (void) unlinkat(dir_fd, name, 0);
        return r;
}

int aci_verify(int fd, const char *name, const void *sig, size_t sig_size, char **ret_signer, char **reterr_detail) {
        _cleanup_free_ char *manifest_name = NULL, *detail = NULL;
        TrustDirs dirs = trust_dirs_default();
        int r;

        if (!name) {
                r = aci_file_name(fd, &manifest_name);
                if (r < 0)
                        return detail_printf(reterr_detail, r, "cannot read its manifest's name to check its signature");
                name = manifest_name;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        r = trust_verify_detached(&dirs, name, fd, sig, sig_size, ret_signer, &detail);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        if (r < 0)
                return detail_printf(reterr_detail, r, "%s: %s", name, strna(detail));
        log_debug("ACI %s: signature by trusted key %s.", name, *ret_signer);
        return 0;
}

/* appc spells some architectures as the kernel does (appc spec, "Architectures"). */
static const char *appc_arch(const char *oci) {
        static const char *const map[][2] = {
                { "arm64", "aarch64" }, { "386", "i386" }, { "arm", "armv7l" },
        };

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (streq(oci, map[i][0]))
                        return map[i][1];
        return oci;
}

int aci_pull(Store *s, const ImageRef *ref, const FetchOptions *o, char *const *names, char **ret_id,
             char **reterr_detail) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_free_ char *aci_url = NULL, *asc_url = NULL, *tmp = NULL, *path = NULL, *asc_tmp = NULL, *signer = NULL;
        _cleanup_(image_ref_freep) ImageRef *local = NULL;
        bool have_asc = false;
        int r;

        assert(IN_SET(ref->type, IMAGE_REF_HTTPS, IMAGE_REF_DISCOVERY));

        r = http_client_new(o->insecure, &c);
        if (r < 0)
                return r;
        if (ref->type == IMAGE_REF_DISCOVERY) {
                r = aci_discover(c, ref->name, ref->tag ?: "latest", o->os ?: "linux",
                                 appc_arch(o->arch ?: oci_host_arch()), &aci_url, &asc_url, reterr_detail);
                if (r < 0)
                        return r;
        } else {
                aci_url = strdup(ref->path);
                if (!aci_url || asprintf(&asc_url, "%s.asc", ref->path) < 0)
                        return -ENOMEM;
        }
        if (!startswith(aci_url, "https://") && !(o->insecure & FETCH_INSECURE_HTTP))
                return detail_printf(reterr_detail, -EPROTONOSUPPORT, "%s is not HTTPS (--insecure-options=http allows it)",
                            aci_url);

        r = tempname_make("aci", &tmp);
        if (r < 0)
                return r;
        r = download_file(c, aci_url, s->tmp_fd, tmp, STORE_BLOB_SIZE_MAX, reterr_detail);
        if (r < 0)
                return r;
        /* The detached signature, when there is one, is kept beside the image for verification. */
        if (asprintf(&asc_tmp, "%s.asc", tmp) < 0)
                return -ENOMEM;
        r = download_file(c, asc_url, s->tmp_fd, asc_tmp, SIGNATURE_MAX, NULL);
        have_asc = r >= 0;
        if (r < 0)
                log_debug_errno(r, "No signature at %s: %m", asc_url);

        /* Images from the network carry a signature by a key trusted for their name, unless told not to. */
        if (!(o->insecure & FETCH_INSECURE_IMAGE)) {
                _cleanup_free_ char *sig = NULL;
                _cleanup_close_ int fd = -EBADF;
                size_t sig_size;

                if (!have_asc) {
                        r = detail_printf(reterr_detail, -ENOKEY, "%s has no signature (%s); "
                                          "--insecure-options=image fetches it unverified", aci_url, asc_url);
                        goto finish;
                }
                r = read_full_file_at(s->tmp_fd, asc_tmp, SIGNATURE_MAX, &sig, &sig_size);
                if (r < 0)
                        goto finish;
                fd = openat(s->tmp_fd, tmp, O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
                if (fd < 0) {
                        r = -errno;
                        goto finish;
                }
                r = aci_verify(fd, ref->type == IMAGE_REF_DISCOVERY ? ref->name : NULL, sig, sig_size, &signer,
                               reterr_detail);
                if (r < 0) {
                        _cleanup_free_ char *why = reterr_detail ? TAKE_PTR(*reterr_detail) : NULL;

                        r = detail_printf(reterr_detail, r, "%s; --insecure-options=image fetches it unverified",
                                          strna(why));
                        goto finish;
                }
        }

        local = calloc(1, sizeof *local);
        if (!local || asprintf(&local->path, "%s/tmp/%s", s->path, tmp) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        local->type = IMAGE_REF_ACI;
        r = image_import(s, local, names, ret_id, reterr_detail);
        if (r >= 0 && signer) {
                r = store_image_set_signer(s, *ret_id, signer);
                if (r < 0)
                        goto finish;
        }
        if (r >= 0 && have_asc) {
                r = store_image_set_signature(s, *ret_id, s->tmp_fd, asc_tmp);
                if (r < 0)
                        log_debug_errno(r, "Failed to keep the signature of %s: %m", *ret_id);
                r = 0;
        }
finish:
        (void) unlinkat(s->tmp_fd, tmp, 0);
        if (have_asc)
                (void) unlinkat(s->tmp_fd, asc_tmp, 0);
        return r;
}
