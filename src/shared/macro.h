/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))
#define _pure_ __attribute__((pure))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

/* IN_SET(x, A, B, …): x equals one of the constants. */
#define IN_SET(x, first, ...)                                                   \
        ({                                                                      \
                const typeof(first) _in_set_v_[] = { first, __VA_ARGS__ };      \
                const typeof(x) _in_set_x_ = (x);                               \
                bool _in_set_found_ = false;                                    \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_in_set_v_); _i_++)       \
                        if (_in_set_x_ == _in_set_v_[_i_]) {                    \
                                _in_set_found_ = true;                          \
                                break;                                          \
                        }                                                       \
                _in_set_found_;                                                 \
        })

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

/* Return value for a usage error: beyond every real errno (MAX_ERRNO is 4095). main() maps it to exit 2. */
#define ERRNO_USAGE 4096

/* The same for a pod definition (a .pod file, a JSON pod manifest) that is missing or wrong: retrying
 * cannot help, so pod@.service does not restart on it (RestartPreventExitStatus=). */
#define ERRNO_BAD_DEFINITION 4097

/* Exit codes, mapped in one place (rocket(1), EXIT STATUS). */
#define EXIT_USAGE 2
#define EXIT_BAD_DEFINITION 78          /* EX_CONFIG of sysexits.h */
/* Any other error of rocket's own (stage0, or a stage1 entrypoint before its pod or command runs), as rkt
 * had it: apart from every status an app's own failure gives (1-125, 126/127, 128 + signal). */
#define EXIT_STAGE_ERROR 254

static inline int negative_errno(void) {
        /* Some libc functions fail without setting errno; never turn that into success. */
        return errno > 0 ? -errno : -EIO;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_GENERIC(var, type, nullvalue)              \
        ({                                              \
                type *_pvar_ = &(var);                  \
                type _var_ = *_pvar_;                   \
                type _nullvalue_ = nullvalue;           \
                *_pvar_ = _nullvalue_;                  \
                _var_;                                  \
        })
#define TAKE_PTR(p) TAKE_GENERIC((p), typeof(p), NULL)

/* Frees a secret (a password), wiping it first. */
static inline void *erase_and_free(char *s) {
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
        return NULL;
}

/* Frees a and moves b into it, leaving b NULL. */
#define free_and_replace(a, b)                  \
        ({                                      \
                free(a);                        \
                (a) = TAKE_PTR(b);              \
                0;                              \
        })
#define TAKE_FD(fd) TAKE_GENERIC((fd), int, -EBADF)

/* Defines name##p(type **p) that calls func(*p) when *p is not NULL. */
#define DEFINE_POINTER_CLEANUP(type, func)                      \
        static inline void func##p(type **p) {                  \
                if (*p)                                         \
                        func(*p);                               \
        }

#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

static inline bool isempty(const char *s) {
        return !s || !*s;
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

static inline const char *strna(const char *s) {
        return s ?: "n/a";
}

static inline bool streq_ptr(const char *a, const char *b) {
        return a && b ? streq(a, b) : a == b;
}

/* A string table: name##_to_string() and name##_from_string() from one array indexed by the enum. */
#define DEFINE_STRING_TABLE(name, type, max)                                    \
        const char *name##_to_string(type i) {                                  \
                if (i < 0 || i >= (max))                                        \
                        return NULL;                                            \
                return name##_table[i];                                         \
        }                                                                       \
        type name##_from_string(const char *s) {                                \
                if (!s)                                                         \
                        return (type) -EINVAL;                                  \
                for (int i = 0; i < (max); i++)                                 \
                        if (name##_table[i] && streq(name##_table[i], s))       \
                                return (type) i;                                \
                return (type) -EINVAL;                                          \
        }

#include <dirent.h>
static inline void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}
