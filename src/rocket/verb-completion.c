/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rocket completion bash|zsh: the installed completion script on stdout, as rkt's (source <(rocket completion
 * bash)). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fs-util.h"
#include "log.h"
#include "string-util.h"
#include "verb-all.h"

static void help(void) {
        printf("Usage: rocket completion bash|zsh\n"
               "\n"
               "Print the completion script for the shell, as installed:\n"
               "  bash  %s  (source <(rocket completion bash))\n"
               "  zsh   %s\n"
               "\n"
               "Options:\n"
               "  -h --help              Show this help\n", ROCKET_BASH_COMPLETION, ROCKET_ZSH_COMPLETION);
}

int verb_completion(int argc, char *argv[], RocketContext *ctx _unused_) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_free_ char *text = NULL;
        const char *path;
        size_t size = 0;
        int r;

        r = verb_parse_options("completion", argc, argv, options, help, NULL, NULL);
        if (r <= 0)
                return r;
        if (argc - optind != 1)
                return log_usage("completion: give one shell, bash or zsh.");
        if (streq(argv[optind], "bash"))
                path = ROCKET_BASH_COMPLETION;
        else if (streq(argv[optind], "zsh"))
                path = ROCKET_ZSH_COMPLETION;
        else
                return log_usage("completion: unknown shell '%s' (bash or zsh).", argv[optind]);
        r = read_full_file_at(AT_FDCWD, path, 1 << 20, &text, &size);
        if (r < 0)
                return log_error_errno(r, "The %s completion is not installed at %s: %m", argv[optind], path);
        if (fwrite(text, 1, size, stdout) != size || fflush(stdout) != 0)
                return log_error_errno(errno, "Failed to write the completion: %m");
        return 0;
}
