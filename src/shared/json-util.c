/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "fs-util.h"
#include "json-util.h"
#include "string-util.h"

DEFINE_POINTER_CLEANUP(json_tokener, json_tokener_free);

int json_parse_strict(const char *text, size_t size, json_object **ret) {
        _cleanup_(json_tokener_freep) json_tokener *tok = NULL;
        json_object *o;

        if (size > INT32_MAX)
                return -EFBIG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT|JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, text, (int) size);
        if (!o || json_tokener_get_error(tok) != json_tokener_success) {
                json_object_put(o);
                return -EBADMSG;
        }
        /* Nothing but whitespace may follow the value. */
        for (size_t i = json_tokener_get_parse_end(tok); i < size; i++)
                if (!strchr(" \t\r\n", text[i])) {
                        json_object_put(o);
                        return -EBADMSG;
                }
        *ret = o;
        return 0;
}

int json_parse_fd(int fd, size_t max, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_fd(fd, max, &text, &size);
        if (r < 0)
                return r;
        return json_parse_strict(text, size, ret);
}

int json_parse_file_at(int dir_fd, const char *path, size_t max, json_object **ret) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_full_file_at(dir_fd, path, max, &text, &size);
        if (r < 0)
                return r;
        return json_parse_strict(text, size, ret);
}

static int json_get_typed(json_object *o, const char *key, json_type type, json_object **ret) {
        json_object *v;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
                return -ENOENT;
        if (!json_object_is_type(v, type))
                return -EBADMSG;
        *ret = v;
        return 0;
}

int json_get_string(json_object *o, const char *key, const char **ret) {
        json_object *v;
        int r;

        r = json_get_typed(o, key, json_type_string, &v);
        if (r < 0)
                return r;
        /* Embedded NULs would make C strings lie about their content. */
        if (strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 0;
}

int json_get_object(json_object *o, const char *key, json_object **ret) {
        return json_get_typed(o, key, json_type_object, ret);
}

int json_get_array(json_object *o, const char *key, json_object **ret) {
        return json_get_typed(o, key, json_type_array, ret);
}

int json_get_int64(json_object *o, const char *key, int64_t *ret) {
        json_object *v;
        int r;

        r = json_get_typed(o, key, json_type_int, &v);
        if (r < 0)
                return r;
        *ret = json_object_get_int64(v);
        return 0;
}

int json_get_bool(json_object *o, const char *key, bool *ret) {
        json_object *v;
        int r;

        r = json_get_typed(o, key, json_type_boolean, &v);
        if (r < 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 0;
}

int json_get_strv(json_object *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *a;
        size_t n;
        int r;

        r = json_get_array(o, key, &a);
        if (r < 0)
                return r;
        n = json_object_array_length(a);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(a, i);
                if (!json_object_is_type(e, json_type_string))
                        return -EBADMSG;
                l[i] = strdup(json_object_get_string(e));
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int json_add(json_object *o, const char *key, json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

int json_add_string(json_object *o, const char *key, const char *value) {
        return json_add(o, key, json_object_new_string(value));
}

int json_add_int64(json_object *o, const char *key, int64_t value) {
        return json_add(o, key, json_object_new_int64(value));
}

int json_write_file_atomic_at(int dir_fd, const char *name, json_object *o, int flags, mode_t mode) {
        size_t len;
        const char *s = json_object_to_json_string_length(o, flags, &len);
        _cleanup_free_ char *text = NULL;

        if (!s)
                return -ENOMEM;
        text = malloc(len + 2);
        if (!text)
                return -ENOMEM;
        memcpy(text, s, len);
        text[len] = '\n';
        return write_file_atomic_at(dir_fd, name, text, len + 1, mode);
}

json_object *strv_to_json(char *const *l) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        STRV_FOREACH(s, (char **) l)
                if (json_object_array_add(a, json_object_new_string(*s)) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}
