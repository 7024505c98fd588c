/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "string-util.h"

const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);

        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

const char *endswith(const char *s, const char *suffix) {
        size_t sl = strlen(s), pl = strlen(suffix);

        if (pl > sl)
                return NULL;
        return streq(s + sl - pl, suffix) ? s + sl - pl : NULL;
}

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        for (; l && l[n]; n++)
                ;
        return n;
}

int strv_copy(char *const *l, char ***ret) {
        char **c = NULL;

        if (!l) {
                *ret = NULL;
                return 0;
        }
        c = calloc(strv_length(l) + 1, sizeof(char *));
        if (!c)
                return -ENOMEM;
        for (size_t i = 0; l[i]; i++)
                if (!(c[i] = strdup(l[i]))) {
                        strv_free(c);
                        return -ENOMEM;
                }
        *ret = c;
        return 0;
}

int strv_push(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **t;

        t = reallocarray(*l, n + 2, sizeof(char *));
        if (!t)
                return -ENOMEM;
        t[n] = value;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int strv_set_kv(char ***l, const char *kv) {
        size_t n = strcspn(kv, "=");

        STRV_FOREACH(e, *l)
                if (strneq(*e, kv, n) && (*e)[n] == '=') {
                        char *t = strdup(kv);

                        if (!t)
                                return -ENOMEM;
                        free(*e);
                        *e = t;
                        return 0;
                }
        return strv_extend(l, kv);
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);
        int r;

        if (!v)
                return -ENOMEM;
        r = strv_push(l, v);
        if (r < 0)
                free(v);
        return r;
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

int strv_split(const char *s, const char *separators, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        while (*s) {
                size_t n = strcspn(s, separators);
                if (n > 0) {
                        char *w = strndup(s, n);
                        if (!w)
                                return -ENOMEM;
                        r = strv_push(&l, w);
                        if (r < 0) {
                                free(w);
                                return r;
                        }
                }
                s += n;
                s += strspn(s, separators);
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int strv_join(char *const *l, const char *separator, char **ret) {
        size_t len = 0, k = strlen(separator);
        char *s, *p;

        STRV_FOREACH(i, (char **) l)
                len += strlen(*i) + k;
        s = p = malloc(len + 1);
        if (!s)
                return -ENOMEM;
        *p = 0;
        STRV_FOREACH(i, (char **) l) {
                if (i != l)
                        p = stpcpy(p, separator);
                p = stpcpy(p, *i);
        }
        *ret = s;
        return 0;
}

static int cmp_strings(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_strings);
}

bool name_is_valid(const char *s) {
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > 63)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(islower((unsigned char) s[i]) || isdigit((unsigned char) s[i]) || s[i] == '-'))
                        return false;
        return s[0] != '-' && s[n - 1] != '-';
}

bool machine_name_is_valid(const char *s) {
        bool label_start = true, hyphen = false;
        size_t n;

        if (isempty(s))
                return false;
        n = strlen(s);
        if (n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label_start || hyphen)
                                return false;
                        label_start = true;
                } else if (c == '-') {
                        if (label_start)
                                return false;
                        hyphen = true;
                } else if (isascii((unsigned char) c) && isalnum((unsigned char) c)) {
                        label_start = hyphen = false;
                } else
                        return false;
        }
        return !label_start && !hyphen;
}

int parse_size(const char *s, uint64_t *ret) {
        static const struct {
                char suffix;
                unsigned shift;
        } units[] = { { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 } };
        unsigned long long v;
        char *end;

        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -errno;
        if (*end == 0) {
                *ret = v;
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (toupper((unsigned char) *end) == units[i].suffix &&
                    (end[1] == 0 || (end[1] == 'i' && end[2] == 'B' && end[3] == 0) ||
                     (end[1] == 'B' && end[2] == 0))) {
                        if (v > (UINT64_MAX >> units[i].shift))
                                return -ERANGE;
                        *ret = (uint64_t) v << units[i].shift;
                        return 0;
                }
        return -EINVAL;
}

int parse_duration(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                /* Longest first, so that "min" wins over "m" and "ms" over "m". */
                { "min", 60000000ULL },   { "ms", 1000ULL },        { "us", 1ULL },
                { "s", 1000000ULL },      { "m", 60000000ULL },     { "h", 3600000000ULL },
                { "d", 86400000000ULL },  { "w", 604800000000ULL },
        };
        uint64_t total = 0;

        if (isempty(s))
                return -EINVAL;
        if (streq(s, "0")) {
                *ret_usec = 0;
                return 0;
        }
        while (*s) {
                unsigned long long v;
                char *end;
                bool found = false;

                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                errno = 0;
                v = strtoull(s, &end, 10);
                if (errno != 0)
                        return -errno;
                for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                        const char *e = startswith(end, units[i].suffix);
                        if (!e)
                                continue;
                        if (v > (UINT64_MAX - total) / units[i].usec)
                                return -ERANGE;
                        total += v * units[i].usec;
                        s = e;
                        found = true;
                        break;
                }
                if (!found)
                        return -EINVAL;
        }
        *ret_usec = total;
        return 0;
}

int parse_boolean(const char *s) {
        if (!s)
                return -EINVAL;
        if (streq(s, "1") || streq(s, "yes") || streq(s, "true") || streq(s, "on"))
                return 1;
        if (streq(s, "0") || streq(s, "no") || streq(s, "false") || streq(s, "off"))
                return 0;
        return -EINVAL;
}

int detail_printf(char **reterr, int error, const char *fmt, ...) {
        va_list ap;

        if (!reterr)
                return error;
        free(*reterr);
        va_start(ap, fmt);
        if (vasprintf(reterr, fmt, ap) < 0)
                *reterr = NULL;
        va_end(ap);
        return error;
}
