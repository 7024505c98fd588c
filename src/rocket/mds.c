/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "mds.h"
#include "pod.h"
#include "store.h"
#include "string-util.h"

#define MDS_TOKEN_BYTES 16
#define MDS_FILE_MAX (16 * 1024)
#define MDS_BODY_MAX (4 * 1024 * 1024)

void mds_registration_done(MdsRegistration *r) {
        free(r->uuid);
        free(r->dir);
        OPENSSL_cleanse(r->key, sizeof r->key);
        *r = (MdsRegistration) {};
}

void mds_response_done(MdsResponse *r) {
        free(r->body);
        *r = (MdsResponse) {};
}

static bool token_is_valid(const char *t) {
        if (strlen(t) != MDS_TOKEN_BYTES * 2)
                return false;
        for (const char *c = t; *c; c++)
                if (!strchr("0123456789abcdef", *c))
                        return false;
        return true;
}

int mds_register(int registry_fd, const char *uuid, const char *dir, char **ret_token) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        uint8_t raw[MDS_TOKEN_BYTES], key[MDS_KEY_SIZE];
        char token[MDS_TOKEN_BYTES * 2 + 1], b64[((MDS_KEY_SIZE + 2) / 3) * 4 + 1];
        _cleanup_close_ int fd = -EBADF;
        const char *text;
        int r = 0;

        if (!o)
                return -ENOMEM;
        if (getrandom(raw, sizeof raw, 0) != sizeof raw || getrandom(key, sizeof key, 0) != sizeof key)
                return -EIO;
        for (size_t i = 0; i < sizeof raw; i++)
                snprintf(token + 2 * i, 3, "%02x", raw[i]);
        EVP_EncodeBlock((unsigned char *) b64, key, sizeof key);
        OPENSSL_cleanse(key, sizeof key);
        if (json_add_string(o, "uuid", uuid) < 0 || json_add_string(o, "dir", dir) < 0 || json_add_string(o, "key", b64) < 0)
                r = -ENOMEM;
        OPENSSL_cleanse(b64, sizeof b64);
        if (r < 0)
                return r;
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE);
        fd = openat(registry_fd, token, O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) != (ssize_t) strlen(text)) {
                r = errno > 0 ? -errno : -EIO;
                (void) unlinkat(registry_fd, token, 0);
                return r;
        }
        *ret_token = strdup(token);
        return *ret_token ? 0 : -ENOMEM;
}

static int registration_load(int registry_fd, const char *name, MdsRegistration *ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        MdsRegistration reg = {};
        const char *uuid, *dir, *key;
        uint8_t raw[((MDS_KEY_SIZE + 2) / 3) * 3];
        int r;

        r = json_parse_file_at(registry_fd, name, MDS_FILE_MAX, &o);
        if (r < 0)
                return r;
        if (json_get_string(o, "uuid", &uuid) < 0 || json_get_string(o, "dir", &dir) < 0 ||
            json_get_string(o, "key", &key) < 0 || strlen(key) != ((MDS_KEY_SIZE + 2) / 3) * 4 ||
            EVP_DecodeBlock(raw, (const unsigned char *) key, (int) strlen(key)) < MDS_KEY_SIZE)
                return -EBADMSG;
        memcpy(reg.key, raw, MDS_KEY_SIZE);
        OPENSSL_cleanse(raw, sizeof raw);
        reg.uuid = strdup(uuid);
        reg.dir = strdup(dir);
        if (!reg.uuid || !reg.dir) {
                mds_registration_done(&reg);
                return -ENOMEM;
        }
        *ret = reg;
        return 0;
}

int mds_lookup_token(int registry_fd, const char *token, MdsRegistration *ret) {
        if (!token_is_valid(token))
                return -ENOENT;
        return registration_load(registry_fd, token, ret);
}

int mds_lookup_uuid(int registry_fd, const char *uuid, MdsRegistration *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        r = opendir_at(registry_fd, ".", &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d)); ) {
                MdsRegistration reg = {};

                if (!token_is_valid(de->d_name) || registration_load(registry_fd, de->d_name, &reg) < 0)
                        continue;
                if (streq(reg.uuid, uuid)) {
                        *ret = reg;
                        return 0;
                }
                mds_registration_done(&reg);
        }
        return -ENOENT;
}

void mds_registry_sweep(int registry_fd) {
        _cleanup_(closedirp) DIR *d = NULL;

        if (opendir_at(registry_fd, ".", &d) < 0)
                return;
        for (struct dirent *de; (de = readdir(d)); ) {
                _cleanup_(mds_registration_done) MdsRegistration reg = {};
                _cleanup_(pod_freep) Pod *p = NULL;
                _cleanup_close_ int pods_fd = -EBADF;
                int r;

                if (!token_is_valid(de->d_name) || registration_load(registry_fd, de->d_name, &reg) < 0)
                        continue;
                r = pods_open(reg.dir, false, &pods_fd);
                if (r >= 0)
                        r = pod_resolve(pods_fd, reg.uuid, &p);
                if (r == -ENOENT)
                        (void) unlinkat(registry_fd, de->d_name, 0);
        }
}

int mds_hmac_sign(const uint8_t key[static MDS_KEY_SIZE], const void *content, size_t size, char **ret) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        char *b64;

        if (!HMAC(EVP_sha512(), key, MDS_KEY_SIZE, content, size, md, &len))
                return -EIO;
        b64 = malloc(((len + 2) / 3) * 4 + 1);
        if (!b64)
                return -ENOMEM;
        EVP_EncodeBlock((unsigned char *) b64, md, (int) len);
        *ret = b64;
        return 0;
}

int mds_hmac_verify(const uint8_t key[static MDS_KEY_SIZE], const void *content, size_t size, const char *signature) {
        _cleanup_free_ char *want = NULL;
        int r;

        r = mds_hmac_sign(key, content, size, &want);
        if (r < 0)
                return r;
        return strlen(want) == strlen(signature) && CRYPTO_memcmp(want, signature, strlen(want)) == 0;
}

static int respond(MdsResponse *ret, unsigned status, const char *type, const char *body) {
        *ret = (MdsResponse) { .status = status, .content_type = type, .body = strdup(body) };
        return ret->body ? 0 : -ENOMEM;
}

static int respond_json(MdsResponse *ret, json_object *o) {
        return respond(ret, 200, "application/json",
                       json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN|JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* appc's annotations: [ { "name": …, "value": … } ], from "NAME=VALUE" entries. */
static json_object *annotations_json(char *const *l) {
        json_object *a = json_object_new_array();

        STRV_FOREACH(kv, (char **) l) {
                size_t n = strcspn(*kv, "=");
                _cleanup_free_ char *name = strndup(*kv, n);
                json_object *e = json_object_new_object();

                if (!a || !name || !e || json_object_array_add(a, e) < 0 || json_add_string(e, "name", name) < 0 ||
                    json_add_string(e, "value", (*kv)[n] ? *kv + n + 1 : "") < 0) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

/* The pod as appc's pod manifest has it: its apps as they run, its volumes (without host paths), its
 * annotations. */
static json_object *appc_pod_manifest(const PodManifest *m) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        json_object *apps = json_object_new_array(), *vols = json_object_new_array();

        if (!o || json_add_string(o, "acKind", "PodManifest") < 0 || json_add_string(o, "acVersion", "0.8.11") < 0 ||
            json_add(o, "apps", apps) < 0 || json_add(o, "volumes", vols) < 0 ||
            json_add(o, "annotations", annotations_json(m->annotations)) < 0)
                return NULL;
        for (size_t i = 0; i < m->n_apps; i++) {
                const PodApp *a = &m->apps[i];
                json_object *e = json_object_new_object(), *img = json_object_new_object(), *app = json_object_new_object(),
                            *env = json_object_new_array();

                if (!e || json_object_array_add(apps, e) < 0 || json_add_string(e, "name", a->name) < 0 ||
                    json_add(e, "image", img) < 0 || json_add(e, "app", app) < 0 ||
                    json_add(e, "annotations", annotations_json(a->annotations)) < 0 ||
                    json_add_string(img, "id", a->image_id) < 0 ||
                    (a->image_name && json_add_string(img, "name", a->image_name) < 0) ||
                    json_add(app, "exec", strv_to_json(a->exec)) < 0 || json_add_string(app, "user", a->user ?: "0") < 0 ||
                    json_add_string(app, "group", a->group ?: "0") < 0 ||
                    (a->working_dir && json_add_string(app, "workingDirectory", a->working_dir) < 0) ||
                    json_add(app, "environment", env) < 0) {
                        json_object_put(e);
                        return NULL;
                }
                STRV_FOREACH(kv, a->env) {
                        size_t n = strcspn(*kv, "=");
                        _cleanup_free_ char *name = strndup(*kv, n);
                        json_object *v = json_object_new_object();

                        if (!name || !v || json_object_array_add(env, v) < 0 || json_add_string(v, "name", name) < 0 ||
                            json_add_string(v, "value", (*kv)[n] ? *kv + n + 1 : "") < 0)
                                return NULL;
                }
        }
        for (size_t i = 0; i < m->n_volumes; i++) {
                json_object *v = json_object_new_object();

                if (!v || json_object_array_add(vols, v) < 0 || json_add_string(v, "name", m->volumes[i].name) < 0 ||
                    json_add_string(v, "kind", m->volumes[i].kind == VOLUME_HOST ? "host" : "empty") < 0 ||
                    json_add(v, "readOnly", json_object_new_boolean(m->volumes[i].read_only)) < 0)
                        return NULL;
        }
        return TAKE_PTR(o);
}

/* The image's own manifest as the store keeps it: an ACI's appc manifest, else the OCI manifest. */
static int image_manifest(const char *dir, const char *id, char **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = store_open(dir, 0, &s);
        if (r >= 0)
                r = store_image_load(s, id, &rec);
        if (r >= 0)
                r = store_blob_open(s, rec->aci_manifest ?: rec->id, &fd);
        if (r >= 0)
                r = read_full_fd(fd, MDS_BODY_MAX, ret, NULL);
        return r;
}

static int handle_app(const char *dir, const PodApp *a, const char *method, const char *what, MdsResponse *ret) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *manifest = NULL;
        int r;

        if (!streq(method, "GET"))
                return respond(ret, 405, "text/plain; charset=us-ascii", "Method not allowed\n");
        if (streq(what, "annotations")) {
                o = annotations_json(a->annotations);
                return o ? respond_json(ret, o) : -ENOMEM;
        }
        if (streq(what, "image/id"))
                return respond(ret, 200, "text/plain; charset=us-ascii", a->image_id);
        if (streq(what, "image/manifest")) {
                r = image_manifest(dir, a->image_id, &manifest);
                if (r < 0)
                        return respond(ret, 500, "text/plain; charset=us-ascii", "The image's manifest cannot be read\n");
                *ret = (MdsResponse) { .status = 200, .content_type = "application/json", .body = TAKE_PTR(manifest) };
                return 0;
        }
        return respond(ret, 404, "text/plain; charset=us-ascii", "Not found\n");
}

int mds_handle(int registry_fd, const char *method, const char *path, const char *content, size_t content_size,
               const char *uuid, const char *signature, MdsResponse *ret) {
        _cleanup_(mds_registration_done) MdsRegistration reg = {};
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_close_ int pods_fd = -EBADF;
        _cleanup_(json_object_putp) json_object *o = NULL;
        _cleanup_free_ char *token = NULL, *sig = NULL;
        const char *rest, *slash;
        int r;

        /* /TOKEN/acMetadata/v1/… */
        if (path[0] != '/' || !(slash = strchr(path + 1, '/')))
                return respond(ret, 404, "text/plain; charset=us-ascii", "Not found\n");
        token = strndup(path + 1, (size_t) (slash - path - 1));
        if (!token)
                return -ENOMEM;
        rest = startswith(slash, "/acMetadata/v1/");
        if (!rest)
                return respond(ret, 404, "text/plain; charset=us-ascii", "Not found\n");
        /* An unknown token, or one of a pod that is not running: nobody's data. */
        if (mds_lookup_token(registry_fd, token, &reg) < 0 || pods_open(reg.dir, false, &pods_fd) < 0 ||
            pod_resolve(pods_fd, reg.uuid, &p) < 0 || !streq(p->uuid, reg.uuid) || p->state != POD_RUNNING || !p->manifest)
                return respond(ret, 403, "text/plain; charset=us-ascii", "Forbidden\n");

        if (startswith(rest, "apps/")) {
                const char *name = rest + strlen("apps/"), *end = strchr(name, '/');
                _cleanup_free_ char *app = end ? strndup(name, (size_t) (end - name)) : NULL;
                const PodApp *a;

                if (!end)
                        return respond(ret, 404, "text/plain; charset=us-ascii", "Not found\n");
                if (!app)
                        return -ENOMEM;
                /* The pod's own apps only. */
                a = pod_manifest_find_app(p->manifest, app);
                if (!a)
                        return respond(ret, 404, "text/plain; charset=us-ascii", "No such app in this pod\n");
                return handle_app(reg.dir, a, method, end + 1, ret);
        }
        if (streq(rest, "pod/hmac/sign") || streq(rest, "pod/hmac/verify")) {
                _cleanup_(mds_registration_done) MdsRegistration signer = {};

                if (!streq(method, "POST"))
                        return respond(ret, 405, "text/plain; charset=us-ascii", "Method not allowed\n");
                if (!content)
                        return respond(ret, 400, "text/plain; charset=us-ascii", "No content\n");
                if (streq(rest, "pod/hmac/sign")) {
                        r = mds_hmac_sign(reg.key, content, content_size, &sig);
                        if (r < 0)
                                return r;
                        return respond(ret, 200, "text/plain; charset=us-ascii", sig);
                }
                if (!uuid || !signature)
                        return respond(ret, 400, "text/plain; charset=us-ascii", "No uuid or signature\n");
                if (mds_lookup_uuid(registry_fd, uuid, &signer) < 0)
                        return respond(ret, 403, "text/plain; charset=us-ascii", "Unknown pod\n");
                r = mds_hmac_verify(signer.key, content, content_size, signature);
                if (r < 0)
                        return r;
                return r > 0 ? respond(ret, 200, "text/plain; charset=us-ascii", "") :
                               respond(ret, 403, "text/plain; charset=us-ascii", "Signature mismatch\n");
        }
        if (!streq(method, "GET"))
                return respond(ret, 405, "text/plain; charset=us-ascii", "Method not allowed\n");
        if (streq(rest, "pod/uuid"))
                return respond(ret, 200, "text/plain; charset=us-ascii", p->uuid);
        if (streq(rest, "pod/annotations")) {
                o = annotations_json(p->manifest->annotations);
                return o ? respond_json(ret, o) : -ENOMEM;
        }
        if (streq(rest, "pod/manifest")) {
                o = appc_pod_manifest(p->manifest);
                return o ? respond_json(ret, o) : -ENOMEM;
        }
        return respond(ret, 404, "text/plain; charset=us-ascii", "Not found\n");
}

static size_t collect(char *data, size_t size, size_t n, void *userdata) {
        char **buf = userdata;
        size_t have = *buf ? strlen(*buf) : 0;
        char *t;

        if (have + size * n > 4096)
                return 0;
        t = realloc(*buf, have + size * n + 1);
        if (!t)
                return 0;
        memcpy(t + have, data, size * n);
        t[have + size * n] = 0;
        *buf = t;
        return size * n;
}

int mds_register_remote(const char *socket_path, const char *uuid, const char *dir, char **ret_token) {
        _cleanup_free_ char *post = NULL, *body = NULL;
        char *eu = NULL, *ed = NULL;
        long status = 0;
        CURLcode res;
        CURL *c;

        c = curl_easy_init();
        if (!c)
                return log_oom();
        eu = curl_easy_escape(c, uuid, 0);
        ed = curl_easy_escape(c, dir, 0);
        if (!eu || !ed || asprintf(&post, "uuid=%s&dir=%s", eu, ed) < 0)
                post = NULL;
        curl_free(eu);
        curl_free(ed);
        if (!post) {
                curl_easy_cleanup(c);
                return log_oom();
        }
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, socket_path);
        curl_easy_setopt(c, CURLOPT_URL, "http://localhost/register");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        res = curl_easy_perform(c);
        if (res == CURLE_OK)
                curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        if (res != CURLE_OK)
                return log_error_errno(SYNTHETIC_ERRNO(ECONNREFUSED),
                                       "Cannot register the pod with the metadata service at %s: %s (is rocket-metadata.socket "
                                       "running?)", socket_path, curl_easy_strerror(res));
        if (status != 200 || !body || !token_is_valid(body)) {
                if (body)
                        body[strcspn(body, "\n")] = 0;
                return log_error_errno(SYNTHETIC_ERRNO(EPROTO), "The metadata service refused to register the pod (HTTP %ld%s%s).",
                                       status, body ? ": " : "", strempty(body));
        }
        *ret_token = TAKE_PTR(body);
        return 0;
}
