/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny TAP test runner: TEST(name) { … } registers a test; ASSERT_*() print file:line and end the test on
 * failure. Each test runs in a forked child, so a crash or a leaked fd fails one test, not the run.
 * A test may call test_skip() to report "ok N # SKIP". Exit status: 0 all passed, 1 any failed. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"

typedef struct TestCase {
        const char *name;
        void (*func)(void);
} TestCase;

#define TESTS_MAX 256
extern TestCase test_cases[TESTS_MAX];
extern size_t n_test_cases;

#define TEST(name)                                                                      \
        static void test_##name(void);                                                  \
        __attribute__((constructor)) static void register_##name(void) {                \
                if (n_test_cases < TESTS_MAX)                                           \
                        test_cases[n_test_cases++] = (TestCase) { #name, test_##name }; \
        }                                                                               \
        static void test_##name(void)

#define TEST_EXIT_SKIP 77

_noreturn_ static inline void test_skip(const char *why) {
        printf("# skip: %s\n", why);
        fflush(stdout);
        _exit(TEST_EXIT_SKIP);
}

#define TEST_FAIL(...)                                                  \
        do {                                                            \
                printf("# %s:%d: ", __FILE__, __LINE__);                \
                printf(__VA_ARGS__);                                    \
                printf("\n");                                           \
                fflush(stdout);                                         \
                _exit(EXIT_FAILURE);                                    \
        } while (0)

#define ASSERT_TRUE(expr)                                               \
        do {                                                            \
                if (!(expr))                                            \
                        TEST_FAIL("expected true: %s", #expr);          \
        } while (0)
#define ASSERT_FALSE(expr)                                              \
        do {                                                            \
                if (expr)                                               \
                        TEST_FAIL("expected false: %s", #expr);         \
        } while (0)
#define ASSERT_NULL(expr)                                               \
        do {                                                            \
                if ((expr) != NULL)                                     \
                        TEST_FAIL("expected NULL: %s", #expr);          \
        } while (0)
#define ASSERT_NOT_NULL(expr)                                           \
        do {                                                            \
                if ((expr) == NULL)                                     \
                        TEST_FAIL("expected non-NULL: %s", #expr);      \
        } while (0)
#define ASSERT_EQ(a, b)                                                                         \
        do {                                                                                    \
                intmax_t _a = (intmax_t) (a), _b = (intmax_t) (b);                              \
                if (_a != _b)                                                                   \
                        TEST_FAIL("%s == %s: %jd != %jd", #a, #b, _a, _b);                      \
        } while (0)
#define ASSERT_STREQ(a, b)                                                                      \
        do {                                                                                    \
                const char *_a = (a), *_b = (b);                                                \
                if (!_a || !_b || strcmp(_a, _b) != 0)                                          \
                        TEST_FAIL("%s == %s: '%s' != '%s'", #a, #b, _a ?: "(null)", _b ?: "(null)"); \
        } while (0)
/* r must be a negative errno equal to -e. */
#define ASSERT_ERROR(expr, e)                                                                   \
        do {                                                                                    \
                int _r = (expr);                                                                \
                if (_r != -(e))                                                                 \
                        TEST_FAIL("%s: expected -%s, got %d (%s)", #expr, #e, _r,               \
                                  _r < 0 ? strerror(-_r) : "success");                          \
        } while (0)
#define ASSERT_OK(expr)                                                                         \
        do {                                                                                    \
                int _r = (expr);                                                                \
                if (_r < 0)                                                                     \
                        TEST_FAIL("%s failed: %s", #expr, strerror(-_r));                       \
        } while (0)

/* Defined once per test program by including tests.h with TESTS_MAIN defined. */
#ifdef TESTS_MAIN
TestCase test_cases[TESTS_MAX];
size_t n_test_cases;

int main(int argc, char *argv[]) {
        size_t failed = 0;

        printf("1..%zu\n", n_test_cases);
        fflush(stdout);
        for (size_t i = 0; i < n_test_cases; i++) {
                pid_t pid = fork();
                int status;

                if (pid < 0) {
                        perror("fork");
                        return EXIT_FAILURE;
                }
                if (pid == 0) {
                        test_cases[i].func();
                        fflush(stdout);
                        _exit(EXIT_SUCCESS);
                }
                if (waitpid(pid, &status, 0) < 0) {
                        perror("waitpid");
                        return EXIT_FAILURE;
                }
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        printf("ok %zu - %s\n", i + 1, test_cases[i].name);
                else if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_EXIT_SKIP)
                        printf("ok %zu - %s # SKIP\n", i + 1, test_cases[i].name);
                else {
                        failed++;
                        if (WIFSIGNALED(status))
                                printf("# killed by signal %d\n", WTERMSIG(status));
                        printf("not ok %zu - %s\n", i + 1, test_cases[i].name);
                }
                fflush(stdout);
        }
        return failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif
