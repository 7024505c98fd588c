/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* docker:// pulls: the manifest (through an index to this machine's platform), the config, then the layers
 * (fetch-download.c), all verified by digest, committed into the store as one import. Authentication as
 * registries ask for it: a Bearer token from the challenge's realm (with the user's credentials if any,
 * reused for every request of the pull), or Basic. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "fetch-auth.h"
#include "fetch.h"
#include "import.h"
#include "json-util.h"
#include "log.h"
#include "string-util.h"
#include "trust-policy.h"

#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define ACCEPT_MANIFESTS MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST
#define LAYERS_MAX 512

typedef struct Registry {
        const ImageRef *ref;
        const FetchOptions *o;
        HttpClient *http;
        char *host;             /* where requests go: "registry-1.docker.io", "h:5000" */
        char *base;             /* "https://HOST/v2/REPOSITORY/" */
        HttpAuth auth;
        Credentials creds;
        bool creds_looked_up;
        char **detail;
} Registry;

static void registry_done(Registry *reg) {
        http_client_free(reg->http);
        free(reg->host);
        free(reg->base);
        http_auth_done(&reg->auth);
        credentials_done(&reg->creds);
}

static int lookup_credentials(Registry *reg) {
        int r;

        if (reg->creds.user)
                return 1;       /* given (a login), or found before */
        if (reg->creds_looked_up)
                return 0;
        reg->creds_looked_up = true;
        r = credentials_find(reg->ref->registry, &reg->creds);
        if (r > 0)
                log_debug("Using the credentials for %s in %s.", reg->ref->registry, reg->creds.source);
        return r;
}

/* The sentence that ends an access error: which credentials were tried. */
static const char *credentials_note(Registry *reg, char *buf, size_t size) {
        if (reg->creds.user)
                snprintf(buf, size, "with the credentials of user '%s' from %s", reg->creds.user, reg->creds.source);
        else
                snprintf(buf, size, "without credentials (none found for %s; see 'rocket login')",
                         reg->ref->registry);
        return buf;
}

/* A Bearer token for pulling the repository, from the realm the challenge names. */
static int get_token(Registry *reg, const AuthChallenge *ch) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_(json_object_putp) json_object *j = NULL;
        _cleanup_free_ char *url = NULL, *realm_host = NULL, *scope = NULL;
        HttpAuth basic = {
                .user = reg->creds.user,
                .password = reg->creds.password,
        };
        char note[512];
        char *service = NULL, *escaped_scope = NULL;
        const char *token;
        int r;

        if (!ch->realm)
                return detail_printf(reg->detail, -EPROTO, "%s asked for a token without saying where from (no realm)", reg->host);
        r = http_url_host(ch->realm, &realm_host);
        if (r < 0)
                return detail_printf(reg->detail, -EPROTO, "%s named an invalid token realm '%s'", reg->host, ch->realm);
        /* No repository (a login): a token for the registry itself, as docker login asks. */
        if (reg->ref->repository && asprintf(&scope, "repository:%s:pull", reg->ref->repository) < 0)
                return -ENOMEM;
        escaped_scope = scope ? curl_easy_escape(NULL, scope, 0) : NULL;
        service = ch->service ? curl_easy_escape(NULL, ch->service, 0) : NULL;
        if ((scope && !escaped_scope) || (ch->service && !service)) {
                r = -ENOMEM;
                goto finish;
        }
        if (asprintf(&url, "%s%s%s%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
                     escaped_scope ? "scope=" : "", strempty(escaped_scope),
                     service ? (escaped_scope ? "&service=" : "service=") : "", strempty(service)) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        r = http_get(reg->http, url, realm_host, "application/json", basic.user ? &basic : NULL, false,
                     STORE_JSON_SIZE_MAX, &resp);
        if (r < 0) {
                r = detail_printf(reg->detail, r, "cannot reach the token service %s: %s", realm_host, resp.error);
                goto finish;
        }
        if (IN_SET(resp.status, 401, 403)) {
                r = detail_printf(reg->detail, -EACCES, "the token service %s refused access to %s (HTTP %ld) %s", realm_host,
                         reg->ref->repository ?: reg->ref->registry, resp.status,
                         credentials_note(reg, note, sizeof note));
                goto finish;
        }
        if (resp.status != 200) {
                r = detail_printf(reg->detail, -EPROTO, "the token service %s answered HTTP %ld", realm_host, resp.status);
                goto finish;
        }
        r = json_parse_strict(resp.body ?: "", resp.size, &j);
        if (r < 0 || ((json_get_string(j, "token", &token) < 0 || isempty(token)) &&
                      (json_get_string(j, "access_token", &token) < 0 || isempty(token)))) {
                r = detail_printf(reg->detail, -EPROTO, "the token service %s sent no token", realm_host);
                goto finish;
        }
        free(reg->auth.bearer);
        reg->auth.bearer = strdup(token);
        r = reg->auth.bearer ? 0 : -ENOMEM;
finish:
        curl_free(escaped_scope);
        curl_free(service);
        return r;
}

/* Answers a 401's challenge. -EACCES when it cannot be answered (again). */
static int authenticate(Registry *reg, const char *challenge) {
        _cleanup_(auth_challenge_done) AuthChallenge ch = {};
        char note[512];
        int r;

        r = auth_challenge_parse(challenge, &ch);
        if (r < 0)
                return detail_printf(reg->detail, -EACCES, "%s requires authentication (HTTP 401) with a challenge rocket cannot read",
                            reg->host);
        r = lookup_credentials(reg);
        if (r < 0)
                return r;
        if (strcasecmp(ch.scheme, "Bearer") == 0)
                return get_token(reg, &ch);
        if (strcasecmp(ch.scheme, "Basic") == 0) {
                if (!reg->creds.user || reg->auth.user)
                        return detail_printf(reg->detail, -EACCES, "%s refused access to %s (HTTP 401) %s", reg->host,
                                    reg->ref->repository ?: reg->ref->registry,
                                    credentials_note(reg, note, sizeof note));
                reg->auth.user = strdup(reg->creds.user);
                reg->auth.password = strdup(reg->creds.password);
                return reg->auth.user && reg->auth.password ? 0 : -ENOMEM;
        }
        return detail_printf(reg->detail, -EACCES, "%s asks for '%s' authentication, which rocket does not speak", reg->host, ch.scheme);
}

/* A GET (or HEAD) against the registry, authenticating once if it asks to. */
static int registry_get(Registry *reg, const char *url, const char *accept, bool head, size_t max,
                        HttpResponse *resp) {
        bool answered = false;
        int r;

        for (;;) {
                r = http_get(reg->http, url, reg->host, accept, &reg->auth, head, max, resp);
                if (r == -EFBIG)
                        return detail_printf(reg->detail, r, "%s sent more than %zu bytes for %s", reg->host, max, url);
                if (r == -ECONNABORTED)
                        return detail_printf(reg->detail, r, "TLS with %s failed: %s", reg->host, resp->error);
                if (r == -EPROTONOSUPPORT)
                        return detail_printf(reg->detail, r, "%s: %s", reg->host, resp->error);
                if (r < 0)
                        return detail_printf(reg->detail, r, "cannot reach %s: %s", reg->host, resp->error);
                if (resp->status != 401 || answered)
                        return 0;
                if (!resp->www_authenticate)
                        return detail_printf(reg->detail, -EACCES, "%s answered HTTP 401 without saying how to authenticate",
                                    reg->host);
                r = authenticate(reg, resp->www_authenticate);
                if (r < 0)
                        return r;
                answered = true;
        }
}

static int status_error(Registry *reg, long status, const char *what) {
        char note[512];

        switch (status) {
        case 401:
        case 403:
                return detail_printf(reg->detail, -EACCES, "%s refused access to %s (HTTP %ld) %s", reg->host, what, status,
                            credentials_note(reg, note, sizeof note));
        case 404:
                return detail_printf(reg->detail, -ENOENT, "%s has no %s (manifest unknown)", reg->host, what);
        case 429:
                return detail_printf(reg->detail, -EBUSY, "%s keeps answering 'too many requests' for %s", reg->host, what);
        default:
                return detail_printf(reg->detail, -EPROTO, "%s answered HTTP %ld for %s", reg->host, status, what);
        }
}

typedef enum ManifestKind {
        MANIFEST_IMAGE,
        MANIFEST_INDEX,
        MANIFEST_SCHEMA1,
        MANIFEST_UNKNOWN,
} ManifestKind;

static ManifestKind manifest_kind(const char *content_type, json_object *m) {
        const char *mt = NULL;
        int64_t version = 0;

        (void) json_get_string(m, "mediaType", &mt);
        (void) json_get_int64(m, "schemaVersion", &version);
        if (version == 1 || streq_ptr(content_type, MT_DOCKER_V1) || streq_ptr(content_type, MT_DOCKER_V1_SIGNED))
                return MANIFEST_SCHEMA1;
        if (!mt)
                mt = content_type;
        if (streq_ptr(mt, MT_OCI_INDEX) || streq_ptr(mt, MT_DOCKER_LIST))
                return MANIFEST_INDEX;
        if (streq_ptr(mt, MT_OCI_MANIFEST) || streq_ptr(mt, MT_DOCKER_MANIFEST))
                return MANIFEST_IMAGE;
        /* OCI allows leaving mediaType out: the shape tells. */
        if (json_object_object_get_ex(m, "manifests", NULL))
                return MANIFEST_INDEX;
        if (json_object_object_get_ex(m, "layers", NULL) && json_object_object_get_ex(m, "config", NULL))
                return MANIFEST_IMAGE;
        return MANIFEST_UNKNOWN;
}

/* GETs a manifest by tag or digest and checks it against the digest asked for, or the one the registry
 * claims. */
static int get_manifest(Registry *reg, const char *reference, const char *expected, char **ret_body,
                        size_t *ret_size, char ret_digest[static DIGEST_STRING_MAX], ManifestKind *ret_kind,
                        json_object **ret_json) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_(json_object_putp) json_object *m = NULL;
        _cleanup_free_ char *url = NULL, *what = NULL;
        char digest[DIGEST_STRING_MAX];
        int r;

        if (asprintf(&url, "%smanifests/%s", reg->base, reference) < 0 ||
            asprintf(&what, "%s/%s%s%s", reg->ref->registry, reg->ref->repository,
                     digest_is_valid(reference) ? "@" : ":", reference) < 0)
                return -ENOMEM;
        r = registry_get(reg, url, ACCEPT_MANIFESTS, false, STORE_JSON_SIZE_MAX, &resp);
        if (r < 0)
                return r;
        if (resp.status != 200)
                return status_error(reg, resp.status, what);
        /* The kind first: a schema 1 manifest's digest covers its payload without the signatures. */
        r = json_parse_strict(resp.body ?: "", resp.size, &m);
        if (r < 0 || !json_object_is_type(m, json_type_object))
                return detail_printf(reg->detail, -EBADMSG, "the manifest of %s is not valid JSON", what);
        *ret_kind = manifest_kind(resp.content_type, m);
        if (*ret_kind == MANIFEST_SCHEMA1)
                return detail_printf(reg->detail, -EMEDIUMTYPE, "%s is a Docker schema 1 manifest, which rocket refuses "
                            "(deprecated and unverifiable); push the image again with a current docker or skopeo",
                            what);
        if (*ret_kind == MANIFEST_UNKNOWN)
                return detail_printf(reg->detail, -EMEDIUMTYPE, "%s has a manifest of unknown type '%s'", what,
                            strna(resp.content_type));
        r = sha256_data(resp.body ?: "", resp.size, digest);
        if (r < 0)
                return r;
        if (expected && !streq(expected, digest))
                return detail_printf(reg->detail, -STORE_ERR_DIGEST_MISMATCH, "manifest of %s: the registry sent content whose digest is %s, not %s",
                            what, digest, expected);
        if (!expected && resp.docker_content_digest && digest_is_valid(resp.docker_content_digest) &&
            !streq(resp.docker_content_digest, digest))
                return detail_printf(reg->detail, -STORE_ERR_DIGEST_MISMATCH, "manifest of %s: content digest %s differs from the %s the registry announced",
                            what, digest, resp.docker_content_digest);
        strcpy(ret_digest, digest);
        *ret_body = TAKE_PTR(resp.body);
        *ret_size = resp.size;
        *ret_json = TAKE_PTR(m);
        return 0;
}

/* From an index, the manifest for the platform asked for (this machine's by default). */
static int index_pick(Registry *reg, json_object *index, char ret_digest[static DIGEST_STRING_MAX]) {
        const char *want_os = reg->o->os ?: "linux", *want_arch = reg->o->arch ?: oci_host_arch();
        _cleanup_strv_free_ char **offered = NULL;
        _cleanup_free_ char *list = NULL;
        json_object *manifests;
        size_t n;

        if (json_get_array(index, "manifests", &manifests) < 0)
                return detail_printf(reg->detail, -EBADMSG, "the index of %s has no manifest list", reg->ref->name);
        n = json_object_array_length(manifests);
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(manifests, i), *platform;
                const char *os = NULL, *arch = NULL, *variant = NULL, *digest = NULL;
                char *p;

                if (json_get_string(m, "digest", &digest) < 0 || !digest_is_valid(digest))
                        return detail_printf(reg->detail, -EBADMSG, "the index of %s has an entry without a valid digest",
                                    reg->ref->name);
                if (json_get_object(m, "platform", &platform) < 0)
                        continue;
                (void) json_get_string(platform, "os", &os);
                (void) json_get_string(platform, "architecture", &arch);
                (void) json_get_string(platform, "variant", &variant);
                if (!os || !arch || streq(os, "unknown"))
                        continue;       /* attestations and other non-images */
                if (streq(os, want_os) && streq(arch, want_arch) &&
                    (!reg->o->variant || streq_ptr(variant, reg->o->variant))) {
                        strcpy(ret_digest, digest);
                        return 0;
                }
                if (asprintf(&p, "%s/%s%s%s", os, arch, variant ? "/" : "", strempty(variant)) < 0 ||
                    strv_push(&offered, p) < 0)
                        return -ENOMEM;
        }
        if (strv_join(offered, ", ", &list) < 0)
                return -ENOMEM;
        return detail_printf(reg->detail, -ENOENT, "%s has no image for %s/%s%s%s (it has: %s)", reg->ref->name, want_os, want_arch,
                    reg->o->variant ? "/" : "", strempty(reg->o->variant), isempty(list) ? "nothing" : list);
}

/* A small blob (the config), verified, into the import. */
static int get_small_blob(Registry *reg, StoreImport *imp, const char *digest) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *url = NULL;
        char got[DIGEST_STRING_MAX];
        int r;

        if (store_import_has(imp, digest))
                return 0;
        if (asprintf(&url, "%sblobs/%s", reg->base, digest) < 0)
                return -ENOMEM;
        r = registry_get(reg, url, NULL, false, STORE_JSON_SIZE_MAX, &resp);
        if (r < 0)
                return r;
        if (resp.status != 200)
                return status_error(reg, resp.status, digest);
        r = store_import_put_data(imp, resp.body ?: "", resp.size, got);
        if (r < 0)
                return r;
        if (!streq(got, digest))
                return detail_printf(reg->detail, -STORE_ERR_DIGEST_MISMATCH, "blob %s: the registry sent content whose digest is %s",
                            digest, got);
        return 0;
}

static int layers_download(Registry *reg, StoreImport *imp, json_object *manifest) {
        _cleanup_free_ BlobRequest *blobs = NULL;
        _cleanup_free_ FetchLayerProgress *progress = NULL;
        json_object *layers;
        size_t n, k = 0;
        int r;

        if (json_get_array(manifest, "layers", &layers) < 0)
                return detail_printf(reg->detail, -EBADMSG, "the manifest of %s has no layer list", reg->ref->name);
        n = json_object_array_length(layers);
        if (n > LAYERS_MAX)
                return detail_printf(reg->detail, -E2BIG, "the manifest of %s has %zu layers", reg->ref->name, n);
        blobs = calloc(MAX(n, 1u), sizeof *blobs);
        progress = calloc(MAX(n, 1u), sizeof *progress);
        if (!blobs || !progress)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *l = json_object_array_get_idx(layers, i);
                const char *digest;
                int64_t size;
                bool dup = false;

                if (json_get_string(l, "digest", &digest) < 0 || !digest_is_valid(digest) ||
                    json_get_int64(l, "size", &size) < 0 || size < 0 || (uint64_t) size > STORE_BLOB_SIZE_MAX)
                        return detail_printf(reg->detail, -EBADMSG, "the manifest of %s has an invalid layer descriptor",
                                    reg->ref->name);
                for (size_t j = 0; j < k; j++)
                        dup = dup || streq(blobs[j].digest, digest);
                if (dup || store_import_has(imp, digest))
                        continue;       /* the store has it: not downloaded again */
                strcpy(blobs[k].digest, digest);
                blobs[k].size = (uint64_t) size;
                if (asprintf(&blobs[k].url, "%sblobs/%s", reg->base, digest) < 0)
                        goto oom;
                k++;
        }
        r = blobs_download(reg->http, &reg->auth, reg->host, imp, geteuid() == 0, blobs, k, progress, reg->o,
                           reg->detail);
        for (size_t i = 0; i < k; i++)
                free(blobs[i].url);
        if ((r == -EACCES || r == -ENOENT) && reg->detail) {
                _cleanup_free_ char *what = TAKE_PTR(*reg->detail);
                char note[512];

                return detail_printf(reg->detail, r, "%s: %s%s%s", reg->ref->name, strna(what), r == -EACCES ? " " : "",
                            r == -EACCES ? credentials_note(reg, note, sizeof note) : "");
        }
        return r;
oom:
        for (size_t i = 0; i < k; i++)
                free(blobs[i].url);
        return -ENOMEM;
}

int registry_pull(Store *s, const ImageRef *ref, const FetchOptions *o, char *const *names, char **ret_id,
                  char **reterr_detail) {
        _cleanup_(registry_done) Registry reg = {
                .ref = ref,
                .o = o,
                .detail = reterr_detail,
        };
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        _cleanup_(json_object_putp) json_object *manifest = NULL;
        _cleanup_free_ char *body = NULL, *id = NULL, *entry = NULL, *signer = NULL;
        _cleanup_strv_free_ char **all = NULL;
        char digest[DIGEST_STRING_MAX], put[DIGEST_STRING_MAX];
        json_object *config;
        const char *config_digest;
        ManifestKind kind;
        size_t size;
        int r;

        assert(ref->type == IMAGE_REF_DOCKER);

        if (o->policy != PULL_UPDATE) {
                r = store_ref_get(s, ref->name, &id);
                if (r >= 0) {
                        log_debug("%s is in the store as %s (pull policy '%s').", ref->name, id,
                                  pull_policy_to_string(o->policy));
                        *ret_id = TAKE_PTR(id);
                        return 0;
                }
                if (r != -ENOENT)
                        return r;
                if (o->policy == PULL_NEVER)
                        return detail_printf(reg.detail, -ENOENT, "%s is not in the store and the pull policy is 'never'", ref->name);
        }

        r = http_client_new(o->insecure, &reg.http);
        if (r < 0)
                return r;
        reg.host = strdup(docker_registry_endpoint(ref->registry));
        if (!reg.host || asprintf(&reg.base, "%s://%s/v2/%s/", http_scheme(reg.http), reg.host, ref->repository) < 0)
                return -ENOMEM;

        r = get_manifest(&reg, ref->digest ?: ref->tag, ref->digest, &body, &size, digest, &kind, &manifest);
        if (r < 0)
                return r;
        if (kind == MANIFEST_INDEX) {
                char chosen[DIGEST_STRING_MAX];

                r = index_pick(&reg, manifest, chosen);
                if (r < 0)
                        return r;
                free(body);
                body = NULL;
                json_object_put(manifest);
                manifest = NULL;
                r = get_manifest(&reg, chosen, chosen, &body, &size, digest, &kind, &manifest);
                if (r < 0)
                        return r;
                if (kind != MANIFEST_IMAGE)
                        return detail_printf(reg.detail, -EMEDIUMTYPE, "the index of %s points at another index", ref->name);
        }

        /* Whether the signature policy accepts it, before any layer is downloaded. */
        if (!(o->insecure & FETCH_INSECURE_IMAGE)) {
                PolicyDirs dirs = policy_dirs_default();

                r = policy_check_docker(&dirs, ref, digest, &signer, reg.detail);
                if (r < 0)
                        return r;
        }

        r = store_import_begin(s, &imp);
        if (r < 0)
                return r;
        r = store_import_put_data(imp, body, size, put);
        if (r < 0)
                return r;
        assert(streq(put, digest));

        if (json_get_object(manifest, "config", &config) < 0 || json_get_string(config, "digest", &config_digest) < 0 ||
            !digest_is_valid(config_digest))
                return detail_printf(reg.detail, -EBADMSG, "the manifest of %s has no valid config descriptor", ref->name);
        r = get_small_blob(&reg, imp, config_digest);
        if (r < 0)
                return r;
        r = layers_download(&reg, imp, manifest);
        if (r < 0)
                return r;

        if (strv_extend(&all, ref->name) < 0)
                return -ENOMEM;
        STRV_FOREACH(n, (char **) names)
                if (!strv_contains(all, *n) && strv_extend(&all, *n) < 0)
                        return -ENOMEM;
        r = store_import_commit(imp, digest, IMAGE_FORMAT_REGISTRY, all, ret_id, &entry);
        if (r < 0) {
                if (entry)
                        return detail_printf(reg.detail, r, "%s: '%s'", ref->name, entry);
                return r;
        }
        if (signer)
                return store_image_set_signer(s, *ret_id, signer);
        return 0;
}

int registry_login_check(const char *registry, const char *user, const char *password, FetchInsecure insecure,
                         char **reterr_detail) {
        ImageRef ref = {
                .type = IMAGE_REF_DOCKER,
                .registry = (char *) registry,
        };
        FetchOptions o = {
                .insecure = insecure,
        };
        _cleanup_(registry_done) Registry reg = {
                .ref = &ref,
                .o = &o,
                .detail = reterr_detail,
        };
        _cleanup_(http_response_done) HttpResponse resp = {};
        int r;

        reg.creds.user = strdup(user);
        reg.creds.password = strdup(password);
        reg.creds.source = strdup("the command line");
        reg.host = strdup(docker_registry_endpoint(registry));
        if (!reg.creds.user || !reg.creds.password || !reg.creds.source || !reg.host)
                return -ENOMEM;
        r = http_client_new(insecure, &reg.http);
        if (r < 0)
                return r;
        if (asprintf(&reg.base, "%s://%s/v2/", http_scheme(reg.http), reg.host) < 0)
                return -ENOMEM;
        r = registry_get(&reg, reg.base, "application/json", false, STORE_JSON_SIZE_MAX, &resp);
        if (r < 0)
                return r;
        if (resp.status == 200)
                return 0;
        return status_error(&reg, resp.status, registry);
}
