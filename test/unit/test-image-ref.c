/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define TESTS_MAIN
#include <stdio.h>

#include "digest.h"
#include "image-ref.h"
#include "store.h"
#include "tests.h"

TEST(oci_refs) {
        _cleanup_(image_ref_freep) ImageRef *a = NULL, *b = NULL;

        ASSERT_OK(image_ref_parse("oci:/tmp/layout:latest", &a));
        ASSERT_EQ(a->type, IMAGE_REF_OCI_DIR);
        ASSERT_STREQ(a->path, "/tmp/layout");
        ASSERT_STREQ(a->tag, "latest");
        ASSERT_OK(image_ref_parse("oci-archive:x.tar", &b));
        ASSERT_EQ(b->type, IMAGE_REF_OCI_ARCHIVE);
        ASSERT_STREQ(b->path, "x.tar");
        ASSERT_NULL(b->tag);
}

TEST(docker_archive_splits_at_first_colon) {
        _cleanup_(image_ref_freep) ImageRef *a = NULL;

        ASSERT_OK(image_ref_parse("docker-archive:/x/b.tar:busybox:v2", &a));
        ASSERT_EQ(a->type, IMAGE_REF_DOCKER_ARCHIVE);
        ASSERT_STREQ(a->path, "/x/b.tar");
        ASSERT_STREQ(a->tag, "busybox:v2");
}

TEST(aci_and_store_refs) {
        _cleanup_(image_ref_freep) ImageRef *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        ASSERT_OK(image_ref_parse("./x.aci", &a));
        ASSERT_EQ(a->type, IMAGE_REF_ACI);
        ASSERT_OK(image_ref_parse("file:///srv/x.aci", &b));
        ASSERT_EQ(b->type, IMAGE_REF_ACI);
        ASSERT_STREQ(b->path, "/srv/x.aci");
        ASSERT_OK(image_ref_parse("example.com/app:1.0", &c));
        ASSERT_EQ(c->type, IMAGE_REF_STORE);
        ASSERT_STREQ(c->name, "example.com/app:1.0");
        ASSERT_OK(image_ref_parse("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &d));
        ASSERT_EQ(d->type, IMAGE_REF_STORE);
}

static void check_docker(const char *s, const char *registry, const char *repo, const char *tag, const char *digest,
                         const char *name) {
        _cleanup_(image_ref_freep) ImageRef *r = NULL;

        ASSERT_OK(image_ref_parse(s, &r));
        ASSERT_EQ(r->type, IMAGE_REF_DOCKER);
        ASSERT_STREQ(r->registry, registry);
        ASSERT_STREQ(r->repository, repo);
        ASSERT_TRUE(streq_ptr(r->tag, tag));
        ASSERT_TRUE(streq_ptr(r->digest, digest));
        ASSERT_STREQ(r->name, name);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TEST(docker_refs_normalised_as_docker_does) {
        check_docker("docker://busybox", "docker.io", "library/busybox", "latest", NULL,
                     "docker.io/library/busybox:latest");
        check_docker("docker://nginx:1.25-alpine", "docker.io", "library/nginx", "1.25-alpine", NULL,
                     "docker.io/library/nginx:1.25-alpine");
        check_docker("docker://bitnami/redis", "docker.io", "bitnami/redis", "latest", NULL,
                     "docker.io/bitnami/redis:latest");
        check_docker("docker://docker.io/library/busybox:1", "docker.io", "library/busybox", "1", NULL,
                     "docker.io/library/busybox:1");
        check_docker("docker://quay.io/coreos/etcd:v3.5", "quay.io", "coreos/etcd", "v3.5", NULL,
                     "quay.io/coreos/etcd:v3.5");
        check_docker("docker://localhost/a", "localhost", "a", "latest", NULL, "localhost/a:latest");
        check_docker("docker://127.0.0.1:5000/x/y_z.w__v-q--r", "127.0.0.1:5000", "x/y_z.w__v-q--r", "latest", NULL,
                     "127.0.0.1:5000/x/y_z.w__v-q--r:latest");
        check_docker("docker://busybox@" D, "docker.io", "library/busybox", NULL, D,
                     "docker.io/library/busybox@" D);
        check_docker("docker://h:5000/a:v1@" D, "h:5000", "a", "v1", D, "h:5000/a:v1@" D);
        ASSERT_STREQ(docker_registry_endpoint("docker.io"), "registry-1.docker.io");
        ASSERT_STREQ(docker_registry_endpoint("h:5000"), "h:5000");
}

TEST(docker_refs_refused) {
        static const char *const bad[] = {
                "docker://", "docker://Busybox", "docker://busybox:", "docker://busybox:-x",
                "docker://a/", "docker://a//b", "docker://-a", "docker://a-", "docker://a...b", "docker://a___b",
                "docker://h:0/a", "docker://h:65536/a", "docker://h:50x/a", "docker://a@sha256:12",
                "docker://a@md5:0123", "docker://a:b/c", "docker://h..x:5000/a", "docker:///a", "docker://[::1]:5000/x",
                "docker://a:0123456789012345678901234567890123456789012345678901234567890123456789"
                "012345678901234567890123456789012345678901234567890123456789",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ImageRef *r = NULL;
                if (image_ref_parse(bad[i], &r) != -EINVAL) {
                        fprintf(stderr, "accepted: %s\n", bad[i]);
                        ASSERT_TRUE(false);
                }
                ASSERT_NULL(r);
        }
}

TEST(bad_refs) {
        ImageRef *r = NULL;

        ASSERT_ERROR(image_ref_parse("oci::latest", &r), EINVAL);
        ASSERT_ERROR(image_ref_parse("oci:/x:", &r), EINVAL);
        ASSERT_ERROR(image_ref_parse("", &r), EINVAL);
        ASSERT_ERROR(image_ref_parse("file://relative", &r), EINVAL);
        ASSERT_ERROR(image_ref_parse("docker-daemon:busybox", &r), EPROTONOSUPPORT);
        ASSERT_ERROR(image_ref_parse("ftp://x/y", &r), EPROTONOSUPPORT);
        ASSERT_ERROR(image_ref_parse("Bad Name", &r), EINVAL);
        ASSERT_ERROR(image_ref_parse("docker-archive:/x.tar:bad name", &r), EINVAL);
        ASSERT_NULL(r);
}

TEST(image_names) {
        ASSERT_TRUE(image_name_is_valid("busybox"));
        ASSERT_TRUE(image_name_is_valid("example.com/app:1.0"));
        ASSERT_TRUE(image_name_is_valid("localhost:5000/a/b@x"));
        ASSERT_FALSE(image_name_is_valid("../etc"));
        ASSERT_FALSE(image_name_is_valid("a/../b"));
        ASSERT_FALSE(image_name_is_valid("/abs"));
        ASSERT_FALSE(image_name_is_valid("a//b"));
        ASSERT_FALSE(image_name_is_valid("sha256:abc"));
        ASSERT_FALSE(image_name_is_valid("with space"));
}

TEST(digests) {
        char d[DIGEST_STRING_MAX];

        ASSERT_OK(sha256_data("abc", 3, d));
        ASSERT_STREQ(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        ASSERT_TRUE(digest_is_valid(d));
        ASSERT_FALSE(digest_is_valid("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
        ASSERT_FALSE(digest_is_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        ASSERT_FALSE(digest_is_valid("sha256:ba78"));
        ASSERT_FALSE(digest_is_valid(NULL));
}

TEST(table_round_trips) {
        for (ImageFormat f = 0; f < _IMAGE_FORMAT_MAX; f++)
                ASSERT_EQ(image_format_from_string(image_format_to_string(f)), f);
        ASSERT_EQ(image_format_from_string("tarball"), -EINVAL);
        ASSERT_STREQ(image_ref_type_to_string(IMAGE_REF_DOCKER_ARCHIVE), "docker-archive");
}
