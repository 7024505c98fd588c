/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>

#include "log.h"
#include "fs-util.h"
#include "store.h"
#include "string-util.h"

static void note(StoreVerifyReport report, void *userdata, const char *what, const char *problem) {
        if (report)
                report(userdata, what, problem);
        else
                log_debug("%s: %s", what, problem);
}

static int verify_blobs(Store *s, StoreVerifyReport report, void *userdata) {
        _cleanup_(closedirp) DIR *d = NULL;
        int problems = 0, r;

        r = opendir_at(s->blobs_fd, ".", &d);
        if (r < 0)
                return r;
        for (struct dirent *de; (de = readdir(d)); ) {
                char expected[DIGEST_STRING_MAX + 8], got[DIGEST_STRING_MAX], msg[DIGEST_STRING_MAX + 64];
                _cleanup_close_ int bfd = -EBADF;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (strlen(de->d_name) != DIGEST_HEX_LEN ||
                    (snprintf(expected, sizeof expected, DIGEST_PREFIX "%.64s", de->d_name), !digest_is_valid(expected))) {
                        note(report, userdata, de->d_name, "not a blob name");
                        problems++;
                        continue;
                }
                bfd = openat(s->blobs_fd, de->d_name, O_RDONLY|O_CLOEXEC|O_NOFOLLOW);
                if (bfd < 0) {
                        note(report, userdata, expected, strerror(errno));
                        problems++;
                        continue;
                }
                r = sha256_fd(bfd, got, NULL);
                if (r < 0) {
                        note(report, userdata, expected, strerror(-r));
                        problems++;
                } else if (!streq(got, expected)) {
                        snprintf(msg, sizeof msg, "content does not match its digest (it is %s)", got);
                        note(report, userdata, expected, msg);
                        problems++;
                }
        }
        return problems;
}

int store_verify(Store *s, StoreVerifyReport report, void *userdata) {
        _cleanup_strv_free_ char **names = NULL, **ids = NULL;
        ImageRecord **images = NULL;
        size_t n = 0;
        int problems, r;

        problems = verify_blobs(s, report, userdata);
        if (problems < 0)
                return problems;

        r = store_image_list(s, &images, &n);
        if (r < 0) {
                note(report, userdata, "images/", strerror(-r));
                return problems + 1;
        }
        for (size_t i = 0; i < n; i++) {
                ImageRecord *rec = images[i];
                const char *need[3] = { rec->id, rec->config, rec->aci_manifest };

                for (size_t j = 0; j < ELEMENTSOF(need); j++)
                        if (need[j] && !store_blob_exists(s, need[j])) {
                                note(report, userdata, rec->id, "references a missing blob");
                                problems++;
                        }
                for (size_t j = 0; j < rec->n_layers; j++)
                        if (!store_blob_exists(s, rec->layers[j].digest)) {
                                note(report, userdata, rec->id, "references a missing layer blob");
                                problems++;
                        }
        }
        image_record_array_free(images, n);

        r = store_ref_list(s, &names, &ids);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *id = NULL;

                if (store_image_resolve(s, ids[i], &id) < 0) {
                        note(report, userdata, names[i], "names a missing image");
                        problems++;
                }
        }
        return problems;
}
