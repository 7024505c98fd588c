/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fs-util.h"
#include "store.h"
#include "string-util.h"
#include "time-util.h"

static int referenced_add(char ***set, const char *digest) {
        if (!digest || strv_contains(*set, digest_hex(digest)))
                return 0;
        return strv_extend(set, digest_hex(digest));
}

typedef int (*SweepFunc)(int dir_fd, const char *name, void *userdata);

static int sweep(int dir_fd, SweepFunc f, void *userdata) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r = 0;

        r = opendir_at(dir_fd, ".", &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d)); ) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int q = f(dirfd(d), de->d_name, userdata);
                if (q < 0 && r == 0)
                        r = q;
        }
        return r;
}

typedef struct SweepCtx {
        char **keep;            /* hex digests */
        StoreGcStats *stats;
} SweepCtx;

static uint64_t entry_size(int dir_fd, const char *name) {
        struct stat st;

        return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ? 0 : (uint64_t) st.st_size;
}

static int sweep_blob(int dir_fd, const char *name, void *userdata) {
        SweepCtx *c = userdata;
        uint64_t size;

        if (strv_contains(c->keep, name))
                return 0;
        size = entry_size(dir_fd, name);
        if (unlinkat(dir_fd, name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        c->stats->blobs++;
        c->stats->bytes += size;
        return 0;
}

static int sweep_layer(int dir_fd, const char *name, void *userdata) {
        SweepCtx *c = userdata;
        const char *hex = startswith(name, "sha256-");

        if (hex && strv_contains(c->keep, hex))
                return 0;
        c->stats->layers++;
        return rm_rf_at(dir_fd, name);
}

static int sweep_tmp(int dir_fd, const char *name, void *userdata) {
        SweepCtx *c = userdata;

        c->stats->tmp++;
        return rm_rf_at(dir_fd, name);
}

int store_gc(Store *s, uint64_t grace_usec, char *const *keep, StoreGcStats *ret_stats) {
        ImageRecord **images = NULL;
        _cleanup_strv_free_ char **referenced = NULL;
        StoreGcStats stats = {};
        SweepCtx ctx = { .stats = &stats };
        uint64_t now;
        size_t n = 0;
        int r;

        now = now_realtime_usec();

        /* Leftovers of killed imports first: with the exclusive lock nobody is importing. */
        r = sweep(s->tmp_fd, sweep_tmp, &ctx);
        if (r < 0)
                return r;

        r = store_image_list(s, &images, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                ImageRecord *rec = images[i];
                bool expired = rec->removed ||
                               (grace_usec != UINT64_MAX && rec->last_used_usec + grace_usec <= now);

                if (expired && !strv_contains((char **) keep, rec->id)) {
                        r = store_image_remove(s, rec->id);
                        if (r < 0)
                                goto finish;
                        stats.images++;
                        continue;
                }
                if ((r = referenced_add(&referenced, rec->id)) < 0 ||
                    (r = referenced_add(&referenced, rec->config)) < 0 ||
                    (r = referenced_add(&referenced, rec->aci_manifest)) < 0)
                        goto finish;
                for (size_t j = 0; j < rec->n_layers; j++)
                        if ((r = referenced_add(&referenced, rec->layers[j].digest)) < 0 ||
                            (r = referenced_add(&referenced, rec->layers[j].diff_id)) < 0)
                                goto finish;
        }
        if (!referenced) {
                referenced = calloc(1, sizeof(char *));
                if (!referenced) {
                        r = -ENOMEM;
                        goto finish;
                }
        }
        ctx.keep = referenced;

        r = sweep(s->blobs_fd, sweep_blob, &ctx);
        if (r < 0)
                goto finish;
        r = sweep(s->layers_fd, sweep_layer, &ctx);
        if (r < 0)
                goto finish;

        if (ret_stats)
                *ret_stats = stats;
        r = 0;
finish:
        image_record_array_free(images, n);
        return r;
}
