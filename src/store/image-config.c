/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "image-config.h"
#include "string-util.h"

ImageConfig *image_config_free(ImageConfig *c) {
        if (!c)
                return NULL;
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        free(c->group);
        strv_free(c->ports);
        strv_free(c->volumes);
        strv_free(c->labels);
        strv_free(c->annotations);
        strv_free(c->isolators);
        strv_free(c->dependencies);
        strv_free(c->pre_start);
        strv_free(c->post_stop);
        free(c->architecture);
        free(c->os);
        free(c);
        return NULL;
}

static int get_strv_opt(json_object *o, const char *key, char ***ret) {
        int r = json_get_strv(o, key, ret);
        return r == -ENOENT ? 0 : r;
}

static int get_string_opt(json_object *o, const char *key, char **ret) {
        const char *s;
        int r;

        r = json_get_string(o, key, &s);
        if (r == -ENOENT || (r >= 0 && isempty(s)))
                return 0;
        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* {"K": "V", …} → "K=V"; {"K": {}, …} → "K" (via fmt). */
static int object_keys(json_object *o, const char *key, bool with_values, char ***ret) {
        json_object *m;
        int r;

        r = json_get_object(o, key, &m);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        json_object_object_foreach(m, k, v) {
                _cleanup_free_ char *s = NULL;

                if (with_values) {
                        if (!json_object_is_type(v, json_type_string))
                                return -EBADMSG;
                        if (asprintf(&s, "%s=%s", k, json_object_get_string(v)) < 0)
                                return -ENOMEM;
                } else if (!(s = strdup(k)))
                        return -ENOMEM;
                r = strv_push(ret, s);
                if (r < 0)
                        return r;
                TAKE_PTR(s);
        }
        return 0;
}

/* ACI arrays of {"name": …, "value": …} → "name=value" (value as JSON text unless a string). */
static int name_value_list(json_object *o, const char *key, char ***ret) {
        json_object *a;
        int r;

        r = json_get_array(o, key, &a);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *e = json_object_array_get_idx(a, i), *v;
                _cleanup_free_ char *s = NULL;
                const char *n;

                if (json_get_string(e, "name", &n) < 0 || !json_object_object_get_ex(e, "value", &v))
                        return -EBADMSG;
                if (asprintf(&s, "%s=%s", n, json_object_is_type(v, json_type_string) ?
                             json_object_get_string(v) :
                             json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)) < 0)
                        return -ENOMEM;
                r = strv_push(ret, s);
                if (r < 0)
                        return r;
                TAKE_PTR(s);
        }
        return 0;
}

/* appc's eventHandlers: at most one "pre-start" and one "post-stop", each a non-empty command. */
static int parse_event_handlers(json_object *app, ImageConfig *c) {
        json_object *a;

        if (json_get_array(app, "eventHandlers", &a) < 0)
                return 0;
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                json_object *h = json_object_array_get_idx(a, i);
                const char *name;
                char ***slot;
                int r;

                if (json_get_string(h, "name", &name) < 0)
                        return -EBADMSG;
                if (streq(name, "pre-start"))
                        slot = &c->pre_start;
                else if (streq(name, "post-stop"))
                        slot = &c->post_stop;
                else
                        return -EBADMSG;
                if (*slot)
                        return -EBADMSG;
                r = json_get_strv(h, "exec", slot);
                if (r < 0)
                        return r == -ENOENT ? -EBADMSG : r;
                if (!(*slot)[0] || isempty((*slot)[0]))
                        return -EBADMSG;
        }
        return 0;
}

static int parse_aci(json_object *aci, ImageConfig *c) {
        json_object *app, *a;
        int r;

        r = name_value_list(aci, "annotations", &c->annotations);
        if (r < 0)
                return r;
        if (json_get_array(aci, "dependencies", &a) >= 0)
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        const char *n;

                        if (json_get_string(json_object_array_get_idx(a, i), "imageName", &n) < 0)
                                return -EBADMSG;
                        r = strv_extend(&c->dependencies, n);
                        if (r < 0)
                                return r;
                }
        if (json_get_object(aci, "app", &app) < 0)
                return 0;
        r = get_string_opt(app, "group", &c->group);
        if (r < 0)
                return r;
        r = name_value_list(app, "isolators", &c->isolators);
        if (r < 0)
                return r;
        r = parse_event_handlers(app, c);
        if (r < 0)
                return r;

        /* ACI ports and mount points have names of their own; they replace what the OCI config has. */
        if (json_get_array(app, "ports", &a) >= 0) {
                c->ports = strv_free(c->ports);
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *p = json_object_array_get_idx(a, i);
                        _cleanup_free_ char *s = NULL;
                        const char *n, *proto;
                        int64_t port;

                        if (json_get_string(p, "name", &n) < 0 || json_get_string(p, "protocol", &proto) < 0 ||
                            json_get_int64(p, "port", &port) < 0)
                                return -EBADMSG;
                        if (asprintf(&s, "%s=%" PRIi64 "/%s", n, port, proto) < 0)
                                return -ENOMEM;
                        r = strv_push(&c->ports, s);
                        if (r < 0)
                                return r;
                        TAKE_PTR(s);
                }
        }
        if (json_get_array(app, "mountPoints", &a) >= 0) {
                c->volumes = strv_free(c->volumes);
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *p = json_object_array_get_idx(a, i);
                        _cleanup_free_ char *s = NULL;
                        const char *n, *path;
                        bool ro = false;

                        if (json_get_string(p, "name", &n) < 0 || json_get_string(p, "path", &path) < 0)
                                return -EBADMSG;
                        (void) json_get_bool(p, "readOnly", &ro);
                        if (asprintf(&s, "%s:%s%s", n, path, ro ? ":ro" : "") < 0)
                                return -ENOMEM;
                        r = strv_push(&c->volumes, s);
                        if (r < 0)
                                return r;
                        TAKE_PTR(s);
                }
        }
        return 0;
}

int image_config_parse(json_object *oci, json_object *aci, ImageConfig **ret) {
        _cleanup_(image_config_freep) ImageConfig *c = calloc(1, sizeof(ImageConfig));
        _cleanup_strv_free_ char **exposed = NULL;
        json_object *cfg;
        int r;

        if (!c)
                return -ENOMEM;
        if (!json_object_is_type(oci, json_type_object))
                return -EBADMSG;
        r = get_string_opt(oci, "architecture", &c->architecture);
        if (r < 0)
                return r;
        r = get_string_opt(oci, "os", &c->os);
        if (r < 0)
                return r;

        r = json_get_object(oci, "config", &cfg);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0) {
                if ((r = get_strv_opt(cfg, "Entrypoint", &c->entrypoint)) < 0 ||
                    (r = get_strv_opt(cfg, "Cmd", &c->cmd)) < 0 ||
                    (r = get_strv_opt(cfg, "Env", &c->env)) < 0 ||
                    (r = get_string_opt(cfg, "WorkingDir", &c->working_dir)) < 0 ||
                    (r = get_string_opt(cfg, "User", &c->user)) < 0 ||
                    (r = object_keys(cfg, "ExposedPorts", false, &exposed)) < 0 ||
                    (r = object_keys(cfg, "Volumes", false, &c->volumes)) < 0 ||
                    (r = object_keys(cfg, "Labels", true, &c->labels)) < 0)
                        return r;
        }

        /* "user:group" splits; the group part is what ACI calls "group". */
        if (c->user) {
                char *colon = strchr(c->user, ':');
                if (colon) {
                        c->group = strdup(colon + 1);
                        if (!c->group)
                                return -ENOMEM;
                        *colon = 0;
                }
        }

        /* "80/tcp" → "80-tcp", "53" → "53-tcp" (OCI's default protocol). */
        STRV_FOREACH(p, exposed) {
                _cleanup_free_ char *n = NULL;
                char *slash = strchr(*p, '/');
                unsigned long port;
                char *end;

                port = strtoul(*p, &end, 10);
                if (end == *p || port < 1 || port > 65535 || (*end && end != slash))
                        return -EBADMSG;
                if (asprintf(&n, "%lu-%s", port, slash ? slash + 1 : "tcp") < 0)
                        return -ENOMEM;
                r = strv_push(&c->ports, n);
                if (r < 0)
                        return r;
                TAKE_PTR(n);
        }

        if (aci) {
                r = parse_aci(aci, c);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int image_config_load(Store *s, const ImageRecord *rec, ImageConfig **ret) {
        _cleanup_(json_object_putp) json_object *oci = NULL, *aci = NULL;
        _cleanup_close_ int fd = -EBADF, afd = -EBADF;
        int r;

        r = store_blob_open(s, rec->config, &fd);
        if (r < 0)
                return r;
        r = json_parse_fd(fd, STORE_JSON_SIZE_MAX, &oci);
        if (r < 0)
                return r;
        if (rec->aci_manifest) {
                r = store_blob_open(s, rec->aci_manifest, &afd);
                if (r < 0)
                        return r;
                r = json_parse_fd(afd, STORE_JSON_SIZE_MAX, &aci);
                if (r < 0)
                        return r;
        }
        return image_config_parse(oci, aci, ret);
}

static int add_strv(json_object *o, const char *key, char **l) {
        json_object *a;

        if (!l)
                return 0;
        a = json_object_new_array();
        if (json_add(o, key, a) < 0)
                return -ENOMEM;
        STRV_FOREACH(s, l)
                if (json_object_array_add(a, json_object_new_string(*s)) < 0)
                        return -ENOMEM;
        return 0;
}

int image_config_to_json(const ImageConfig *c, json_object **ret) {
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();

        if (!o)
                return -ENOMEM;
        if (add_strv(o, "entrypoint", c->entrypoint) < 0 || add_strv(o, "cmd", c->cmd) < 0 ||
            add_strv(o, "env", c->env) < 0 ||
            (c->working_dir && json_add_string(o, "workingDir", c->working_dir) < 0) ||
            (c->user && json_add_string(o, "user", c->user) < 0) ||
            (c->group && json_add_string(o, "group", c->group) < 0) ||
            add_strv(o, "ports", c->ports) < 0 || add_strv(o, "volumes", c->volumes) < 0 ||
            add_strv(o, "labels", c->labels) < 0 || add_strv(o, "annotations", c->annotations) < 0 ||
            add_strv(o, "isolators", c->isolators) < 0 || add_strv(o, "dependencies", c->dependencies) < 0 ||
            add_strv(o, "preStart", c->pre_start) < 0 || add_strv(o, "postStop", c->post_stop) < 0 ||
            (c->architecture && json_add_string(o, "architecture", c->architecture) < 0) ||
            (c->os && json_add_string(o, "os", c->os) < 0))
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}
