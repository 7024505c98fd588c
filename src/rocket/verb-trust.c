/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch.h"
#include "fs-util.h"
#include "gpg-verify.h"
#include "isolation.h"
#include "log.h"
#include "output.h"
#include "rocket.h"
#include "string-util.h"
#include "trust-keys.h"
#include "verb-all.h"

#define KEY_MAX (1U << 20)

static void help(void) {
        printf("Usage: rocket trust [OPTIONS...] [KEYFILE|URL...]\n"
               "       rocket trust --list [--prefix=NAME]\n"
               "       rocket trust --remove FINGERPRINT\n"
               "\n"
               "Trust OpenPGP keys to sign images whose names start with a prefix, or all images.\n"
               "\n"
               "Each key's fingerprint and user IDs are shown and the answer asked for on the\n"
               "terminal. With --prefix and no KEYFILE, the keys come from appc discovery\n"
               "(ac-discovery-pubkeys) over HTTPS.\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n"
               "     --prefix=PREFIX     Trust the keys for image names starting with PREFIX\n"
               "     --root              Trust the keys for all images\n"
               "     --skip-fingerprint-review  Do not ask (needed without a terminal)\n"
               "     --insecure-options=pubkey,tls,http  Fetch keys without TLS verification or\n"
               "                         over plain HTTP\n"
               "     --list              List the trusted keys (for NAME with --prefix=NAME)\n"
               "     --remove            Remove the keys with these fingerprints\n");
}

enum {
        ARG_PREFIX = 0x100,
        ARG_ROOT,
        ARG_SKIP_REVIEW,
        ARG_INSECURE,
        ARG_LIST,
        ARG_REMOVE,
};

typedef struct TrustArgs {
        char *prefix;
        bool root, skip_review, list, remove;
        InsecureOption insecure;
} TrustArgs;

static int parse_option(int option, const char *arg, void *userdata) {
        TrustArgs *a = userdata;

        switch (option) {
        case ARG_PREFIX:
                if (!trust_prefix_is_valid(arg))
                        return log_usage("trust: invalid prefix '%s' (an image name or the start of one, e.g. "
                                         "example.com/app).", arg);
                free(a->prefix);
                a->prefix = strdup(arg);
                return a->prefix ? 0 : log_oom();
        case ARG_ROOT:
                a->root = true;
                return 0;
        case ARG_SKIP_REVIEW:
                a->skip_review = true;
                return 0;
        case ARG_INSECURE:
                return isolation_parse_insecure("trust", arg, &a->insecure);
        case ARG_LIST:
                a->list = true;
                return 0;
        case ARG_REMOVE:
                a->remove = true;
                return 0;
        default:
                return -EINVAL;
        }
}

/* root, or a member of group rocket-admin (rkt's split: rocket may fetch, rocket-admin may trust). */
static int check_permission(void) {
        struct group *g;

        if (geteuid() == 0)
                return 0;
        g = getgrnam("rocket-admin");
        if (g) {
                gid_t groups[256];
                int n = getgroups(ELEMENTSOF(groups), groups);

                if (getegid() == g->gr_gid)
                        return 0;
                for (int i = 0; i < n; i++)
                        if (groups[i] == g->gr_gid)
                                return 0;
        }
        return log_error_errno(SYNTHETIC_ERRNO(EPERM), "trust: changing the trusted keys needs root or group "
                               "rocket-admin.");
}

static int fetch_key(const char *source, InsecureOption insecure, char **ret, size_t *ret_size) {
        _cleanup_(http_client_freep) HttpClient *c = NULL;
        _cleanup_(http_response_done) HttpResponse resp = {};
        _cleanup_free_ char *host = NULL;
        int r;

        if (!startswith(source, "https://") && !startswith(source, "http://")) {
                r = read_full_file_at(AT_FDCWD, source, KEY_MAX, ret, ret_size);
                if (r < 0)
                        return log_error_errno(r, "trust: cannot read key file '%s': %m", source);
                return 0;
        }
        if (startswith(source, "http://") && !(insecure & (INSECURE_PUBKEY | INSECURE_HTTP)))
                return log_error_errno(SYNTHETIC_ERRNO(EPROTONOSUPPORT),
                                       "trust: %s is not HTTPS (--insecure-options=pubkey allows it).", source);
        r = http_client_new((insecure & (INSECURE_PUBKEY | INSECURE_TLS) ? FETCH_INSECURE_TLS : 0) |
                            (startswith(source, "http://") ? FETCH_INSECURE_HTTP : 0), &c);
        if (r < 0)
                return log_error_errno(r, "trust: %m");
        r = http_url_host(source, &host);
        if (r == -ENOMEM)
                return log_oom();
        if (r < 0)
                return log_error_errno(r, "trust: invalid URL '%s'.", source);
        r = http_get(c, source, host, NULL, NULL, false, KEY_MAX, &resp);
        if (r < 0)
                return log_error_errno(r, "trust: cannot fetch %s: %s", source, resp.error);
        if (resp.status != 200)
                return log_error_errno(SYNTHETIC_ERRNO(ENOENT), "trust: %s answered HTTP %ld for %s.", host,
                                       resp.status, source);
        *ret = TAKE_PTR(resp.body);
        *ret_size = resp.size;
        return 0;
}

static bool ask(const char *question) {
        char answer[16] = "";

        fprintf(stderr, "%s [y/N] ", question);
        fflush(stderr);
        if (!fgets(answer, sizeof answer, stdin))
                return false;
        return answer[0] == 'y' || answer[0] == 'Y';
}

static int add_keys(const TrustArgs *a, const char *source) {
        _cleanup_(gpg_keyring_freep) GpgKeyring *k = NULL;
        _cleanup_strv_free_ char **fprs = NULL;
        _cleanup_free_ char *data = NULL;
        TrustDirs dirs = trust_dirs_default();
        size_t size;
        int r;

        r = fetch_key(source, a->insecure, &data, &size);
        if (r < 0)
                return r;
        r = gpg_keyring_new(&k);
        if (r < 0)
                return log_error_errno(r, "trust: cannot set up a keyring to read the key: %m");
        r = gpg_keyring_import(k, data, size, &fprs);
        if (r < 0)
                return log_error_errno(r, "trust: %s holds no OpenPGP public key.", source);
        STRV_FOREACH(f, fprs) {
                _cleanup_(gpg_key_info_done) GpgKeyInfo info = {};
                _cleanup_free_ char *question = NULL;

                r = gpg_keyring_key_info(k, *f, &info);
                if (r < 0)
                        return log_error_errno(r, "trust: cannot read key %s: %m", *f);
                if (info.revoked || info.expired)
                        return log_error_errno(SYNTHETIC_ERRNO(EKEYREJECTED), "trust: key %s is %s; not trusting it.",
                                               info.fingerprint, info.revoked ? "revoked" : "expired");
                if (!a->skip_review && !isatty(STDIN_FILENO))
                        return log_error_errno(SYNTHETIC_ERRNO(EPERM),
                                               "trust: no terminal to review key %s on; check its fingerprint "
                                               "and pass --skip-fingerprint-review.", info.fingerprint);
                fprintf(stderr, "Key %s from %s, for %s%s%s:\n", info.fingerprint, source,
                        a->root ? "all images (a root key)" : "image names starting with '",
                        strempty(a->prefix), a->root ? "" : "'");
                STRV_FOREACH(u, info.uids)
                        fprintf(stderr, "  %s\n", *u);
                if (!a->skip_review && !ask("Trust this key?"))
                        return log_error_errno(SYNTHETIC_ERRNO(ECANCELED), "trust: key %s not trusted.",
                                               info.fingerprint);
                r = trust_key_add(&dirs, a->prefix, info.fingerprint, data, size);
                if (r < 0)
                        return log_error_errno(r, "trust: failed to store key %s: %m", info.fingerprint);
                fprintf(stderr, "Trusted key %s for %s.\n", info.fingerprint,
                        a->root ? "all images" : a->prefix);
        }
        return 0;
}

static int list_keys(const TrustArgs *a) {
        static const char *const header[] = { "PREFIX", "FINGERPRINT", "FROM", "FILE" };
        _cleanup_(table_freep) Table *t = table_new(header, ELEMENTSOF(header));
        TrustDirs dirs = trust_dirs_default();
        TrustedKey *keys = NULL;
        size_t n = 0;
        int r;

        if (!t)
                return log_oom();
        r = trust_keys_list(&dirs, a->prefix, &keys, &n);
        if (r < 0)
                return log_error_errno(r, "trust: failed to list the trusted keys: %m");
        for (size_t i = 0; i < n; i++) {
                const char *row[] = { keys[i].prefix ?: "(root)", keys[i].fingerprint,
                                      keys[i].vendor ? "vendor" : "admin", keys[i].path };
                if (table_add_row(t, row) < 0) {
                        trusted_key_array_free(keys, n);
                        return log_oom();
                }
        }
        trusted_key_array_free(keys, n);
        table_print(t, true);
        return 0;
}

int verb_trust(int argc, char *argv[], RocketContext *ctx) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "prefix", required_argument, NULL, ARG_PREFIX },
                { "root", no_argument, NULL, ARG_ROOT },
                { "skip-fingerprint-review", no_argument, NULL, ARG_SKIP_REVIEW },
                { "insecure-options", required_argument, NULL, ARG_INSECURE },
                { "list", no_argument, NULL, ARG_LIST },
                { "remove", no_argument, NULL, ARG_REMOVE },
                {}
        };
        TrustArgs a = {};
        int r;

        r = verb_parse_options("trust", argc, argv, options, help, parse_option, &a);
        if (r <= 0)
                goto finish;
        a.insecure |= ctx->insecure;
        if (a.list + a.remove > 1) {
                r = log_usage("trust: --list and --remove exclude each other.");
                goto finish;
        }
        if (a.list) {
                r = optind < argc ? log_usage("trust: --list takes no KEYFILE.") : list_keys(&a);
                goto finish;
        }
        r = check_permission();
        if (r < 0)
                goto finish;
        /* What one member of rocket-admin creates, the others may change (the tree is setgid rocket-admin). */
        (void) umask(0002);
        if (a.remove) {
                TrustDirs dirs = trust_dirs_default();

                if (optind >= argc) {
                        r = log_usage("trust: --remove needs a FINGERPRINT.");
                        goto finish;
                }
                for (int i = optind; i < argc; i++) {
                        r = trust_key_remove(&dirs, argv[i]);
                        if (r == -ENOENT)
                                r = log_error_errno(r, "trust: no trusted key has the fingerprint '%s'.", argv[i]);
                        else if (r < 0)
                                r = log_error_errno(r, "trust: failed to remove key %s: %m", argv[i]);
                        if (r < 0)
                                goto finish;
                        fprintf(stderr, "Removed key %s.\n", argv[i]);
                }
                goto finish;
        }
        if (a.root == !!a.prefix) {
                r = log_usage("trust: give --prefix=PREFIX or --root.");
                goto finish;
        }
        if (optind >= argc) {
                _cleanup_(http_client_freep) HttpClient *c = NULL;
                _cleanup_strv_free_ char **urls = NULL;
                _cleanup_free_ char *detail = NULL;

                if (!a.prefix) {
                        r = log_usage("trust: --root needs a KEYFILE or URL.");
                        goto finish;
                }
                r = http_client_new(a.insecure & (INSECURE_PUBKEY | INSECURE_TLS) ? FETCH_INSECURE_TLS : 0, &c);
                if (r < 0) {
                        r = log_error_errno(r, "trust: %m");
                        goto finish;
                }
                r = aci_discover_pubkeys(c, a.prefix, &urls, &detail);
                if (r < 0) {
                        r = log_error_errno(r, "trust: %s.", strna(detail));
                        goto finish;
                }
                STRV_FOREACH(u, urls) {
                        r = add_keys(&a, *u);
                        if (r < 0)
                                goto finish;
                }
                goto finish;
        }
        for (int i = optind; i < argc; i++) {
                r = add_keys(&a, argv[i]);
                if (r < 0)
                        goto finish;
        }
        r = 0;
finish:
        free(a.prefix);
        return r;
}
