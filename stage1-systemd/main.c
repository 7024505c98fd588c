/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1-systemd's entrypoints, one binary: run, enter, stop, gc, by the name it is called as (or the
 * first argument). Everything else is the core library the tests link too. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "stage1.h"
#include "string-util.h"

int main(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } entrypoints[] = {
                { STAGE1_ENTRYPOINT_RUN, stage1_run },
                { STAGE1_ENTRYPOINT_ENTER, stage1_enter },
                { STAGE1_ENTRYPOINT_STOP, stage1_stop },
                { STAGE1_ENTRYPOINT_GC, stage1_gc },
        };
        _cleanup_free_ char *copy = strdup(argv[0]);
        const char *name = copy ? basename(copy) : argv[0];
        int r;

        log_setup("rocket");
        if (argc > 1 && !startswith(name, STAGE1_ENTRYPOINT_RUN) && !startswith(name, STAGE1_ENTRYPOINT_ENTER) &&
            !startswith(name, STAGE1_ENTRYPOINT_STOP) && !startswith(name, STAGE1_ENTRYPOINT_GC)) {
                name = argv[1];
                argc--;
                argv++;
        }
        for (size_t i = 0; i < ELEMENTSOF(entrypoints); i++)
                if (streq(name, entrypoints[i].name)) {
                        r = entrypoints[i].run(argc, argv);
                        return r < 0 ? 1 : r;
                }
        fprintf(stderr, "rocket stage1-systemd: unknown entrypoint '%s' (run, enter, stop, gc).\n", name);
        return 2;
}
