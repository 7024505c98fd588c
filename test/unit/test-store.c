/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The store's own mechanics, unprivileged, in a temporary directory: blobs are verified on the way in,
 * a dropped import leaves nothing, records and names round-trip, prefixes resolve, gc and verify. */
#define TESTS_MAIN
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "image-config.h"
#include "store.h"
#include "string-util.h"
#include "tests.h"

static char *make_dir(void) {
        char *d = strdup("/tmp/rocket-test-store.XXXXXX");

        if (!d || !mkdtemp(d))
                TEST_FAIL("mkdtemp: %m");
        return d;
}

static size_t count_entries(const char *path) {
        size_t n = 0;
        DIR *d = opendir(path);

        if (!d)
                return 0;
        for (struct dirent *de; (de = readdir(d)); )
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

/* A minimal image: config + one (empty-ish) layer + manifest, all put into imp. */
static void put_image(StoreImport *imp, char manifest[static DIGEST_STRING_MAX]) {
        char config[DIGEST_STRING_MAX], layer[DIGEST_STRING_MAX], text[1024];
        static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Entrypoint\":[\"/bin/sh\"],"
                                  "\"ExposedPorts\":{\"8080/tcp\":{},\"53\":{}},\"User\":\"app:staff\"}}";
        static const char tar[1024] = {};    /* two zero blocks: an empty tar */

        ASSERT_OK(store_import_put_data(imp, cfg, strlen(cfg), config));
        ASSERT_OK(store_import_put_data(imp, tar, sizeof tar, layer));
        snprintf(text, sizeof text,
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
                 config, strlen(cfg), layer, sizeof tar);
        ASSERT_OK(store_import_put_data(imp, text, strlen(text), manifest));
}

TEST(import_commit_records_and_names) {
        _cleanup_free_ char *dir = make_dir(), *id = NULL, *resolved = NULL, *p = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        _cleanup_(image_record_freep) ImageRecord *rec = NULL;
        _cleanup_(image_config_freep) ImageConfig *cfg = NULL;
        char manifest[DIGEST_STRING_MAX], prefix[16];
        char *names[] = { (char *) "test/app", NULL };

        ASSERT_OK(store_open(dir, STORE_CREATE, &s));
        ASSERT_OK(store_import_begin(s, &imp));
        put_image(imp, manifest);
        ASSERT_FALSE(store_blob_exists(s, manifest));           /* staged, not visible */
        ASSERT_OK(store_import_commit(imp, manifest, IMAGE_FORMAT_OCI, names, &id, NULL));
        ASSERT_STREQ(id, manifest);
        ASSERT_TRUE(store_blob_exists(s, manifest));

        ASSERT_OK(store_image_resolve(s, "test/app", &resolved));       /* ":latest" implied */
        ASSERT_STREQ(resolved, id);
        free(resolved);
        snprintf(prefix, sizeof prefix, "%.8s", digest_hex(id));
        ASSERT_OK(store_image_resolve(s, prefix, &resolved));
        ASSERT_STREQ(resolved, id);
        ASSERT_ERROR(store_image_resolve(s, "nope", &p), ENOENT);

        ASSERT_OK(store_image_load(s, id, &rec));
        ASSERT_EQ(rec->n_layers, 1);
        ASSERT_EQ(rec->format, IMAGE_FORMAT_OCI);
        ASSERT_STREQ(rec->names[0], "test/app:latest");
        ASSERT_OK(image_config_load(s, rec, &cfg));
        ASSERT_STREQ(cfg->entrypoint[0], "/bin/sh");
        ASSERT_STREQ(cfg->user, "app");
        ASSERT_STREQ(cfg->group, "staff");
        ASSERT_TRUE(strv_contains(cfg->ports, "8080-tcp"));
        ASSERT_TRUE(strv_contains(cfg->ports, "53-tcp"));
        rm_rf_at(AT_FDCWD, dir);
}

TEST(dropped_import_leaves_nothing) {
        _cleanup_free_ char *dir = make_dir(), *tmp = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        StoreImport *imp = NULL;
        char manifest[DIGEST_STRING_MAX];

        ASSERT_OK(store_open(dir, STORE_CREATE, &s));
        ASSERT_OK(store_import_begin(s, &imp));
        put_image(imp, manifest);
        store_import_free(imp);
        ASSERT_OK(asprintf(&tmp, "%s/store/tmp", dir) < 0 ? -ENOMEM : 0);
        ASSERT_EQ(count_entries(tmp), 0);
        ASSERT_FALSE(store_blob_exists(s, manifest));
        rm_rf_at(AT_FDCWD, dir);
}

TEST(wrong_digest_is_refused) {
        _cleanup_free_ char *dir = make_dir();
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        char got[DIGEST_STRING_MAX], want[DIGEST_STRING_MAX];
        int fd;

        ASSERT_OK(store_open(dir, STORE_CREATE, &s));
        ASSERT_OK(store_import_begin(s, &imp));
        ASSERT_OK(sha256_data("other", 5, want));
        fd = memfd_create("blob", MFD_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, "content", 7), 7);
        lseek(fd, 0, SEEK_SET);
        ASSERT_ERROR(store_import_put_fd(imp, fd, want, 1024, got, NULL), STORE_ERR_DIGEST_MISMATCH);
        ASSERT_FALSE(store_import_has(imp, want));
        lseek(fd, 0, SEEK_SET);
        ASSERT_ERROR(store_import_put_fd(imp, fd, NULL, 3, got, NULL), EFBIG);      /* over the cap */
        close(fd);
        rm_rf_at(AT_FDCWD, dir);
}

TEST(commit_refuses_missing_blobs) {
        _cleanup_free_ char *dir = make_dir(), *missing = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(store_import_freep) StoreImport *imp = NULL;
        char manifest[DIGEST_STRING_MAX];
        static const char m[] = "{\"schemaVersion\":2,\"config\":{\"digest\":"
                "\"sha256:0000000000000000000000000000000000000000000000000000000000000000\"},\"layers\":[]}";

        ASSERT_OK(store_open(dir, STORE_CREATE, &s));
        ASSERT_OK(store_import_begin(s, &imp));
        ASSERT_OK(store_import_put_data(imp, m, strlen(m), manifest));
        ASSERT_ERROR(store_import_commit(imp, manifest, IMAGE_FORMAT_OCI, NULL, NULL, &missing), ENOENT);
        ASSERT_STREQ(missing, "sha256:0000000000000000000000000000000000000000000000000000000000000000");
        rm_rf_at(AT_FDCWD, dir);
}

TEST(gc_and_verify) {
        _cleanup_free_ char *dir = make_dir(), *id = NULL, *blobs = NULL, *path = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        StoreImport *imp = NULL;
        StoreGcStats st;
        char manifest[DIGEST_STRING_MAX];
        int fd;

        ASSERT_OK(store_open(dir, STORE_CREATE, &s));
        ASSERT_OK(store_import_begin(s, &imp));
        put_image(imp, manifest);
        ASSERT_OK(store_import_commit(imp, manifest, IMAGE_FORMAT_OCI, NULL, &id, NULL));
        store_import_free(imp);
        ASSERT_OK(asprintf(&blobs, "%s/store/blobs/sha256", dir) < 0 ? -ENOMEM : 0);
        ASSERT_EQ(count_entries(blobs), 3);
        ASSERT_EQ(store_verify(s, NULL, NULL), 0);

        /* Used just now: a 1h grace period keeps it. */
        ASSERT_OK(store_gc(s, 3600ULL * 1000000, NULL, &st));
        ASSERT_EQ(st.images, 0);
        ASSERT_EQ(count_entries(blobs), 3);

        /* Corrupt one blob: verify counts it. */
        ASSERT_OK(asprintf(&path, "%s/%s", blobs, digest_hex(manifest)) < 0 ? -ENOMEM : 0);
        chmod(path, 0644);
        fd = open(path, O_WRONLY|O_APPEND);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, " ", 1), 1);
        close(fd);
        ASSERT_EQ(store_verify(s, NULL, NULL), 1);

        /* Kept by the caller's list even with no grace, then gone. */
        char *keep[] = { id, NULL };
        ASSERT_OK(store_gc(s, 0, keep, &st));
        ASSERT_EQ(st.images, 0);
        ASSERT_OK(store_gc(s, 0, NULL, &st));
        ASSERT_EQ(st.images, 1);
        ASSERT_EQ(st.blobs, 3);
        ASSERT_EQ(count_entries(blobs), 0);
        rm_rf_at(AT_FDCWD, dir);
}

TEST(exclusive_lock_excludes) {
        _cleanup_free_ char *dir = make_dir();
        _cleanup_(store_freep) Store *a = NULL, *b = NULL;
        Store *c = NULL;

        ASSERT_OK(store_open(dir, STORE_CREATE, &a));
        ASSERT_ERROR(store_open(dir, STORE_EXCLUSIVE|STORE_NONBLOCK, &c), EWOULDBLOCK);
        ASSERT_OK(store_open(dir, STORE_NONBLOCK, &b));          /* shared with shared is fine */
        rm_rf_at(AT_FDCWD, dir);
}
