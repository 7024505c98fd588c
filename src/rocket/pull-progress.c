/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "output.h"
#include "pull-progress.h"
#include "time-util.h"

struct PullProgress {
        char *name;
        bool tty;
        size_t drawn;           /* lines drawn last time (tty) */
        bool *reported;         /* per layer: its completion line is out (no tty) */
        size_t n_reported;
        uint64_t start_usec;
};

PullProgress *pull_progress_new(const char *name) {
        PullProgress *p = calloc(1, sizeof *p);

        if (!p)
                return NULL;
        p->name = strdup(name);
        if (!p->name)
                return pull_progress_free(p);
        p->tty = isatty(STDERR_FILENO) && !streq_ptr(getenv("TERM"), "dumb");
        p->start_usec = now_monotonic_usec();
        return p;
}

PullProgress *pull_progress_free(PullProgress *p) {
        if (!p)
                return NULL;
        free(p->name);
        free(p->reported);
        free(p);
        return NULL;
}

static const char *format_rate(char *buf, size_t size, uint64_t bytes, uint64_t usec) {
        char b[32];

        if (usec < 1000)
                return strncpy(buf, "-", size);
        snprintf(buf, size, "%s/s", format_bytes(b, sizeof b, (uint64_t) ((double) bytes * 1e6 / (double) usec)));
        return buf;
}

static void draw_tty(PullProgress *p, const FetchLayerProgress *layers, size_t n, bool final) {
        uint64_t now = now_monotonic_usec(), have = 0, total = 0;
        char a[32], b[32], c[32];

        if (p->drawn > 0)
                fprintf(stderr, "\033[%zuA", p->drawn);
        for (size_t i = 0; i < n; i++) {
                const FetchLayerProgress *l = &layers[i];
                uint64_t end = l->end_usec ?: now;

                have += l->have;
                total += l->size;
                fprintf(stderr, "\r\033[K%.19s  %8s / %-8s  %s\n", l->digest, format_bytes(a, sizeof a, l->have),
                        format_bytes(b, sizeof b, l->size),
                        l->end_usec ? "done" :
                        l->start_usec ? format_rate(c, sizeof c, l->have, end - l->start_usec) : "waiting");
        }
        fprintf(stderr, "\r\033[K%-19s  %8s / %-8s  %s\n", final ? "pulled" : "total", format_bytes(a, sizeof a, have),
                format_bytes(b, sizeof b, total), format_rate(c, sizeof c, have, now - p->start_usec));
        p->drawn = n + 1;
        fflush(stderr);
}

static void report_completed(PullProgress *p, const FetchLayerProgress *layers, size_t n) {
        char a[32], c[32];

        if (p->n_reported < n) {
                bool *r = realloc(p->reported, n * sizeof(bool));
                if (!r)
                        return;
                for (size_t i = p->n_reported; i < n; i++)
                        r[i] = false;
                p->reported = r;
                p->n_reported = n;
        }
        for (size_t i = 0; i < n; i++) {
                const FetchLayerProgress *l = &layers[i];

                if (p->reported[i] || l->end_usec == 0)
                        continue;
                p->reported[i] = true;
                fprintf(stderr, "%s: layer %s, %s in %.1f s (%s)\n", p->name, l->digest, format_bytes(a, sizeof a, l->size),
                        (double) (l->end_usec - l->start_usec) / 1e6,
                        format_rate(c, sizeof c, l->size, l->end_usec - l->start_usec));
        }
}

void pull_progress_update(void *userdata, const FetchLayerProgress *layers, size_t n, bool final) {
        PullProgress *p = userdata;

        if (n == 0)
                return;
        if (p->tty)
                draw_tty(p, layers, n, final);
        else
                report_completed(p, layers, n);
}
