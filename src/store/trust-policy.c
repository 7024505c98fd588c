/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <yaml.h>

#include "config.h"
#include "digest.h"
#include "fetch-http.h"
#include "fs-util.h"
#include "gpg-verify.h"
#include "json-util.h"
#include "log.h"
#include "string-util.h"
#include "trust-policy.h"

#define POLICY_FILE_MAX (1U << 20)
#define SIGNATURE_MAX (64U << 10)
#define SIGNATURES_MAX 16

PolicyDirs policy_dirs_default(void) {
        static const char *const registries_d[] = { "/etc/rocket/registries.d", "/etc/containers/registries.d", NULL };

        return (PolicyDirs) {
                .admin_policy = POLICY_ADMIN_FILE,
                .vendor_policy = ROCKET_POLICY_VENDOR,
                .registries_d = registries_d,
        };
}

/* The scopes that can name ref, most specific first: "host/ns/repo:tag", "host/ns/repo", "host/ns", "host",
 * "*.domain" for each parent domain of host. */
static int docker_scopes(const ImageRef *ref, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *repo = NULL;
        const char *dot;

        if (asprintf(&repo, "%s/%s", ref->registry, ref->repository) < 0)
                return -ENOMEM;
        if (strv_extend(&l, ref->name) < 0)
                return -ENOMEM;
        for (char *slash; ; *slash = 0) {
                if (strv_extend(&l, repo) < 0)
                        return -ENOMEM;
                slash = strrchr(repo, '/');
                if (!slash)
                        break;
        }
        for (dot = strchr(ref->registry, '.'); dot; dot = strchr(dot + 1, '.')) {
                _cleanup_free_ char *w = NULL;
                size_t n = strcspn(dot, ":");

                if (asprintf(&w, "*%.*s", (int) n, dot) < 0 || strv_extend(&l, w) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int policy_load(const PolicyDirs *d, json_object **ret, const char **ret_path) {
        const char *paths[] = { d->admin_policy, d->vendor_policy };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
                r = json_parse_file_at(AT_FDCWD, paths[i], POLICY_FILE_MAX, ret);
                if (r == -ENOENT)
                        continue;
                *ret_path = paths[i];
                return r;
        }
        *ret = NULL;
        *ret_path = NULL;
        return 0;
}

/* The requirements for ref, and the scope they came from. */
static int policy_requirements(json_object *policy, const ImageRef *ref, json_object **ret, char **ret_scope) {
        _cleanup_strv_free_ char **scopes = NULL;
        json_object *transports, *docker, *reqs;
        int r;

        r = docker_scopes(ref, &scopes);
        if (r < 0)
                return r;
        if (json_get_object(policy, "transports", &transports) >= 0 &&
            json_get_object(transports, "docker", &docker) >= 0) {
                STRV_FOREACH(sc, scopes)
                        if (json_get_array(docker, *sc, &reqs) >= 0) {
                                *ret = reqs;
                                return (*ret_scope = strdup(*sc)) ? 0 : -ENOMEM;
                        }
                if (json_get_array(docker, "", &reqs) >= 0) {
                        *ret = reqs;
                        return (*ret_scope = strdup("docker transport default")) ? 0 : -ENOMEM;
                }
        }
        if (json_get_array(policy, "default", &reqs) >= 0) {
                *ret = reqs;
                return (*ret_scope = strdup("default")) ? 0 : -ENOMEM;
        }
        return -EBADMSG;        /* a policy must have a default */
}

/* YAML (registries.d) as json-c: mappings → objects, sequences → arrays, scalars → strings. */
static json_object *yaml_node_to_json(yaml_document_t *doc, yaml_node_t *node, unsigned depth) {
        json_object *o;

        if (!node || depth > 16)
                return NULL;
        switch (node->type) {
        case YAML_SCALAR_NODE:
                return json_object_new_string_len((const char *) node->data.scalar.value, (int) node->data.scalar.length);
        case YAML_SEQUENCE_NODE:
                o = json_object_new_array();
                for (yaml_node_item_t *i = node->data.sequence.items.start; o && i < node->data.sequence.items.top; i++) {
                        json_object *v = yaml_node_to_json(doc, yaml_document_get_node(doc, *i), depth + 1);
                        if (v && json_object_array_add(o, v) < 0)
                                json_object_put(v);
                }
                return o;
        case YAML_MAPPING_NODE:
                o = json_object_new_object();
                for (yaml_node_pair_t *p = node->data.mapping.pairs.start; o && p < node->data.mapping.pairs.top; p++) {
                        yaml_node_t *k = yaml_document_get_node(doc, p->key);
                        json_object *v;

                        if (!k || k->type != YAML_SCALAR_NODE)
                                continue;
                        v = yaml_node_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
                        if (!v)
                                v = json_object_new_object();
                        json_object_object_add(o, (const char *) k->data.scalar.value, v);
                }
                return o;
        default:
                return NULL;
        }
}

static int yaml_file_to_json(int dir_fd, const char *name, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        yaml_parser_t parser;
        yaml_document_t doc;
        size_t size;
        int r;

        r = read_full_file_at(dir_fd, name, POLICY_FILE_MAX, &text, &size);
        if (r < 0)
                return r;
        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) text, size);
        if (!yaml_parser_load(&parser, &doc)) {
                yaml_parser_delete(&parser);
                return -EBADMSG;
        }
        *ret = yaml_node_to_json(&doc, yaml_document_get_root_node(&doc), 0);
        yaml_document_delete(&doc);
        yaml_parser_delete(&parser);
        return *ret ? 0 : -EBADMSG;
}

static const char *lookaside_of(json_object *o) {
        const char *url;

        if (json_get_string(o, "lookaside", &url) >= 0 || json_get_string(o, "sigstore", &url) >= 0)
                return url;
        return NULL;
}

/* The lookaside URL registries.d gives for ref: the most specific "docker:" scope of all files, else a
 * "default-docker:". */
static int lookaside_url(const PolicyDirs *d, const ImageRef *ref, char **ret) {
        _cleanup_strv_free_ char **scopes = NULL;
        _cleanup_free_ char *best = NULL, *fallback = NULL;
        size_t best_rank = SIZE_MAX;
        int r;

        r = docker_scopes(ref, &scopes);
        if (r < 0)
                return r;
        for (const char *const *dir = d->registries_d; dir && *dir; dir++) {
                _cleanup_(closedirp) DIR *dd = opendir(*dir);
                _cleanup_strv_free_ char **names = NULL;

                if (!dd)
                        continue;
                for (struct dirent *de; (de = readdir(dd)); )
                        if ((endswith(de->d_name, ".yaml") || endswith(de->d_name, ".yml")) && de->d_name[0] != '.' &&
                            strv_extend(&names, de->d_name) < 0)
                                return -ENOMEM;
                strv_sort(names);
                STRV_FOREACH(n, names) {
                        _cleanup_(json_object_putp) json_object *cfg = NULL;
                        json_object *docker, *def;
                        const char *url;

                        if (yaml_file_to_json(dirfd(dd), *n, &cfg) < 0) {
                                log_warning("Ignoring %s/%s: not valid YAML.", *dir, *n);
                                continue;
                        }
                        if (json_get_object(cfg, "docker", &docker) >= 0)
                                for (size_t i = 0; scopes[i] && i < best_rank; i++) {
                                        json_object *e;

                                        if (json_get_object(docker, scopes[i], &e) >= 0 && (url = lookaside_of(e))) {
                                                free(best);
                                                best = strdup(url);
                                                if (!best)
                                                        return -ENOMEM;
                                                best_rank = i;
                                                break;
                                        }
                                }
                        if (!fallback && json_get_object(cfg, "default-docker", &def) >= 0 && (url = lookaside_of(def))) {
                                fallback = strdup(url);
                                if (!fallback)
                                        return -ENOMEM;
                        }
                }
        }
        *ret = best ? TAKE_PTR(best) : TAKE_PTR(fallback);
        return *ret ? 0 : -ENOENT;
}

/* Signature N (1-based) of the manifest, from the lookaside store: -ENOENT when there is none. */
static int signature_get(HttpClient *c, const char *base, const ImageRef *ref, const char *digest, unsigned n,
                         char **ret, size_t *ret_size) {
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *url = NULL, *host = NULL;
        const char *path;
        int r;

        if (asprintf(&url, "%s%s%s@sha256=%s/signature-%u", base, endswith(base, "/") ? "" : "/", ref->repository,
                     digest_hex(digest), n) < 0)
                return -ENOMEM;
        if ((path = startswith(url, "file://"))) {
                r = read_full_file_at(AT_FDCWD, path, SIGNATURE_MAX, ret, ret_size);
                return r == -ENOTDIR ? -ENOENT : r;
        }
        if (!startswith(url, "https://") && !startswith(url, "http://"))
                return -EPROTONOSUPPORT;
        r = http_url_host(url, &host);
        if (r < 0)
                return r;
        r = http_get(c, url, host, NULL, NULL, false, SIGNATURE_MAX, &resp);
        if (r < 0)
                return r;
        if (resp.status == 404)
                return -ENOENT;
        if (resp.status != 200)
                return -EPROTO;
        *ret = TAKE_PTR(resp.body);
        *ret_size = resp.size;
        return 0;
}

/* Whether the signature's claimed identity fits ref, as signedIdentity says. */
static bool identity_matches(json_object *req, const ImageRef *ref, const char *claimed) {
        _cleanup_free_ char *repo = NULL, *claimed_repo = NULL;
        json_object *si;
        const char *type = "matchRepoDigestOrExact", *at, *colon, *slash;

        if (json_get_object(req, "signedIdentity", &si) >= 0)
                (void) json_get_string(si, "type", &type);
        if (asprintf(&repo, "%s/%s", ref->registry, ref->repository) < 0)
                return false;
        /* The repository part of the claim: up to '@', or to a ':' after the last '/'. */
        at = strchr(claimed, '@');
        slash = strrchr(claimed, '/');
        colon = strrchr(claimed, ':');
        claimed_repo = at ? strndup(claimed, (size_t) (at - claimed)) :
                       colon && slash && colon > slash ? strndup(claimed, (size_t) (colon - claimed)) : strdup(claimed);
        if (!claimed_repo)
                return false;
        if (streq(type, "matchExact"))
                return streq(claimed, ref->name);
        if (streq(type, "matchRepository"))
                return streq(claimed_repo, repo);
        if (streq(type, "matchRepoDigestOrExact"))
                return ref->digest && !ref->tag ? streq(claimed_repo, repo) : streq(claimed, ref->name);
        return false;           /* exactReference, remapIdentity…: not understood, so not accepted */
}

static int load_keys(GpgKeyring *k, json_object *req, char **reterr_detail) {
        _cleanup_strv_free_ char **paths = NULL;
        const char *path, *data, *key_type;
        int r, n = 0;

        if (json_get_string(req, "keyType", &key_type) < 0 || !streq(key_type, "GPGKeys"))
                return detail_printf(reterr_detail, -EOPNOTSUPP, "its signedBy requirement has keyType other than "
                                     "GPGKeys");
        if (json_get_string(req, "keyPath", &path) >= 0 && strv_extend(&paths, path) < 0)
                return -ENOMEM;
        if (json_get_strv(req, "keyPaths", &paths) < 0 && !paths && json_object_object_get_ex(req, "keyPaths", NULL))
                return -EBADMSG;
        STRV_FOREACH(p, paths) {
                _cleanup_free_ char *key = NULL;
                size_t size;

                r = read_full_file_at(AT_FDCWD, *p, POLICY_FILE_MAX, &key, &size);
                if (r < 0)
                        return detail_printf(reterr_detail, r, "cannot read the signedBy key %s", *p);
                if (gpg_keyring_import(k, key, size, NULL) < 0)
                        return detail_printf(reterr_detail, -EBADMSG, "the signedBy key %s is no OpenPGP key", *p);
                n++;
        }
        if (json_get_string(req, "keyData", &data) >= 0) {
                _cleanup_free_ unsigned char *raw = NULL;
                size_t len = strlen(data);
                int m;

                raw = malloc(len / 4 * 3 + 4);
                if (!raw)
                        return -ENOMEM;
                m = EVP_DecodeBlock(raw, (const unsigned char *) data, (int) len);
                if (m < 0 || gpg_keyring_import(k, raw, (size_t) m, NULL) < 0)
                        return detail_printf(reterr_detail, -EBADMSG, "its signedBy keyData is no OpenPGP key");
                n++;
        }
        if (n == 0)
                return detail_printf(reterr_detail, -EBADMSG, "its signedBy requirement names no key");
        return 0;
}

/* A signedBy requirement: some signature in the lookaside store, by one of its keys, for this manifest and
 * an identity it accepts. */
static int check_signed_by(const PolicyDirs *d, json_object *req, const ImageRef *ref, const char *digest,
                           char **ret_signer, char **reterr_detail) {
        _cleanup_(http_client_freep) HttpClient *lc = NULL;
        _cleanup_(gpg_keyring_freep) GpgKeyring *k = NULL;
        _cleanup_free_ char *base = NULL, *why = NULL;
        int r;

        r = lookaside_url(d, ref, &base);
        if (r == -ENOENT)
                return detail_printf(reterr_detail, -EPERM, "the policy wants it signed, but no registries.d file "
                                     "says where %s/%s's signatures are (a lookaside)", ref->registry, ref->repository);
        if (r < 0)
                return r;
        r = gpg_keyring_new(&k);
        if (r < 0)
                return r;
        r = load_keys(k, req, reterr_detail);
        if (r < 0)
                return r;
        /* Signatures carry their own proof: a lookaside may be plain HTTP. */
        r = http_client_new(FETCH_INSECURE_HTTP, &lc);
        if (r < 0)
                return r;
        for (unsigned n = 1; n <= SIGNATURES_MAX; n++) {
                _cleanup_(json_object_putp) json_object *payload = NULL;
                _cleanup_free_ char *sig = NULL, *plain = NULL;
                json_object *critical, *image, *identity;
                const char *type, *claimed_digest, *claimed_ref;
                GpgSignature s;
                size_t size, plain_size;

                r = signature_get(lc, base, ref, digest, n, &sig, &size);
                if (r == -ENOENT)
                        break;
                if (r < 0)
                        return detail_printf(reterr_detail, -EPERM, "cannot read signature %u of %s from %s: %s", n,
                                             ref->name, base, strerror(-r));
                r = gpg_verify_opaque(k, sig, size, &s, &plain, &plain_size);
                if (r < 0 || s.status != 0) {
                        free(why);
                        if (asprintf(&why, "signature %u is %s%s", n,
                                     r < 0 || s.status == -EBADMSG ? "invalid" :
                                     s.status == -ENOKEY ? "by key " : s.status == -EKEYEXPIRED ? "by an expired key " :
                                     "by a revoked key ", r < 0 || s.status == -EBADMSG ? "" : s.fingerprint) < 0)
                                why = NULL;
                        continue;
                }
                if (json_parse_strict(plain, plain_size, &payload) < 0 ||
                    json_get_object(payload, "critical", &critical) < 0 ||
                    json_get_string(critical, "type", &type) < 0 || !streq(type, "atomic container signature") ||
                    json_get_object(critical, "image", &image) < 0 ||
                    json_get_string(image, "docker-manifest-digest", &claimed_digest) < 0 ||
                    json_get_object(critical, "identity", &identity) < 0 ||
                    json_get_string(identity, "docker-reference", &claimed_ref) < 0) {
                        free(why);
                        if (asprintf(&why, "signature %u is not a container signature", n) < 0)
                                why = NULL;
                        continue;
                }
                if (!streq(claimed_digest, digest)) {
                        free(why);
                        if (asprintf(&why, "signature %u is for another manifest (%s)", n, claimed_digest) < 0)
                                why = NULL;
                        continue;
                }
                if (!identity_matches(req, ref, claimed_ref)) {
                        free(why);
                        if (asprintf(&why, "signature %u is for '%s'", n, claimed_ref) < 0)
                                why = NULL;
                        continue;
                }
                if (ret_signer) {
                        *ret_signer = strdup(s.fingerprint);
                        if (!*ret_signer)
                                return -ENOMEM;
                }
                return 0;
        }
        return detail_printf(reterr_detail, -EPERM, "no signature of it by a key its signedBy requirement names (%s)",
                             why ?: "none in the lookaside store");
}

int policy_check_docker(const PolicyDirs *d, const ImageRef *ref, const char *manifest_digest, char **ret_signer,
                        char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *policy = NULL;
        _cleanup_free_ char *scope = NULL, *signer = NULL;
        json_object *reqs;
        const char *path;
        size_t n;
        int r;

        r = policy_load(d, &policy, &path);
        if (r < 0)
                return detail_printf(reterr_detail, -EPERM, "its signature policy %s is not valid JSON", path);
        if (!policy)
                return detail_printf(reterr_detail, -EPERM, "there is no signature policy (%s or %s) to accept it; "
                                     "--insecure-options=image pulls it unverified", d->admin_policy, d->vendor_policy);
        r = policy_requirements(policy, ref, &reqs, &scope);
        if (r == -EBADMSG)
                return detail_printf(reterr_detail, -EPERM, "the signature policy %s has no \"default\"", path);
        if (r < 0)
                return r;
        n = json_object_array_length(reqs);
        if (n == 0)
                return detail_printf(reterr_detail, -EPERM, "the signature policy %s has no requirement for scope "
                                     "'%s'", path, scope);
        for (size_t i = 0; i < n; i++) {
                json_object *req = json_object_array_get_idx(reqs, i);
                _cleanup_free_ char *why = NULL;
                const char *type;

                if (json_get_string(req, "type", &type) < 0)
                        return detail_printf(reterr_detail, -EPERM, "the signature policy %s has a requirement "
                                             "without a type (scope '%s')", path, scope);
                if (streq(type, "insecureAcceptAnything"))
                        continue;
                if (streq(type, "reject"))
                        return detail_printf(reterr_detail, -EPERM, "the signature policy %s rejects it (scope '%s'); "
                                             "add a signedBy requirement for it to %s, or pass "
                                             "--insecure-options=image", path, scope, d->admin_policy);
                if (streq(type, "signedBy")) {
                        free(signer);
                        signer = NULL;
                        r = check_signed_by(d, req, ref, manifest_digest, &signer, &why);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return detail_printf(reterr_detail, -EPERM, "the signature policy %s (scope '%s') "
                                                     "refuses it: %s", path, scope, strna(why));
                        continue;
                }
                return detail_printf(reterr_detail, -EPERM, "the signature policy %s (scope '%s') has a requirement "
                                     "of type '%s', which rocket does not check", path, scope, type);
        }
        if (ret_signer)
                *ret_signer = TAKE_PTR(signer);
        return 0;
}

int policy_check_local(const PolicyDirs *d, const char *transport, const char *path, char **reterr_detail) {
        _cleanup_(json_object_putp) json_object *policy = NULL;
        _cleanup_free_ char *abs = NULL;
        json_object *transports, *t, *reqs = NULL;
        const char *file, *scope = NULL;
        size_t n;
        int r;

        r = policy_load(d, &policy, &file);
        if (r < 0)
                return detail_printf(reterr_detail, -EPERM, "its signature policy %s is not valid JSON", file);
        /* Local files are taken as given unless the policy names their transport (its "default" is for pulls). */
        if (!policy || json_get_object(policy, "transports", &transports) < 0 ||
            json_get_object(transports, transport, &t) < 0)
                return 0;
        abs = realpath(path, NULL);
        if (!abs)
                return -errno;
        /* The path, then each directory above it, then the transport's "". */
        for (char *p = abs; ; ) {
                if (json_get_array(t, p, &reqs) >= 0) {
                        scope = p;
                        break;
                }
                char *slash = strrchr(p, '/');
                if (!slash || slash == p)
                        break;
                *slash = 0;
        }
        if (!reqs && json_get_array(t, "/", &reqs) >= 0)
                scope = "/";
        if (!reqs && json_get_array(t, "", &reqs) >= 0)
                scope = "";
        if (!reqs)
                return 0;
        n = json_object_array_length(reqs);
        for (size_t i = 0; i < n; i++) {
                const char *type;

                if (json_get_string(json_object_array_get_idx(reqs, i), "type", &type) < 0)
                        return detail_printf(reterr_detail, -EPERM, "the signature policy %s has a requirement "
                                             "without a type (%s scope '%s')", file, transport, scope);
                if (streq(type, "insecureAcceptAnything"))
                        continue;
                if (streq(type, "reject"))
                        return detail_printf(reterr_detail, -EPERM, "the signature policy %s rejects it (%s scope '%s'); "
                                             "--insecure-options=image imports it anyway", file, transport, scope);
                return detail_printf(reterr_detail, -EPERM, "the signature policy %s wants '%s' for %s images (scope "
                                     "'%s'); rocket checks signatures of docker:// pulls and ACIs only", file, type,
                                     transport, scope);
        }
        return 0;
}
