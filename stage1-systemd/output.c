/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "sigbus.h"
#include "stage1.h"
#include "string-util.h"

/* The apps' stdout and stderr go to the pod's journald; rocket run prints the messages of the apps' units,
 * as `journalctl -o cat` would, while they come; with several apps each line starts with its app's name,
 * as in rocket logs. */
struct AppOutput {
        sd_journal *j;
        bool prefix;
};

AppOutput *app_output_free(AppOutput *o) {
        if (!o)
                return NULL;
        sd_journal_close(o->j);
        free(o);
        return NULL;
}

int app_output_new(const PodManifest *m, const char *journal_dir, AppOutput **ret) {
        AppOutput *o = calloc(1, sizeof(AppOutput));
        int r;

        if (!o)
                return -ENOMEM;
        r = sigbus_guard_install();
        if (r >= 0)
                r = sd_journal_open_directory(&o->j, journal_dir, 0);
        if (r < 0)
                goto fail;
        /* Only the pod's own entries: the pod writes that directory, and could link other journals in. */
        {
                char mid[33], match[64];

                r = pod_machine_id(m->uuid, mid);
                if (r < 0)
                        goto fail;
                snprintf(match, sizeof match, "_MACHINE_ID=%s", mid);
                r = sd_journal_add_match(o->j, match, 0);
                if (r < 0)
                        goto fail;
        }
        for (size_t i = 0; i < m->n_apps; i++) {
                _cleanup_free_ char *match = NULL;

                if (asprintf(&match, "_SYSTEMD_UNIT=%s.service", m->apps[i].name) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = sd_journal_add_match(o->j, match, 0);
                if (r < 0)
                        goto fail;
        }
        r = sd_journal_seek_head(o->j);
        if (r < 0)
                goto fail;
        o->prefix = m->n_apps > 1;
        *ret = o;
        return 0;
fail:
        app_output_free(o);
        return r;
}

int app_output_fd(AppOutput *o) {
        return sd_journal_get_fd(o->j);
}

int app_output_events(AppOutput *o) {
        int r = sd_journal_get_events(o->j);

        return r < 0 ? EPOLLIN : r;
}

int app_output_timeout(AppOutput *o, uint64_t *ret_usec) {
        return sd_journal_get_timeout(o->j, ret_usec);
}

int app_output_flush(AppOutput *o) {
        int r;

        (void) sd_journal_process(o->j);
        for (;;) {
                const void *data;
                size_t len;

                r = sd_journal_next(o->j);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (sd_journal_get_data(o->j, "MESSAGE", &data, &len) < 0 || len < 8)
                        continue;
                if (o->prefix) {
                        const void *unit;
                        size_t ulen;

                        /* The unit, not SYSLOG_IDENTIFIER: systemd sets it, the app cannot. */
                        if (sd_journal_get_data(o->j, "_SYSTEMD_UNIT", &unit, &ulen) >= 0 && ulen > 14 + 8 &&
                            strneq((const char *) unit + ulen - 8, ".service", 8))
                                printf("%.*s: ", (int) (ulen - 14 - 8), (const char *) unit + 14);
                }
                fwrite((const char *) data + 8, 1, len - 8, stdout);
                fputc('\n', stdout);
        }
        fflush(stdout);
        return 0;
}
