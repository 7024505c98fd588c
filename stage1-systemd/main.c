/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1-systemd's entrypoints, one binary: run, enter, stop, gc, attach and the app-* ones, by the name it is called as (or the
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
                { STAGE1_ENTRYPOINT_APP_ADD, stage1_app },
                { STAGE1_ENTRYPOINT_APP_START, stage1_app },
                { STAGE1_ENTRYPOINT_APP_STOP, stage1_app },
                { STAGE1_ENTRYPOINT_APP_RM, stage1_app },
                { STAGE1_ENTRYPOINT_ATTACH, stage1_attach },
        };
        _cleanup_free_ char *copy = strdup(argv[0]);
        const char *name = copy ? basename(copy) : argv[0];
        int r;

        log_setup("rocket");
        /* Called by another name (the binary's own): the entrypoint is the first argument. */
        bool known = false;

        for (size_t i = 0; i < ELEMENTSOF(entrypoints); i++)
                known = known || streq(name, entrypoints[i].name);
        if (argc > 1 && !known) {
                name = argv[1];
                argc--;
                argv++;
        }
        for (size_t i = 0; i < ELEMENTSOF(entrypoints); i++)
                if (streq(name, entrypoints[i].name)) {
                        r = entrypoints[i].run(argc, argv);
                        return r < 0 ? EXIT_STAGE_ERROR : r;
                }
        fprintf(stderr, "rocket stage1-systemd: unknown entrypoint '%s' (run, enter, stop, gc, app-add, app-start, app-stop, app-rm, attach).\n", name);
        return 2;
}
