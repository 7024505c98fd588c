/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

#include "macro.h"

DEFINE_POINTER_CLEANUP(json_object, json_object_put);

/* Parses exactly one JSON value (strict, valid UTF-8, nothing trailing). -EBADMSG on bad JSON. */
int json_parse_strict(const char *text, size_t size, json_object **ret);
/* Reads fd (at most max bytes, -EFBIG beyond) and parses it strictly. */
int json_parse_fd(int fd, size_t max, json_object **ret);
int json_parse_file_at(int dir_fd, const char *path, size_t max, json_object **ret);

/* Typed member access. Missing: -ENOENT (ret untouched). Wrong type: -EBADMSG. */
int json_get_string(json_object *o, const char *key, const char **ret);
int json_get_object(json_object *o, const char *key, json_object **ret);
int json_get_array(json_object *o, const char *key, json_object **ret);
int json_get_int64(json_object *o, const char *key, int64_t *ret);
int json_get_bool(json_object *o, const char *key, bool *ret);
/* An array of strings, copied into a NULL-terminated strv. */
int json_get_strv(json_object *o, const char *key, char ***ret);
/* A new array of l's strings; NULL on OOM. */
json_object *strv_to_json(char *const *l);

/* Adds key → value, taking the reference on value even on failure. */
int json_add(json_object *o, const char *key, json_object *value);
int json_add_string(json_object *o, const char *key, const char *value);
int json_add_int64(json_object *o, const char *key, int64_t value);

/* Serialises with flags and writes it atomically. */
int json_write_file_atomic_at(int dir_fd, const char *name, json_object *o, int flags, mode_t mode);
