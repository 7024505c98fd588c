/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <alloca.h>
#include <string.h>
#include <stdint.h>

#include "macro.h"

/* Returns a pointer just past prefix in s, or NULL when s does not start with it. */
const char *startswith(const char *s, const char *prefix) _pure_;
const char *endswith(const char *s, const char *suffix) _pure_;

char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l) _pure_;
int strv_extend(char ***l, const char *value);
/* A copy of l (NULL for NULL). */
int strv_copy(char *const *l, char ***ret);
int strv_push(char ***l, char *value);
/* Sets "NAME=VALUE" in *l: replaces the entry of the same NAME, else appends (environments, annotations). */
int strv_set_kv(char ***l, const char *kv);
bool strv_contains(char *const *l, const char *s) _pure_;
/* In strcmp() order, in place. */
void strv_sort(char **l);
#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)
/* A NULL-terminated list on the stack, for the enclosing block. */
#define STRV_MAKE(...) ((char *const[]) { __VA_ARGS__, NULL })

/* Splits s at each character in separators (empty fields are dropped). */
/* Joins l with separator between the elements; "" for an empty list. */
int strv_join(char *const *l, const char *separator, char **ret);
int strv_split(const char *s, const char *separators, char ***ret);

/* Names of pods, apps and volumes: 1..63 of [a-z0-9-], starting and ending alphanumeric. */
/* Replaces *reterr (if reterr is not NULL) with the formatted text, and returns error: for the reterr_detail
 * sentences that say what went wrong. */
int detail_printf(char **reterr, int error, const char *fmt, ...) _printf_(3, 4);

bool name_is_valid(const char *s) _pure_;
/* Pod names and hostnames: what systemd-machined takes as a machine name, a hostname of dot-separated
 * labels of letters, digits and inner hyphens, 64 characters at the most. */
bool machine_name_is_valid(const char *s) _pure_;

/* "1024", "64K", "256M", "2G", "1T": binary units. */
int parse_size(const char *s, uint64_t *ret);
/* "30s", "5min", "24h", "2d", "1h30m", "0"; microseconds. */
int parse_duration(const char *s, uint64_t *ret_usec);
int parse_boolean(const char *s) _pure_;

/* a followed by b, on the stack (for short strings only). */
#define strjoina(a, b)                                                          \
        ({                                                                      \
                const char *_sa = (a), *_sb = (b);                              \
                size_t _la = strlen(_sa), _lb = strlen(_sb);                    \
                char *_sr = alloca(_la + _lb + 1);                              \
                memcpy(_sr, _sa, _la);                                          \
                memcpy(_sr + _la, _sb, _lb + 1);                                \
                _sr;                                                            \
        })
