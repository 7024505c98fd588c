/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "fetch-auth.h"
#include "fetch.h"
#include "isolation.h"
#include "log.h"
#include "string-util.h"
#include "rocket-store.h"
#include "rocket.h"
#include "verb-all.h"

static void help_login(void) {
        printf("Usage: rocket login [OPTIONS...] REGISTRY\n"
               "\n"
               "Check credentials against a registry and keep them for pulls.\n"
               "\n"
               "REGISTRY is HOST[:PORT] (docker.io for Docker Hub). The password is read from\n"
               "standard input with --password-stdin, else asked on the terminal; never from\n"
               "the command line.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "  -u --username=USER     The user (asked on the terminal if not given)\n"
               "     --password-stdin    Read the password from standard input\n"
               "     --authfile=PATH     The credentials file (default: $REGISTRY_AUTH_FILE, else\n"
               "                         /etc/rocket/auth.json for root, else\n"
               "                         $XDG_RUNTIME_DIR/containers/auth.json)\n"
               "     --insecure-options=tls,http  Skip TLS verification, allow plain HTTP\n");
}

static void help_logout(void) {
        printf("Usage: rocket logout [OPTIONS...] REGISTRY\n"
               "\n"
               "Remove the registry's credentials from the credentials file.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --authfile=PATH     The credentials file (as for rocket login)\n");
}

enum {
        ARG_PASSWORD_STDIN = 0x100,
        ARG_AUTHFILE,
        ARG_INSECURE,
};

typedef struct LoginArgs {
        char *user;
        bool password_stdin;
        char *authfile;
        InsecureOption insecure;
} LoginArgs;

static void login_args_done(LoginArgs *a) {
        free(a->user);
        free(a->authfile);
}

static int parse_option(int option, const char *arg, void *userdata) {
        LoginArgs *a = userdata;
        char **slot;

        switch (option) {
        case 'u':
                if (isempty(arg) || strchr(arg, ':'))
                        return log_usage("login: invalid user name '%s'.", arg);
                slot = &a->user;
                break;
        case ARG_AUTHFILE:
                if (isempty(arg))
                        return log_usage("authfile: empty path.");
                slot = &a->authfile;
                break;
        case ARG_PASSWORD_STDIN:
                a->password_stdin = true;
                return 0;
        case ARG_INSECURE:
                return isolation_parse_insecure("login", arg, &a->insecure);
        default:
                return -EINVAL;
        }
        free(*slot);
        *slot = strdup(arg);
        return *slot ? 0 : log_oom();
}

/* "docker://h:5000", "https://h:5000/", "h:5000" → "h:5000". */
static int registry_arg(const char *verb, const char *arg, char **ret) {
        const char *s = startswith(arg, "docker://") ?: startswith(arg, "https://") ?: startswith(arg, "http://") ?: arg;
        size_t n = strcspn(s, "/");

        if (s[n] == '/' && s[n + 1] != 0)
                return log_usage("%s: '%s' is not a registry (HOST[:PORT]).", verb, arg);
        *ret = strndup(s, n);
        if (!*ret)
                return log_oom();
        if (!registry_name_is_valid(*ret))
                return log_usage("%s: '%s' is not a registry (HOST[:PORT]).", verb, arg);
        return 0;
}

static int read_line(FILE *f, bool echo, char **ret) {
        struct termios old, quiet;
        bool restore = false;
        char *line = NULL;
        size_t size = 0;
        ssize_t n;

        if (!echo && tcgetattr(fileno(f), &old) >= 0) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) ECHO;
                restore = tcsetattr(fileno(f), TCSAFLUSH, &quiet) >= 0;
        }
        n = getline(&line, &size, f);
        if (restore) {
                (void) tcsetattr(fileno(f), TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (n < 0) {
                free(line);
                return -ENODATA;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                line[--n] = 0;
        *ret = line;
        return 0;
}

/* --authfile, or where the user's credentials go by default. */
static int auth_file(const char *verb, const LoginArgs *a, char **ret) {
        int r;

        if (a->authfile) {
                *ret = strdup(a->authfile);
                return *ret ? 0 : log_oom();
        }
        r = credentials_default_file(ret);
        if (r == -ENXIO)
                return log_error_errno(SYNTHETIC_ERRNO(ENXIO), "%s: $XDG_RUNTIME_DIR is not set; give --authfile=PATH.",
                                       verb);
        return r < 0 ? log_oom() : 0;
}

int verb_login(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "username", required_argument, NULL, 'u' },
                { "password-stdin", no_argument, NULL, ARG_PASSWORD_STDIN },
                { "authfile", required_argument, NULL, ARG_AUTHFILE },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                {}
        };
        _cleanup_(login_args_done) LoginArgs a = {};
        _cleanup_free_ char *registry = NULL, *file = NULL, *detail = NULL;
        char *password = NULL;
        bool tty = isatty(STDIN_FILENO);
        int r;

        r = verb_parse_options_full("login", "+:hu:", argc, argv, options, help_login, parse_option, &a);
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return log_usage("login: give exactly one REGISTRY.");
        a.insecure |= ctx->insecure;
        r = registry_arg("login", argv[optind], &registry);
        if (r < 0)
                return r;
        if (!a.user) {
                if (!tty || a.password_stdin)
                        return log_usage("login: no user given (--username=USER).");
                fprintf(stderr, "Username for %s: ", registry);
                if (read_line(stdin, true, &a.user) < 0 || isempty(a.user))
                        return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "login: no user given.");
        }
        if (a.password_stdin) {
                r = read_line(stdin, true, &password);
        } else if (tty) {
                fprintf(stderr, "Password for %s@%s: ", a.user, registry);
                r = read_line(stdin, false, &password);
        } else
                return log_usage("login: no terminal to ask for the password on; pipe it in with --password-stdin.");
        if (r < 0 || isempty(password)) {
                erase_and_free(password);
                return log_error_errno(SYNTHETIC_ERRNO(EINVAL), "login: no password given.");
        }

        r = registry_login_check(registry, a.user, password,
                                 fetch_insecure_of(a.insecure) & (FETCH_INSECURE_TLS | FETCH_INSECURE_HTTP),
                                 &detail);
        if (r < 0) {
                erase_and_free(password);
                if (detail)
                        return log_error_errno(r, "Login to %s failed: %s.", registry, detail);
                return log_error_errno(r, "Login to %s failed: %m", registry);
        }
        r = auth_file("login", &a, &file);
        if (r < 0) {
                erase_and_free(password);
                return r;
        }
        r = credentials_file_update(file, registry, a.user, password);
        erase_and_free(password);
        if (r < 0)
                return log_error_errno(r, "Failed to write the credentials to %s: %m", file);
        fprintf(stderr, "Login succeeded; credentials for %s are in %s.\n", registry, file);
        return 0;
}

int verb_logout(int argc, char *argv[], RocketContext *ctx _unused_) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "authfile", required_argument, NULL, ARG_AUTHFILE },
                {}
        };
        _cleanup_(login_args_done) LoginArgs a = {};
        _cleanup_free_ char *registry = NULL, *file = NULL;
        int r;

        r = verb_parse_options("logout", argc, argv, options, help_logout, parse_option, &a);
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return log_usage("logout: give exactly one REGISTRY.");
        r = registry_arg("logout", argv[optind], &registry);
        if (r < 0)
                return r;
        r = auth_file("logout", &a, &file);
        if (r < 0)
                return r;
        r = credentials_file_update(file, registry, NULL, NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "Not logged in to %s (no credentials in %s).", registry, file);
        if (r < 0)
                return log_error_errno(r, "Failed to update %s: %m", file);
        fprintf(stderr, "Removed the credentials for %s from %s.\n", registry, file);
        return 0;
}
