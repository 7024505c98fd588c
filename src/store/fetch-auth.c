/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>

#include "fetch-auth.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "string-util.h"

#define AUTH_FILE_MAX (1U << 20)

void credentials_done(Credentials *c) {
        free(c->user);
        erase_and_free(c->password);
        free(c->source);
        *c = (Credentials) {};
}

void auth_challenge_done(AuthChallenge *c) {
        free(c->scheme);
        free(c->realm);
        free(c->service);
        free(c->scope);
        *c = (AuthChallenge) {};
}

/* Whether an auths key ("host:5000", "https://host:5000/v1/", "index.docker.io/v1/") names registry. */
static bool auths_key_matches(const char *key, const char *registry) {
        const char *k = startswith(key, "https://") ?: startswith(key, "http://") ?: key;
        size_t n = strcspn(k, "/");

        if (strlen(registry) == n && strneq(k, registry, n))
                return true;
        if (streq(registry, "docker.io"))
                return (n == strlen("index.docker.io") && strneq(k, "index.docker.io", n)) ||
                       (n == strlen("registry-1.docker.io") && strneq(k, "registry-1.docker.io", n));
        return false;
}

static int decode_auth(const char *b64, Credentials *ret) {
        size_t len = strlen(b64);
        _cleanup_free_ unsigned char *out = NULL;
        char *colon;
        int n;

        if (len == 0 || len % 4 != 0 || len > 8192)
                return -EBADMSG;
        out = malloc(len / 4 * 3 + 1);
        if (!out)
                return -ENOMEM;
        n = EVP_DecodeBlock(out, (const unsigned char *) b64, (int) len);
        if (n < 0)
                return -EBADMSG;
        /* EVP_DecodeBlock counts the padding as zero bytes. */
        while (n > 0 && len > 0 && b64[len - 1] == '=') {
                n--;
                len--;
        }
        out[n] = 0;
        if (strlen((char *) out) != (size_t) n)
                return -EBADMSG;
        colon = strchr((char *) out, ':');
        if (!colon)
                return -EBADMSG;
        ret->user = strndup((char *) out, (size_t) (colon - (char *) out));
        ret->password = strdup(colon + 1);
        explicit_bzero(out, (size_t) n);
        return ret->user && ret->password ? 0 : -ENOMEM;
}

static int find_in_auths_file(const char *path, const char *registry, Credentials *ret) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        json_object *auths;
        int r;

        r = json_parse_file_at(AT_FDCWD, path, AUTH_FILE_MAX, &root);
        if (r == -ENOENT || r == -ENOTDIR)
                return 0;
        if (r == -EBADMSG)
                return log_warning("Ignoring credentials file %s: not valid JSON.", path), 0;
        if (r < 0)
                return log_warning_errno(r, "Ignoring credentials file %s: %m", path), 0;
        if (json_get_object(root, "auths", &auths) < 0)
                return 0;
        json_object_object_foreach(auths, key, entry) {
                const char *b64;

                if (!auths_key_matches(key, registry))
                        continue;
                if (json_get_string(entry, "auth", &b64) < 0)
                        continue;
                r = decode_auth(b64, ret);
                if (r < 0) {
                        credentials_done(ret);
                        log_warning("Ignoring the credentials for '%s' in %s: not base64 of USER:PASSWORD.", key, path);
                        continue;
                }
                ret->source = strdup(path);
                return ret->source ? 1 : -ENOMEM;
        }
        return 0;
}

static int find_in_rkt_file(int dir_fd, const char *name, const char *registry, Credentials *ret) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_strv_free_ char **registries = NULL;
        json_object *creds;
        const char *kind, *user, *password;
        int r;

        r = json_parse_file_at(dir_fd, name, AUTH_FILE_MAX, &root);
        if (r < 0)
                return log_warning_errno(r, "Ignoring credentials file %s/%s: %m", FETCH_AUTH_DIR, name), 0;
        if (json_get_string(root, "rktKind", &kind) < 0 || !streq(kind, "dockerAuth"))
                return 0;
        if (json_get_strv(root, "registries", &registries) < 0 || json_get_object(root, "credentials", &creds) < 0 ||
            json_get_string(creds, "user", &user) < 0 || json_get_string(creds, "password", &password) < 0)
                return log_warning("Ignoring credentials file %s/%s: not a dockerAuth configuration.",
                                   FETCH_AUTH_DIR, name), 0;
        STRV_FOREACH(reg, registries) {
                if (!auths_key_matches(*reg, registry))
                        continue;
                ret->user = strdup(user);
                ret->password = strdup(password);
                if (asprintf(&ret->source, "%s/%s", FETCH_AUTH_DIR, name) < 0)
                        ret->source = NULL;
                return ret->user && ret->password && ret->source ? 1 : -ENOMEM;
        }
        return 0;
}

int credentials_find(const char *registry, Credentials *ret) {
        _cleanup_free_ char *xdg = NULL, *docker = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        const char *e, *home;
        int r;

        *ret = (Credentials) {};
        if ((e = getenv("REGISTRY_AUTH_FILE"))) {
                r = find_in_auths_file(e, registry, ret);
                if (r != 0)
                        return r;
        }
        if ((e = getenv("XDG_RUNTIME_DIR")) && asprintf(&xdg, "%s/containers/auth.json", e) >= 0) {
                r = find_in_auths_file(xdg, registry, ret);
                if (r != 0)
                        return r;
        }
        r = find_in_auths_file(FETCH_AUTH_FILE, registry, ret);
        if (r != 0)
                return r;
        home = getenv("HOME");
        if (!home) {
                struct passwd *pw = getpwuid(getuid());
                home = pw ? pw->pw_dir : NULL;
        }
        if (home && asprintf(&docker, "%s/.docker/config.json", home) >= 0) {
                r = find_in_auths_file(docker, registry, ret);
                if (r != 0)
                        return r;
        }

        /* rkt's auth.d, in name order. */
        d = opendir(FETCH_AUTH_DIR);
        if (!d)
                return 0;
        r = readdir_names_sorted(d, ".json", &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                r = find_in_rkt_file(dirfd(d), *n, registry, ret);
                if (r != 0)
                        return r;
        }
        return 0;
}

int credentials_rkt_to_json(json_object *array) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_(closedirp) DIR *d = opendir(FETCH_AUTH_DIR);
        int r;

        if (!d)
                return 0;
        r = readdir_names_sorted(d, ".json", &names);
        if (r < 0)
                return r;
        STRV_FOREACH(n, names) {
                _cleanup_(json_object_putp) json_object *root = NULL, *entry = NULL;
                json_object *registries, *creds, *user;
                const char *kind;

                if (json_parse_file_at(dirfd(d), *n, AUTH_FILE_MAX, &root) < 0 ||
                    json_get_string(root, "rktKind", &kind) < 0 || !streq(kind, "dockerAuth") ||
                    json_get_array(root, "registries", &registries) < 0 || json_get_object(root, "credentials", &creds) < 0 ||
                    !json_object_object_get_ex(creds, "user", &user))
                        continue;
                entry = json_object_new_object();
                if (!entry || json_add_string(entry, "rktKind", "dockerAuth") < 0 ||
                    json_add_string(entry, "rktVersion", "v1") < 0 ||
                    json_add(entry, "registries", json_object_get(registries)) < 0 ||
                    json_add(entry, "credentials", json_object_new_object()) < 0 ||
                    json_add(json_object_object_get(entry, "credentials"), "user", json_object_get(user)) < 0 ||
                    json_object_array_add(array, entry) < 0)
                        return -ENOMEM;
                TAKE_PTR(entry);
        }
        return 0;
}

int credentials_default_file(char **ret) {
        const char *e = getenv("REGISTRY_AUTH_FILE");

        if (e)
                *ret = strdup(e);
        else if (geteuid() == 0)
                *ret = strdup(FETCH_AUTH_FILE);
        else if ((e = getenv("XDG_RUNTIME_DIR"))) {
                if (asprintf(ret, "%s/containers/auth.json", e) < 0)
                        *ret = NULL;
        } else
                return -ENXIO;
        return *ret ? 0 : -ENOMEM;
}

int credentials_file_update(const char *path, const char *registry, const char *user, const char *password) {
        _cleanup_(json_object_putp) json_object *root = NULL;
        _cleanup_free_ char *dir = NULL, *plain = NULL;
        _cleanup_free_ unsigned char *b64 = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        json_object *auths;
        const char *slash;
        bool found = false;
        int r;

        slash = strrchr(path, '/');
        if (slash && slash[1] == 0)
                return -EINVAL;
        /* "auth.json": the current directory. */
        dir = slash ? strndup(path, (size_t) (slash - path) ?: 1) : strdup(".");
        if (!dir)
                return -ENOMEM;
        slash = slash ?: path - 1;
        if (user) {
                r = mkdir_p_at(AT_FDCWD, dir, 0700);
                if (r < 0)
                        return r;
        }
        dir_fd = open(dir, O_RDONLY|O_DIRECTORY|O_CLOEXEC);
        if (dir_fd < 0)
                return errno == ENOENT && !user ? -ENOENT : -errno;

        r = json_parse_file_at(dir_fd, slash + 1, AUTH_FILE_MAX, &root);
        if (r == -ENOENT) {
                if (!user)
                        return -ENOENT;
                root = json_object_new_object();
                if (!root)
                        return -ENOMEM;
        } else if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return -EBADMSG;
        r = json_get_object(root, "auths", &auths);
        if (r == -ENOENT) {
                auths = json_object_new_object();
                if (!auths || json_add(root, "auths", auths) < 0)
                        return -ENOMEM;
        } else if (r < 0)
                return r;

        /* Every spelling of the registry goes: one entry per registry. */
        for (bool again = true; again; ) {
                again = false;
                json_object_object_foreach(auths, key, v) {
                        (void) v;
                        if (auths_key_matches(key, registry)) {
                                json_object_object_del(auths, key);
                                found = again = true;
                                break;
                        }
                }
        }
        if (user) {
                _cleanup_(json_object_putp) json_object *entry = json_object_new_object();
                size_t len;

                if (!entry || asprintf(&plain, "%s:%s", user, strempty(password)) < 0)
                        return -ENOMEM;
                len = strlen(plain);
                b64 = malloc((len + 2) / 3 * 4 + 1);
                if (!b64)
                        return -ENOMEM;
                EVP_EncodeBlock(b64, (unsigned char *) plain, (int) len);
                explicit_bzero(plain, len);
                r = json_add_string(entry, "auth", (char *) b64);
                explicit_bzero(b64, strlen((char *) b64));
                if (r < 0)
                        return r;
                r = json_add(auths, registry, TAKE_PTR(entry));
                if (r < 0)
                        return r;
        } else if (!found)
                return -ENOENT;

        return json_write_file_atomic_at(dir_fd, slash + 1, root, JSON_C_TO_STRING_PRETTY, 0600);
}

/* auth-param = token "=" ( token / quoted-string ), comma-separated, after the scheme. */
int auth_challenge_parse(const char *header, AuthChallenge *ret) {
        _cleanup_(auth_challenge_done) AuthChallenge c = {};
        const char *p = header;
        size_t n;

        if (isempty(header))
                return -EBADMSG;
        n = strcspn(p, " ");
        c.scheme = strndup(p, n);
        if (!c.scheme)
                return -ENOMEM;
        p += n;
        for (;;) {
                _cleanup_free_ char *key = NULL, *value = NULL;
                char **slot = NULL;

                p += strspn(p, " \t,");
                if (*p == 0)
                        break;
                n = strcspn(p, "= \t,");
                if (p[n] != '=')
                        return -EBADMSG;
                key = strndup(p, n);
                if (!key)
                        return -ENOMEM;
                p += n + 1;
                if (*p == '"') {
                        const char *q = ++p;
                        size_t m = 0;

                        value = malloc(strlen(q) + 1);
                        if (!value)
                                return -ENOMEM;
                        for (; *q && *q != '"'; q++) {
                                if (*q == '\\' && q[1])
                                        q++;
                                value[m++] = *q;
                        }
                        if (*q != '"')
                                return -EBADMSG;
                        value[m] = 0;
                        p = q + 1;
                } else {
                        n = strcspn(p, " \t,");
                        value = strndup(p, n);
                        if (!value)
                                return -ENOMEM;
                        p += n;
                }
                if (strcasecmp(key, "realm") == 0)
                        slot = &c.realm;
                else if (strcasecmp(key, "service") == 0)
                        slot = &c.service;
                else if (strcasecmp(key, "scope") == 0)
                        slot = &c.scope;
                if (slot)
                        free_and_replace(*slot, value);
        }
        *ret = c;
        c = (AuthChallenge) {};
        return 0;
}
